/**
 * `slotline verify` against a real Elasticsearch fed by a running worker:
 * - in sync: exit 0, every row matched, and the --json report's shape;
 * - damaged behind the worker's back (a document deleted, a field changed,
 *   a document no row has): exit 1 with exactly those counts and keys;
 * - while a write load keeps changing rows and the worker keeps up: no drift,
 *   the differences seen at the consistent point counted as in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';
import { expectNoDriftUnderLoad, runVerify } from './verify-support.ts';

const ROWS = 3000;

describe('slotline verify: Elasticsearch', () => {
  let db: FreshDatabase;
  let config: string;
  let prefix: string;
  const client = esClient(esNode());
  const stops: Array<() => Promise<unknown>> = [];
  const items = (): string => `${prefix}.public.items`;
  const documents = async (index: string): Promise<number> => {
    if (!(await client.indices.exists({ index }))) return 0;
    await client.indices.refresh({ index });
    return (await client.count({ index })).count;
  };

  beforeAll(async () => {
    db = await freshDatabase('verify_es');
    await db.sql(`CREATE TABLE public.items (id int PRIMARY KEY, name text, n int, price numeric(10,2), tags text[], at timestamptz DEFAULT '2024-05-01 10:00:00+00');
                  CREATE TABLE public.lines (order_id int, line int, qty int, PRIMARY KEY (order_id, line))`);
    await db.sql(`INSERT INTO public.items SELECT i, 'item ' || i, i, i / 100.0, ARRAY['t' || (i % 7)] FROM generate_series(1, ${ROWS}) i`);
    await db.sql('INSERT INTO public.lines SELECT i / 10, i % 10, i FROM generate_series(1, 200) i');
    prefix = uniqueName('vfy');
    config = await writeEsConfig({
      db, slot: uniqueName('verify_es'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(),
      mainExtra: 'snapshot: { mode: initial }',
      sinkExtra: 'index: "{prefix}.{schema}.{table}"\nmetadata: { enabled: true }',
    });
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
    await eventually(async () => (await documents(items())) === ROWS && (await documents(`${prefix}.public.lines`)) === 200, 120_000, 'the initial snapshot in Elasticsearch');
  });
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await client.close();
  });

  it('finds no drift in a sink the worker keeps: exit 0, every row matched, and the JSON report', async () => {
    const run = await runVerify(config, 'search');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^no drift: 3200 rows in /m);
    const report = run.report!;
    expect(report).toMatchObject({
      sink: { name: 'search', type: 'elasticsearch', file: expect.stringMatching(/search\.yaml$/) },
      database: db.database,
      consistentPoint: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/),
      sinkWait: { method: expect.stringContaining('confirmed position'), caughtUp: true },
      totals: { rows: 3200, matched: 3200, missing: 0, stale: 0, extra: 0, inFlight: 0 },
      drift: false,
    });
    expect(report.tables.map((t) => [t.table, t.rows, t.matched, t.extrasChecked])).toEqual([['public.items', ROWS, ROWS, true], ['public.lines', 200, 200, true]]);
    expect(report.tables[0].examples).toEqual({ missing: [], stale: [], extra: [], inFlight: [] });
    expect(report.rowsPerSecond).toBeGreaterThan(0);
  });

  it('reports a deleted document as missing, a changed field as stale, a document without a row as extra: exit 1', async () => {
    await client.delete({ index: items(), id: '5' });
    await client.update({ index: items(), id: '7', doc: { name: 'tampered' } });
    await client.index({ index: items(), id: '999999', document: { id: 999999, name: 'ghost' }, version: 1, version_type: 'external' });
    await client.index({ index: `${prefix}.public.lines`, id: '[99,0]', document: { order_id: 99, line: 0, qty: 0 }, version: 2, version_type: 'external' });

    const run = await runVerify(config, 'search', ['--tables', 'public.items']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = run.report!;
    expect(report.drift).toBe(true);
    expect(report.tables).toHaveLength(1);
    const [table] = report.tables;
    expect(table).toMatchObject({ table: 'public.items', rows: ROWS, matched: ROWS - 2, missing: 1, stale: 1, extra: 1, inFlight: 0 });
    expect(table.examples.missing).toEqual([{ key: '5', at: `${items()}/5` }]);
    expect(table.examples.stale).toEqual([{ key: '7', at: `${items()}/7`, fields: ['name'] }]);
    expect(table.examples.extra).toEqual([{ at: `${items()}/999999` }]);
    expect(run.stdout).toContain(`public.items missing: 5 (${items()}/5)`);
    expect(run.stdout).toContain(`public.items stale: 7 (${items()}/7) [name]`);
    expect(run.stdout).toMatch(/^DRIFT: 3000 rows in .* — 1 missing, 1 stale, 1 extra$/m);

    // The composite key table, on its own: the extra line's id is the sink's JSON-array form.
    const lines = await runVerify(config, 'search', ['--tables', 'public.lines']);
    expect(lines.code).toBe(1);
    expect(lines.report!.tables[0]).toMatchObject({ rows: 200, matched: 200, extra: 1, examples: { extra: [{ at: `${prefix}.public.lines/[99,0]` }] } });

    // Put the index right again for the next test.
    await client.delete({ index: items(), id: '999999' });
    await client.delete({ index: `${prefix}.public.lines`, id: '[99,0]' });
    await db.sql('UPDATE public.items SET n = n WHERE id IN (5, 7)');
    await eventually(async () => (await runVerify(config, 'search')).code === 0, 60_000, 'verify to pass again');
  });

  it('reports no drift while rows keep changing and the worker keeps up', async () => {
    await expectNoDriftUnderLoad(db, ROWS, config, 'search');
  });
});
