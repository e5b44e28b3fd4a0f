/**
 * End to end, the initial snapshot into Kafka: rows that exist before slotline
 * starts arrive as `op: r` events exactly as the stream would print them, with
 * Debezium's `source.snapshot` markers; writes racing with the start are
 * delivered once — by the snapshot or by the stream, never both, never neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { readNewTopics } from './snapshot-support.ts';
import { runInProcess, writeConfig, type ConsumedRecord, type TopicReader } from './support.ts';

const TYPES = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE public.types (
  id int PRIMARY KEY,
  small smallint, big bigint, real_v real, dbl double precision, flag boolean,
  name text, chr char(3), vc varchar(10), price numeric(10,2), vnum numeric, money_v money,
  ts timestamp(6), tstz timestamptz, d date, t time, ttz timetz, iv interval,
  js jsonb, jtext json, tags text[], nums int[], raw bytea, uid uuid, m mood, p positive,
  r int4range, bits bit(4), vbits varbit(8), inet_v inet, cidr_v cidr, mac macaddr, pt point, x xml
);
CREATE TABLE public.other (k text PRIMARY KEY, v int);
CREATE TABLE public.empty (id int PRIMARY KEY);
INSERT INTO public.types VALUES
  (1, -3, 9007199254740993, 1.5, 2.25, true, 'Widget', 'ab', 'vc', 12.34, 3.14159, 12.5,
   '2024-05-01 10:00:00.123456', '2024-05-01 10:00:00+02', '2024-05-01', '13:45:30.5', '13:45:30+05', '1 year 2 mons 3 days 04:05:06.7',
   '{"a": 1, "b": [1, 2]}', '{"x": "y"}', '{a,"b c",NULL}', '{1,2,3}', '\\x0102ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 7,
   '[1,10)', B'1010', B'101', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '(1.5,-2)', '<a>b</a>'),
  (2, NULL, NULL, 'NaN', '-Infinity', false, '', NULL, NULL, -0.5, 'NaN', -1,
   '-infinity', 'infinity', '0001-01-01 BC', '00:00', '00:00+00', '-1 day',
   'null', '[]', '{}', '{}', '\\x', NULL, 'sad', NULL,
   'empty', B'0000', B'', '::1', '::/0', 'ff:ff:ff:ff:ff:ff', '(0,0)', NULL),
  (3, 1, 2, 3, 4, NULL, 'ünïcødé ✓', 'xyz', 'v', 0, 100000000000000000000.000001, 0,
   '2038-01-19 03:14:08', '1970-01-01 00:00:00+00', '2000-02-29', '23:59:59.999999', '12:00:00-03:30', 'PT0S',
   '{"deep": {"n": [1.5, true, null]}}', '{}', '{"quote\\"d"}', '{-1}', NULL, '00000000-0000-0000-0000-000000000000', 'ok', 1,
   '(,5]', B'1111', B'11111111', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', '(1e10,1e-10)', '<x/>');
INSERT INTO public.other VALUES ('only', 42);
`;

const value = (r: ConsumedRecord): any => JSON.parse(r.value!);
const ofOp = (records: ConsumedRecord[], op: string): ConsumedRecord[] => records.filter((r) => r.value !== null && value(r).payload.op === op);

describe('initial snapshot into Kafka', () => {
  let db: FreshDatabase;
  let prefix: string;
  let reader: TopicReader;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await freshDatabase('snap_initial');
    await db.sql(TYPES);
    prefix = uniqueName('snapinit');
    const config = await writeConfig({ db, slot: uniqueName('snap_initial'), publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers() });
    // Every table's topic, and the state table's, which must stay empty.
    reader = await readNewTopics(['types', 'other', 'slotline_snapshots'].map((t) => `${prefix}.public.${t}`));
    stops.push(() => reader.close());
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('reads existing rows as op r with Debezium snapshot markers, then streams', async () => {
    const records = await reader.waitFor((rs) => ofOp(rs, 'r').length === 4, 60_000);
    const reads = ofOp(records, 'r').map(value);
    // One connection reads tables in name order: empty, other, types (topics of one partition keep that order).
    const markers = (table: string): string[] => reads.filter((v) => v.payload.source.table === table).map((v) => v.payload.source.snapshot);
    expect(markers('other')).toEqual(['first']);
    expect(markers('types')).toEqual(['first_in_data_collection', 'true', 'last']);
    for (const v of reads) {
      expect(v.payload.before).toBeNull();
      expect(v.payload.source.txId).toBeNull();
      expect(typeof v.payload.source.lsn).toBe('number');
      expect(Math.abs(v.payload.source.ts_ms - Date.now())).toBeLessThan(120_000);
    }
    expect(reads.find((v) => v.payload.source.table === 'other').payload.after).toEqual({ k: 'only', v: 42 });

    // The stream then prints the same rows (an UPDATE that changes nothing): value for value, schema for schema.
    await db.sql('UPDATE public.types SET id = id');
    const all = await reader.waitFor((rs) => ofOp(rs, 'u').length === 3, 60_000);
    const updates = new Map(ofOp(all, 'u').map((r) => [r.key, value(r)]));
    for (const r of ofOp(all, 'r').filter((r) => r.topic.endsWith('.types'))) {
      const streamed = updates.get(r.key)!;
      expect(streamed, `update of ${r.key}`).toBeDefined();
      expect(value(r).payload.after).toEqual(streamed.payload.after);
      expect(value(r).schema).toEqual(streamed.schema);
      expect(r.headers['slotline.lsn']).toBeDefined();
    }
    // The publication is FOR ALL TABLES, so the snapshot state table's own update was decoded too: never routed.
    expect(all.filter((r) => r.topic.includes('slotline_snapshots'))).toEqual([]);
  });
});
