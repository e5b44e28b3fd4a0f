/**
 * End to end: identifiers with spaces, quotes, capitals and non-ASCII letters.
 *
 * Schema `"Sales Dept"`, table `"Ünïcode ""quoted"" Table"`, columns
 * `"Order ID"` (the key), `"Mixed Case"` and `"Prix ""€"""`:
 * - `source.schema` / `source.table` and the field names carry the exact names
 *   (JSON-escaped quotes, non-ASCII written as is, as Jackson does);
 * - the topic is Debezium's sanitized name: every character outside
 *   [A-Za-z0-9._-] becomes `_` (AbstractTopicNamingStrategy.sanitizedTopicName);
 * - the Key/Value/Envelope schema names use that sanitized topic name as their
 *   stem (TableSchemaBuilder: recordSchemaPrefix = dataChangeTopic).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { canonicalize, checkUnits, startEnvelopeRun, type CanonicalRecord, type EnvelopeRun, type Unit } from './envelope-support.ts';
import { envelopePayload, envelopeSchema, field, keySchema, record, TX_HEADERS } from './expected/debezium-json.ts';

const TABLE = '"Sales Dept"."Ünïcode ""quoted"" Table"';
const SETUP = `
CREATE SCHEMA "Sales Dept";
CREATE TABLE ${TABLE} ("Order ID" integer PRIMARY KEY, "Mixed Case" text NOT NULL, "Prix ""€""" numeric(6,2));
`;

describe.each(pgServers().map((s) => s.major))('quoted and non-ASCII identifiers, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: `env_ident_${major}`, major, setupSql: SETUP });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('keeps the exact names in events and sanitizes only the topic and schema names', async () => {
    const units: Unit[] = [];
    units.push(await run.tx(`INSERT INTO ${TABLE} VALUES (7, 'Ça va "bien"', 1.50)`));
    units.push(await run.tx(`UPDATE ${TABLE} SET "Mixed Case" = 'ÀÉÎ' WHERE "Order ID" = 7`));
    units.push(await run.tx(`DELETE FROM ${TABLE} WHERE "Order ID" = 7`));

    const topic = `${run.prefix}.Sales_Dept._n_code__quoted__Table`;
    const records = await run.drain([topic], units.at(-1)!);
    const { records: canonical, facts, problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(checkUnits(facts, units)).toEqual([]);
    expect(canonical).toEqual(expected(run.prefix, run.db.database, topic));
  });
});

function expected(prefix: string, db: string, topic: string): CanonicalRecord[] {
  const stem = topic;
  const source = { prefix, db, schema: 'Sales Dept', table: 'Ünïcode "quoted" Table' };
  const fields = [
    field('int32', false, 'Order ID'),
    field('string', false, 'Mixed Case'),
    field('bytes', true, 'Prix "€"', '"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"6"}'),
  ];
  const key = record(keySchema(stem, [field('int32', false, 'Order ID')]), '{"Order ID":7}', true);
  const value = (op: 'c' | 'u' | 'd', before: string | null, after: string | null): string =>
    record(envelopeSchema(stem, fields), envelopePayload(op, before, after, source), true);
  const rec = (v: string | null): CanonicalRecord => ({ topic, partition: 0, key, value: v, headers: { ...TX_HEADERS } });
  // 1.50 at scale 2: unscaled 150 = 0x0096 → "AJY=".
  return [
    rec(value('c', null, '{"Order ID":7,"Mixed Case":"Ça va \\"bien\\"","Prix \\"€\\"":"AJY="}')),
    rec(value('u', null, '{"Order ID":7,"Mixed Case":"ÀÉÎ","Prix \\"€\\"":"AJY="}')),
    rec(value('d', '{"Order ID":7,"Mixed Case":"","Prix \\"€\\"":null}', null)),
    rec(null),
  ];
}
