/**
 * End to end: tables without a primary key (shared/reference/debezium.md §1.1, §4).
 *
 * - The key is null (no key schema): the Kafka record key is null.
 * - REPLICA IDENTITY FULL: updates and deletes carry the whole old row in
 *   `before`; a delete is still followed by a tombstone, with the same null key
 *   (Debezium's EventDispatcher copies the delete's key, whatever it is).
 * - REPLICA IDENTITY DEFAULT without a key: inserts flow; Postgres itself
 *   refuses UPDATE and DELETE on a published table, and the stream goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { canonicalize, checkUnits, startEnvelopeRun, type CanonicalRecord, type EnvelopeRun, type Unit } from './envelope-support.ts';
import { envelopePayload, envelopeSchema, field, record, TX_HEADERS } from './expected/debezium-json.ts';

const SETUP = `
CREATE TABLE public.log_full (note text NOT NULL, qty integer);
ALTER TABLE public.log_full REPLICA IDENTITY FULL;
CREATE TABLE public.log_default (note text NOT NULL, qty integer);
`;

describe.each(pgServers().map((s) => s.major))('tables without a primary key, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: `env_nopk_${major}`, major, setupSql: SETUP });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('writes null keys, before per replica identity, and a null-key tombstone after a delete', async () => {
    const units: Unit[] = [];
    units.push(await run.tx(["INSERT INTO public.log_full VALUES ('a', 1)", "INSERT INTO public.log_default VALUES ('x', 10)"]));
    units.push(await run.tx("UPDATE public.log_full SET qty = 2 WHERE note = 'a'"));
    units.push(await run.tx("DELETE FROM public.log_full WHERE note = 'a'"));
    await expect(run.tx("UPDATE public.log_default SET qty = 11 WHERE note = 'x'")).rejects.toMatchObject({
      code: '55000',
      message: expect.stringContaining('does not have a replica identity and publishes updates'),
    });
    units.push(await run.tx("INSERT INTO public.log_default VALUES ('y', NULL)"));

    const { prefix } = run;
    const topics = [`${prefix}.public.log_full`, `${prefix}.public.log_default`];
    const records = await run.drain(topics, units.at(-1)!);
    const { records: canonical, facts, problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(checkUnits(facts, units)).toEqual([]);
    expect(canonical).toEqual(expected(prefix, run.db.database));
  });
});

function expected(prefix: string, db: string): CanonicalRecord[] {
  const fields = [field('string', false, 'note'), field('int32', true, 'qty')];
  const table = (name: string) => {
    const stem = `${prefix}.public.${name}`;
    const source = { prefix, db, schema: 'public', table: name };
    return (op: 'c' | 'u' | 'd', before: string | null, after: string | null): CanonicalRecord => ({
      topic: stem, partition: 0, key: null, value: record(envelopeSchema(stem, fields), envelopePayload(op, before, after, source), true), headers: { ...TX_HEADERS },
    });
  };
  const full = table('log_full');
  const plain = table('log_default');
  return [
    full('c', null, '{"note":"a","qty":1}'),
    full('u', '{"note":"a","qty":1}', '{"note":"a","qty":2}'),
    full('d', '{"note":"a","qty":2}', null),
    { topic: `${prefix}.public.log_full`, partition: 0, key: null, value: null, headers: { ...TX_HEADERS } },
    plain('c', null, '{"note":"x","qty":10}'),
    plain('c', null, '{"note":"y","qty":null}'),
  ];
}
