import { describe, expect, it } from 'vitest';
import { normalizeDelete, normalizeInsert, normalizeRead, normalizeTruncate, normalizeUpdate, type EventContext, type TxContext } from '../../src/normalize/change-events.ts';
import { buildTableModel, type RelationMeta } from '../../src/normalize/table-model.ts';
import { lookup, options, relation } from '../../src/normalize/testing.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { unavailableColumns } from './elasticsearch-documents.ts';
import { createIdMaker, createIndexNamer } from './elasticsearch-names.ts';
import { fillFromStored, planWrite, type DocOp, type Segment } from './elasticsearch-plan.ts';

const OPTS = options();
const TX: TxContext = { xid: 7, commitTimeUs: 1700000000000001n, finalLsn: 0x2000n, lastCommitLsn: 0x1000n, origin: null };
const ctx = (lsn: bigint): EventContext => ({ tx: TX, lsn, nowNs: 1700000000500000123n });
// CREATE TABLE public.docs (id int PRIMARY KEY, title text, body text, tags text[], data bytea)
const DOCS = relation([['id', 23, { key: true }], ['title', 25], ['body', 25], ['tags', 1009], ['data', 17]], 'default', 'docs');
const META: RelationMeta = {
  columns: new Map(['id', 'title', 'body', 'tags', 'data'].map((c) => [c, { notNull: c === 'id', defaultExpression: null }])),
  keyColumns: ['id'],
};
const model = buildTableModel(DOCS, lookup, OPTS, META);
const insert = (lsn: bigint, id: number, title: string, body: string): ChangeEvent => normalizeInsert(model, [String(id), title, body, '{a}', '\\x01'], OPTS, ctx(lsn));
/** An update that leaves body, tags and data (TOASTed, unchanged) out: pgoutput sends 'u' for them. */
const toastUpdate = (lsn: bigint, id: number, title: string): ChangeEvent => normalizeUpdate(model, { newTuple: [String(id), title, undefined, undefined, undefined] }, OPTS, ctx(lsn))[0];
const update = (lsn: bigint, id: number, title: string, body: string): ChangeEvent => normalizeUpdate(model, { newTuple: [String(id), title, body, '{a}', '\\x01'] }, OPTS, ctx(lsn))[0];
const remove = (lsn: bigint, id: number): ChangeEvent => normalizeDelete(model, { keyTuple: [String(id), null, null, null, null] }, OPTS, ctx(lsn));

const PLAN = { indexOf: createIndexNamer('{schema}.{table}', 'pg'), idOf: createIdMaker(undefined), document: {}, placeholder: OPTS.unavailableValuePlaceholder };
const ops = (segment: Segment): DocOp[] => (segment.kind === 'ops' ? segment.ops : []);

describe('unavailableColumns', () => {
  it('finds every unchanged-TOAST placeholder shape the normalizer produces, and only those', () => {
    expect(unavailableColumns(toastUpdate(0x10n, 1, 't').after!, PLAN.placeholder)).toEqual(['body', 'tags', 'data']);
    expect(unavailableColumns(update(0x10n, 1, 't', 'b').after!, PLAN.placeholder)).toEqual([]);
  });
});

describe('planWrite', () => {
  it('never lets a snapshot read replace a newer streamed change of the same document', () => {
    // A re-snapshot's read of id 1 (version 0x08: the slot's restart LSN) arrives after the update at 0x30.
    const read = normalizeRead(model, ['1', 'old', 'x', '{a}', '\\x01'], OPTS, ctx(0x50n), 'incremental', 0x08n);
    const segments = planWrite([update(0x30n, 1, 'new', 'y'), read, insert(0x60n, 2, 'b', 'z')], PLAN);
    expect(ops(segments[0]).map((op) => [op.id, op.version, op.doc?.title])).toEqual([['1', 0x30n, 'new'], ['2', 0x60n, 'b']]);
  });

  it('keeps only the last change of each document, versioned by its LSN, in order of last change', () => {
    const segments = planWrite([insert(0x10n, 1, 'a', 'x'), insert(0x20n, 2, 'b', 'y'), update(0x30n, 1, 'c', 'z'), remove(0x40n, 2)], PLAN);
    expect(segments).toHaveLength(1);
    expect(ops(segments[0]).map((op) => [op.kind, op.index, op.id, op.version, op.doc?.title ?? null, op.eventIndex])).toEqual([
      ['index', 'public.docs', '1', 0x30n, 'c', 2],
      ['delete', 'public.docs', '2', 0x40n, null, 3],
    ]);
  });

  it('fills TOAST columns from an earlier change of the row in the same write, else asks for the stored document', () => {
    const [same] = planWrite([insert(0x10n, 1, 'a', 'body-1'), toastUpdate(0x20n, 1, 'b')], PLAN);
    expect(ops(same)[0]).toMatchObject({ version: 0x20n, needsStored: [], doc: { id: 1, title: 'b', body: 'body-1', tags: ['a'], data: 'AQ==' } });

    const [alone] = planWrite([toastUpdate(0x20n, 1, 'b'), toastUpdate(0x30n, 1, 'c')], PLAN);
    const op = ops(alone)[0];
    expect(op.needsStored).toEqual(['body', 'tags', 'data']);
    expect(fillFromStored(op, { id: 1, title: 'old', body: 'stored', tags: ['s'] })).toEqual(['data']);
    expect(op.doc).toEqual({ id: 1, title: 'c', body: 'stored', tags: ['s'] });
  });

  it('splits the write at a truncate so changes before and after it apply in order', () => {
    const truncate = normalizeTruncate([model], OPTS, ctx(0x30n))[0];
    const segments = planWrite([insert(0x10n, 1, 'a', 'x'), truncate, insert(0x40n, 1, 'b', 'y')], PLAN);
    expect(segments.map((s) => s.kind)).toEqual(['ops', 'truncate', 'ops']);
    expect(ops(segments[2])[0]).toMatchObject({ id: '1', version: 0x40n });
  });
});
