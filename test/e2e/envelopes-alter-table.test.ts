/**
 * End to end: ALTER TABLE mid-stream. pgoutput sends a new Relation message
 * before the first change after a DDL; the events from there on have the new
 * shape in both schema and payload, and the earlier ones keep the old.
 *
 * Steps, each waited for (every sink has it) before the next DDL, so that the
 * catalog slotline reads at a Relation (NOT NULL, defaults) is the one of that
 * shape, as Debezium's JDBC metadata read is:
 *   A  id, name, qty int
 *   B  + note text, + flag boolean NOT NULL DEFAULT true  (schema default, old row updated)
 *   C  − name
 *   D  note renamed to remark
 *   E  qty int → bigint, remark text → varchar(10)        (int32 → int64; varchar is still a string)
 *   F  + extra int between two inserts of one transaction (one event per shape)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { canonicalize, checkUnits, startEnvelopeRun, type CanonicalRecord, type EnvelopeRun, type Unit } from './envelope-support.ts';
import { envelopePayload, envelopeSchema, field, keySchema, record, TX_HEADERS } from './expected/debezium-json.ts';

const SETUP = 'CREATE TABLE public.products (id integer PRIMARY KEY, name text NOT NULL, qty integer);';

const F = {
  id: field('int32', false, 'id'),
  name: field('string', false, 'name'),
  qty: field('int32', true, 'qty'),
  qty64: field('int64', true, 'qty'),
  note: field('string', true, 'note'),
  flag: field('boolean', false, 'flag', '"default":true'),
  remark: field('string', true, 'remark'),
  extra: field('int32', true, 'extra'),
};

const SHAPES = {
  A: [F.id, F.name, F.qty],
  B: [F.id, F.name, F.qty, F.note, F.flag],
  C: [F.id, F.qty, F.note, F.flag],
  D: [F.id, F.qty, F.remark, F.flag],
  E: [F.id, F.qty64, F.remark, F.flag],
  F: [F.id, F.qty64, F.remark, F.flag, F.extra],
};

describe.each(pgServers().map((s) => s.major))('ALTER TABLE mid-stream, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: `env_alter_${major}`, major, setupSql: SETUP });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('gives the events after each change the new shape and leaves the earlier ones as they were', async () => {
    const topic = `${run.prefix}.public.products`;
    const units: Unit[] = [];
    const step = async (ddl: string | null, dml: string | string[]): Promise<void> => {
      if (ddl !== null) await run.db.sql(ddl);
      units.push(await run.tx(dml));
      await run.drain([topic], units.at(-1)!);
    };
    await step(null, "INSERT INTO public.products VALUES (1, 'apple', 5)");
    await step('ALTER TABLE public.products ADD COLUMN note text, ADD COLUMN flag boolean NOT NULL DEFAULT true', [
      "INSERT INTO public.products VALUES (2, 'pear', 6, 'hi', false)",
      'UPDATE public.products SET qty = 50 WHERE id = 1',
    ]);
    await step('ALTER TABLE public.products DROP COLUMN name', "INSERT INTO public.products VALUES (3, 7, 'x')");
    await step('ALTER TABLE public.products RENAME COLUMN note TO remark', "INSERT INTO public.products VALUES (4, 8, 'y')");
    await step('ALTER TABLE public.products ALTER COLUMN qty TYPE bigint, ALTER COLUMN remark TYPE varchar(10)',
      'UPDATE public.products SET qty = 9000000000 WHERE id = 4');
    units.push(await run.tx([
      "INSERT INTO public.products VALUES (5, 1, 'before')",
      'ALTER TABLE public.products ADD COLUMN extra integer',
      "INSERT INTO public.products VALUES (6, 2, 'after', true, 42)",
    ]));

    const records = await run.drain([topic], units.at(-1)!);
    const { records: canonical, facts, problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(checkUnits(facts, units, { otherCommitsBetween: true })).toEqual([]);
    expect(canonical).toEqual(expected(run.prefix, run.db.database, topic));
  });
});

function expected(prefix: string, db: string, topic: string): CanonicalRecord[] {
  const source = { prefix, db, schema: 'public', table: 'products' };
  const rec = (shape: keyof typeof SHAPES, id: number, op: 'c' | 'u', after: string): CanonicalRecord => ({
    topic,
    partition: 0,
    key: record(keySchema(topic, [F.id]), `{"id":${id}}`, true),
    value: record(envelopeSchema(topic, SHAPES[shape]), envelopePayload(op, null, after, source), true),
    headers: { ...TX_HEADERS },
  });
  return [
    rec('A', 1, 'c', '{"id":1,"name":"apple","qty":5}'),
    rec('B', 2, 'c', '{"id":2,"name":"pear","qty":6,"note":"hi","flag":false}'),
    rec('B', 1, 'u', '{"id":1,"name":"apple","qty":50,"note":null,"flag":true}'),
    rec('C', 3, 'c', '{"id":3,"qty":7,"note":"x","flag":true}'),
    rec('D', 4, 'c', '{"id":4,"qty":8,"remark":"y","flag":true}'),
    rec('E', 4, 'u', '{"id":4,"qty":9000000000,"remark":"y","flag":true}'),
    rec('E', 5, 'c', '{"id":5,"qty":1,"remark":"before","flag":true}'),
    rec('F', 6, 'c', '{"id":6,"qty":2,"remark":"after","flag":true,"extra":42}'),
  ];
}
