/**
 * End to end: tombstones and primary-key changes (shared/reference/debezium.md §1.4).
 *
 * - Each delete is followed at once by a tombstone: same key, null value, the
 *   delete's headers (Debezium copies them onto the tombstone).
 * - An UPDATE that changes the primary key becomes `d` (old key, header
 *   `__debezium.newkey`), its tombstone, then `c` (new key, header
 *   `__debezium.oldkey`). The header holds the key as the record key is
 *   written (JsonConverter, with or without schema): what Debezium Server and
 *   the embedded engine write with their default `json` header format
 *   (JsonConverter as header converter). Kafka Connect's default
 *   SimpleHeaderConverter would write `{"id":30}` even with schemas on.
 * - With `tombstones_on_delete: false` the same stream has no null values.
 *
 * Two sinks on one slot: `kafka` (Debezium topics, schemas, tombstones by
 * default) and `bare` (topics `bare.<prefix>.…`, `schemas_enable: false`,
 * `tombstones_on_delete: false`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { canonicalize, checkUnits, startEnvelopeRun, type CanonicalRecord, type EnvelopeRun, type Unit } from './envelope-support.ts';
import { envelopePayload, envelopeSchema, field, keySchema, record, TX_HEADERS } from './expected/debezium-json.ts';

const SETUP = 'CREATE TABLE public.accounts (id integer PRIMARY KEY, owner text NOT NULL);';

describe.each(pgServers().map((s) => s.major))('tombstones and key changes, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({
      name: `env_tomb_${major}`,
      major,
      setupSql: SETUP,
      extraSinks: {
        bare: "topic: 'bare.{prefix}.{schema}.{table}'\nschemas_enable: false\ntombstones_on_delete: false\ncreate_topics:\n  enabled: true",
      },
    });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('follows every delete with a tombstone, splits a key change into d + tombstone + c, and omits tombstones when told', async () => {
    const units: Unit[] = [];
    units.push(await run.tx("INSERT INTO public.accounts VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')"));
    units.push(await run.tx('DELETE FROM public.accounts WHERE id IN (1, 2)'));
    units.push(await run.tx('UPDATE public.accounts SET id = 30 WHERE id = 3'));
    units.push(await run.tx('DELETE FROM public.accounts WHERE id = 30'));

    const { prefix } = run;
    const topics = [`${prefix}.public.accounts`, `bare.${prefix}.public.accounts`];
    const records = await run.drain(topics, units.at(-1)!);
    const { records: canonical, facts, problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(checkUnits(facts, units)).toEqual([]);
    expect(canonical).toEqual([...expected(prefix, run.db.database, true), ...expected(prefix, run.db.database, false)]);

    // The key change's three records share the UPDATE's LSN and transaction.
    const keyChange = records.filter((r) => r.headers['slotline.txid'] === String(units[2].xid) && r.topic === topics[0]);
    expect(keyChange).toHaveLength(3);
    expect(new Set(keyChange.map((r) => r.headers['slotline.lsn'])).size).toBe(1);
  });
});

function expected(prefix: string, db: string, schemas: boolean): CanonicalRecord[] {
  const stem = `${prefix}.public.accounts`;
  const topic = schemas ? stem : `bare.${stem}`;
  const source = { prefix, db, schema: 'public', table: 'accounts' };
  const key = (id: number): string => record(keySchema(stem, [field('int32', false, 'id')]), `{"id":${id}}`, schemas);
  const value = (op: 'c' | 'd', before: string | null, after: string | null): string =>
    record(envelopeSchema(stem, [field('int32', false, 'id'), field('string', false, 'owner')]), envelopePayload(op, before, after, source), schemas);
  const rec = (k: string, v: string | null, headers: Record<string, string> = {}): CanonicalRecord =>
    ({ topic, partition: 0, key: k, value: v, headers: { ...TX_HEADERS, ...headers } });
  // REPLICA IDENTITY DEFAULT: a delete (and the old row of a key change) holds the key only; NOT NULL owner gets "".
  const deleted = (id: number): string => value('d', `{"id":${id},"owner":""}`, null);
  const created = (id: number, owner: string): string => value('c', null, `{"id":${id},"owner":"${owner}"}`);
  const tombstone = (id: number, headers: Record<string, string> = {}): CanonicalRecord[] => (schemas ? [rec(key(id), null, headers)] : []);
  const newKey = { '__debezium.newkey': key(30) };
  const oldKey = { '__debezium.oldkey': key(3) };
  return [
    rec(key(1), created(1, 'ann')),
    rec(key(2), created(2, 'bob')),
    rec(key(3), created(3, 'cy')),
    rec(key(1), deleted(1)),
    ...tombstone(1),
    rec(key(2), deleted(2)),
    ...tombstone(2),
    rec(key(3), deleted(3), newKey),
    ...tombstone(3, newKey),
    rec(key(30), created(30, 'cy'), oldKey),
    rec(key(30), deleted(30)),
    ...tombstone(30),
  ];
}
