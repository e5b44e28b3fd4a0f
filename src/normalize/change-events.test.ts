import { describe, expect, it } from 'vitest';
import {
  normalizeDelete, normalizeInsert, normalizeTruncate, normalizeUpdate, type EventContext, type TxContext,
} from './change-events.ts';
import { ConversionError } from './conversion-error.ts';
import { serializeValue } from './json-converter.ts';
import { buildMessageModel, normalizeMessage } from './logical-message.ts';
import { buildTableModel, type RelationMeta } from './table-model.ts';
import { lookup, options, relation } from './testing.ts';

const OPTS = options();
const TX: TxContext = { xid: 777, commitTimeUs: 1700000000000001n, finalLsn: 0x2000n, lastCommitLsn: 0x1000n, origin: null };
const ctx = (lsn: bigint, tx: Partial<TxContext> = {}): EventContext => ({ tx: { ...TX, ...tx }, lsn, nowNs: 1700000000500000123n });

// CREATE TABLE public.docs (id int PRIMARY KEY, title text NOT NULL, body text, tags text[], qty int NOT NULL DEFAULT 1, data bytea)
const DOCS = relation([['id', 23, { key: true }], ['title', 25], ['body', 25], ['tags', 1009], ['qty', 23], ['data', 17]]);
const DOCS_META: RelationMeta = {
  columns: new Map([
    ['id', { notNull: true, defaultExpression: null }],
    ['title', { notNull: true, defaultExpression: null }],
    ['body', { notNull: false, defaultExpression: null }],
    ['tags', { notNull: false, defaultExpression: null }],
    ['qty', { notNull: true, defaultExpression: '1' }],
    ['data', { notNull: false, defaultExpression: null }],
  ]),
  keyColumns: ['id'],
};
const docs = (identity: 'default' | 'full' = 'default') => buildTableModel({ ...DOCS, replicaIdentity: identity }, lookup, OPTS, DOCS_META);
const P = '__debezium_unavailable_value';

