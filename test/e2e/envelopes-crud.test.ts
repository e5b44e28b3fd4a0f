/**
 * End to end, PostgreSQL → slotline → Kafka: the exact records of insert,
 * update, delete, truncate and logical decoding messages (transactional and
 * not), with JsonConverter schemas and without, and the `slotline.lsn` /
 * `slotline.txid` headers on each record.
 *
 * One slotline run per PostgreSQL major with two Kafka sinks: the global
 * `schemas_enable: false` applies to `plain` (topics `plain.<prefix>.…`),
 * and the Debezium-topic sink overrides it with `schemas_enable: true`.
 *
 * The expected text is Debezium 3.6.1's (shared/reference/debezium.md §1–2; the
 * insert is the reference's own example). Intended differences, shown here:
 * a non-transactional message carries the processing time in `source.ts_*`
 * (docs/type-mapping.md, deviation 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { canonicalize, checkUnits, startEnvelopeRun, type CanonicalRecord, type EnvelopeRun, type Unit } from './envelope-support.ts';
import {
  envelopePayload, envelopeSchema, field, keySchema, MESSAGE_KEY_SCHEMA, MESSAGE_VALUE_SCHEMA, messagePayload, record, TX_HEADERS, type SourceSpec,
} from './expected/debezium-json.ts';

const SETUP = `
CREATE TABLE public.items (id integer PRIMARY KEY, name varchar(64) NOT NULL, price numeric(10,2), updated_at timestamptz);
`;

const ITEM_FIELDS = [
  field('int32', false, 'id'),
  field('string', false, 'name'),
  field('bytes', true, 'price', '"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}'),
  field('string', true, 'updated_at', '"name":"io.debezium.time.ZonedTimestamp","version":1'),
];

describe.each(pgServers().map((s) => s.major))('envelopes of every operation, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({
      name: `env_crud_${major}`,
      major,
      setupSql: SETUP,
      mainExtra: 'schemas_enable: false\nskipped_operations: none',
      kafkaExtra: 'schemas_enable: true',
      extraSinks: {
        plain: `topic: 'plain.{prefix}.{schema}.{table}'\nmessage_topic: 'plain.{prefix}.message'\ncreate_topics:\n  enabled: true`,
      },
    });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('writes Debezium\'s exact keys, values and tombstones, with and without schemas, with LSN and txid headers', async () => {
    const units: Unit[] = [];
    units.push(await run.tx("INSERT INTO public.items VALUES (1, 'Widget', 12.34, '2024-05-01 10:00:00+00')"));
    units.push(await run.tx('UPDATE public.items SET price = 10.00 WHERE id = 1'));
    units.push(await run.tx([
      "SELECT pg_logical_emit_message(true, 'audit', 'hello')",
      "INSERT INTO public.items (id, name) VALUES (2, 'Gadget')",
    ]));
    units.push(await run.nonTransactionalMessage('audit', 'bye'));
    units.push(await run.tx('DELETE FROM public.items WHERE id = 1'));
    units.push(await run.tx('TRUNCATE public.items'));

    const { prefix } = run;
    const topics = [`${prefix}.public.items`, `${prefix}.message`, `plain.${prefix}.public.items`, `plain.${prefix}.message`];
    const records = await run.drain(topics, units.at(-1)!);
    const { records: canonical, facts, problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(checkUnits(facts, units)).toEqual([]);
    expect(canonical).toEqual([...expected(prefix, run.db.database, true, ''), ...expected(prefix, run.db.database, false, 'plain.')]);
  });
});

function expected(prefix: string, db: string, schemas: boolean, topicPrefix: string): CanonicalRecord[] {
  const stem = `${prefix}.public.items`;
  const itemsTopic = `${topicPrefix}${stem}`;
  const messageTopic = `${topicPrefix}${prefix}.message`;
  const source: SourceSpec = { prefix, db, schema: 'public', table: 'items' };
  const key = (id: number): string => record(keySchema(stem, [field('int32', false, 'id')]), `{"id":${id}}`, schemas);
  const value = (op: 'c' | 'u' | 'd' | 't', before: string | null, after: string | null): string =>
    record(envelopeSchema(stem, ITEM_FIELDS), envelopePayload(op, before, after, source), schemas);
  const message = (content: string, transactional: boolean): string =>
    record(MESSAGE_VALUE_SCHEMA, messagePayload('audit', content, { ...source, transactional }), schemas);
  const item = (k: string | null, v: string | null): CanonicalRecord => ({ topic: itemsTopic, partition: 0, key: k, value: v, headers: { ...TX_HEADERS } });
  const widget = '{"id":1,"name":"Widget","price":"BNI=","updated_at":"2024-05-01T10:00:00.000000Z"}';
  return [
    item(key(1), value('c', null, widget)),
    // REPLICA IDENTITY DEFAULT: no old tuple for an update that keeps the key, so before is null.
    item(key(1), value('u', null, '{"id":1,"name":"Widget","price":"A+g=","updated_at":"2024-05-01T10:00:00.000000Z"}')),
    item(key(2), value('c', null, '{"id":2,"name":"Gadget","price":null,"updated_at":null}')),
    // A delete's old tuple holds the key only: NOT NULL name gets Debezium's fallback "", the rest null.
    item(key(1), value('d', '{"id":1,"name":"","price":null,"updated_at":null}', null)),
    item(key(1), null),
    item(null, value('t', null, null)),
    { topic: messageTopic, partition: 0, key: record(MESSAGE_KEY_SCHEMA, '{"prefix":"audit"}', schemas), value: message('aGVsbG8=', true), headers: { ...TX_HEADERS } },
    { topic: messageTopic, partition: 0, key: record(MESSAGE_KEY_SCHEMA, '{"prefix":"audit"}', schemas), value: message('Ynll', false), headers: { 'slotline.lsn': '<lsn>' } },
  ];
}