describe('source block', () => {
  it('carries commit time, xid, lsn, and sequence [lastCommitLsn, lsn] as decimal strings', () => {
    const e = normalizeInsert(docs(), ['1', 't', null, null, '2', null], OPTS, ctx(0x2008n));
    expect(e.source).toEqual({
      version: '3.6.1.Final', connector: 'postgresql', name: 'pg', ts_ms: 1700000000000n, snapshot: null, db: 'app',
      sequence: '["4096","8200"]', ts_us: 1700000000000001n, ts_ns: 1700000000000001000n, schema: 'public', table: 'items',
      txId: 777n, lsn: 0x2008n, xmin: null, origin: null, origin_lsn: null,
    });
    expect(e.tsUs).toBe(1700000000500000n);
    expect(e.commitLsn).toBe(0x2000n);
  });

  it('writes null for an unknown last commit, and the origin when the transaction had one', () => {
    const e = normalizeInsert(docs(), ['1', 't', null, null, '2', null], OPTS, ctx(0x2008n, { lastCommitLsn: null, origin: { name: 'pg_17', lsn: 0x99n } }));
    expect(e.source.sequence).toBe('[null,"8200"]');
    expect([e.source.origin, e.source.origin_lsn]).toEqual(['pg_17', 0x99n]);
  });

  it('serializes in Debezium field order with the envelope fields last', () => {
    const json = serializeValue(normalizeInsert(docs(), ['1', 't', null, null, '2', null], OPTS, ctx(0x2008n)), { schemasEnable: false });
    expect(Object.keys(JSON.parse(json))).toEqual(['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    expect(json).toContain('"ts_ms":1700000000500,"ts_us":1700000000500000,"ts_ns":1700000000500000123}');
  });
});

describe('insert, update, delete by replica identity', () => {
  it('insert: after only, key from the key columns', () => {
    const e = normalizeInsert(docs(), ['1', 'Title', 'Body', '{a,b}', '3', '\\x00ff'], OPTS, ctx(1n));
    expect([e.op, e.before, e.key]).toEqual(['c', null, { id: 1 }]);
    expect(e.after).toEqual({ id: 1, title: 'Title', body: 'Body', tags: ['a', 'b'], qty: 3, data: Buffer.from([0, 255]) });
  });

  it('update under DEFAULT identity: before is null; unchanged TOAST gets typed placeholders', () => {
    const [e, ...rest] = normalizeUpdate(docs(), { newTuple: ['1', 'T2', undefined, undefined, '3', undefined] }, OPTS, ctx(2n));
    expect(rest).toEqual([]);
    expect([e.op, e.before, e.key]).toEqual(['u', null, { id: 1 }]);
    expect(e.after).toEqual({ id: 1, title: 'T2', body: P, tags: [P], qty: 3, data: Buffer.from(P) });
  });

  it('update under FULL identity: before is the old row, and unchanged TOAST is taken from it', () => {
    const old = ['1', 'T1', 'long body', '{x}', '3', '\\x01'];
    const [e] = normalizeUpdate(docs('full'), { oldTuple: old, newTuple: ['1', 'T2', undefined, undefined, '4', undefined] }, OPTS, ctx(3n));
    expect(e.op).toBe('u');
    expect(e.before).toEqual({ id: 1, title: 'T1', body: 'long body', tags: ['x'], qty: 3, data: Buffer.from([1]) });
    expect(e.after).toEqual({ id: 1, title: 'T2', body: 'long body', tags: ['x'], qty: 4, data: Buffer.from([1]) });
  });

  it('a key change becomes d (old key, before) + c (new key, after), each naming the other key', () => {
    const events = normalizeUpdate(
      docs(),
      { keyTuple: ['1', null, null, null, null, null], newTuple: ['2', 'T', 'B', null, '5', null] },
      OPTS, ctx(4n),
    );
    expect(events.map((e) => e.op)).toEqual(['d', 'c']);
    const [d, c] = events;
    expect([d.key, d.after, d.keyChange]).toEqual([{ id: 1 }, null, { key: { id: 2 }, header: '__debezium.newkey' }]);
    // NOT NULL columns missing from the key tuple: default if any (qty), else the type fallback (title).
    expect(d.before).toEqual({ id: 1, title: '', body: null, tags: null, qty: 1, data: null });
    expect([c.key, c.before, c.keyChange]).toEqual([{ id: 2 }, null, { key: { id: 1 }, header: '__debezium.oldkey' }]);
    expect(c.after).toEqual({ id: 2, title: 'T', body: 'B', tags: null, qty: 5, data: null });
    expect([d.source.lsn, c.source.lsn]).toEqual([4n, 4n]);
  });

  it('a FULL-identity update that keeps the key stays an update', () => {
    const old = ['1', 'a', null, null, '1', null];
    expect(normalizeUpdate(docs('full'), { oldTuple: old, newTuple: ['1', 'b', null, null, '1', null] }, OPTS, ctx(5n)).map((e) => e.op)).toEqual(['u']);
  });

  it('a keyless table never splits updates', () => {
    const keyless = buildTableModel({ ...DOCS, replicaIdentity: 'full' }, lookup, OPTS, { ...DOCS_META, keyColumns: [] });
    const [e] = normalizeUpdate(keyless, { oldTuple: ['1', 'a', null, null, '1', null], newTuple: ['2', 'a', null, null, '1', null] }, OPTS, ctx(6n));
    expect([e.op, e.key]).toEqual(['u', null]);
  });

  it('delete under DEFAULT identity: before has the key and NOT NULL fallbacks; key stays for the tombstone', () => {
    const e = normalizeDelete(docs(), { keyTuple: ['9', null, null, null, null, null] }, OPTS, ctx(7n));
    expect([e.op, e.after, e.key]).toEqual(['d', null, { id: 9 }]);
    expect(e.before).toEqual({ id: 9, title: '', body: null, tags: null, qty: 1, data: null });
  });

  it('delete under FULL identity: before is the whole old row', () => {
    const e = normalizeDelete(docs('full'), { oldTuple: ['9', 't', 'b', '{}', '2', '\\x'] }, OPTS, ctx(8n));
    expect(e.before).toEqual({ id: 9, title: 't', body: 'b', tags: [], qty: 2, data: Buffer.alloc(0) });
  });

  it('a value that does not parse is a per-record ConversionError naming the column', () => {
    const attempt = () => normalizeInsert(docs(), ['x', 't', null, null, '1', null], OPTS, ctx(9n));
    expect(attempt).toThrow(ConversionError);
    expect(attempt).toThrow(/column "id" \(int4\)/);
  });

  it('a ConversionError never holds the value, only its length: it reaches logs and dead letters, and a sink may mask the column', () => {
    const attempt = () => normalizeInsert(docs(), ['secret-ssn-123', 't', null, null, '1', null], OPTS, ctx(9n));
    expect(attempt).toThrow('cannot convert column "id" (int4) value of 14 characters (not shown)');
    expect(attempt).not.toThrow(/secret/);
  });

  it('estimates size from the column text without serializing', () => {
    const small = normalizeInsert(docs(), ['1', 't', null, null, '1', null], OPTS, ctx(10n));
    const big = normalizeInsert(docs(), ['1', 't', 'x'.repeat(10_000), null, '1', null], OPTS, ctx(10n));
    expect(small.size).toBeGreaterThan(100);
    expect(big.size - small.size).toBeGreaterThanOrEqual(10_000);
  });
});

describe('truncate', () => {
  it('emits one t per table with a null key and null before/after', () => {
    const a = docs();
    const b = buildTableModel(relation([['k', 23, { key: true }]], 'default', 'other'), lookup, OPTS);
    const events = normalizeTruncate([a, b], OPTS, ctx(11n));
    expect(events.map((e) => [e.op, e.table, e.key, e.before, e.after])).toEqual([['t', 'items', null, null, null], ['t', 'other', null, null, null]]);
  });
});

describe('logical decoding messages', () => {
  const model = buildMessageModel(OPTS);
  const content = Buffer.from('{"x":1}');

  it('transactional: key {prefix}, topic <prefix>.message, MessageValue payload with the transaction\'s source', () => {
    const e = normalizeMessage(model, { prefix: 'outbox', content, transactional: true }, OPTS, ctx(12n));
    expect([e.op, e.key, e.schemas.topicStem, e.source.txId, e.source.schema, e.source.table]).toEqual(['m', { prefix: 'outbox' }, 'pg.message', 777n, '', '']);
    expect(serializeValue(e, { schemasEnable: false })).toBe(
      '{"op":"m","ts_ms":1700000000500,"source":{"version":"3.6.1.Final","connector":"postgresql","name":"pg","ts_ms":1700000000000,"snapshot":"false",'
      + '"db":"app","sequence":"[\\"4096\\",\\"12\\"]","ts_us":1700000000000001,"ts_ns":1700000000000001000,"schema":"","table":"","txId":777,"lsn":12,'
      + '"xmin":null,"origin":null,"origin_lsn":null},"transaction":null,"message":{"prefix":"outbox","content":"eyJ4IjoxfQ=="}}',
    );
  });

  it('non-transactional: no txId, processing time as source time, commitLsn 0', () => {
    const e = normalizeMessage(model, { prefix: 'p', content, transactional: false }, OPTS, ctx(13n));
    expect([e.source.txId, e.source.ts_us, e.commitLsn]).toEqual([null, 1700000000500000n, 0n]);
  });

  it('content follows binary.handling.mode', () => {
    const hex = options({ binaryHandlingMode: 'hex' });
    const e = normalizeMessage(buildMessageModel(hex), { prefix: 'p', content, transactional: true }, hex, ctx(14n));
    expect(e.message).toEqual({ prefix: 'p', content: '7b2278223a317d' });
    expect(serializeValue(e)).toContain('{"type":"string","optional":true,"field":"content"}');
  });
});
