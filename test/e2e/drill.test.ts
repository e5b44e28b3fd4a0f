/**
 * `slotline drill` against a real PostgreSQL and Elasticsearch:
 * - without --from, while the worker runs and a write load goes on: a new
 *   shadow index rebuilt from nothing (a temporary slot's snapshot, then its
 *   stream), verified with no drift; the production slot stays the worker's,
 *   the production index holds what it should, and no temporary slot is left;
 * - with --from rewind, the worker stopped: a shadow index restored from a
 *   "backup" taken at the rewind slot's position (a copy of the
 *   production index, versions kept, before any write) is brought up to date from the rewind
 *   slot and verified; the production and rewind slots have not moved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { runDrill, slotsOf, writeShadowSink } from './drill-support.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';
import { runVerify, startWriteLoad } from './verify-support.ts';

const ROWS = 2000;

describe('slotline drill: Elasticsearch', () => {
  let db: FreshDatabase;
  let config: string;
  let prefix: string;
  let slot: string;
  let worker: Awaited<ReturnType<typeof runInProcess>> | null = null;
  const client = esClient(esNode());
  const documents = async (index: string): Promise<number> => {
    if (!(await client.indices.exists({ index }))) return 0;
    await client.indices.refresh({ index });
    return (await client.count({ index })).count;
  };
  const drillSlots = async (): Promise<string[]> => Object.keys(await slotsOf(db)).filter((name) => name !== slot && name !== `${slot}_rewind`);

  beforeAll(async () => {
    db = await freshDatabase('drill_es');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text, n int)');
    await db.sql(`INSERT INTO public.items SELECT i, 'item ' || i, i FROM generate_series(1, ${ROWS}) i`);
    prefix = uniqueName('drl');
    slot = uniqueName('drill_es');
    config = await writeEsConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.items'],
      sourceExtra: 'rewind: { retain: 1h }',
      mainExtra: 'snapshot: { mode: initial }',
      sinkExtra: 'index: "{prefix}.{schema}.{table}"',
    });
    worker = await runInProcess(config);
    await eventually(async () => (await documents(`${prefix}.public.items`)) === ROWS, 120_000, 'the initial snapshot in Elasticsearch');
    // The backup for the --from drill: the index as it stands at the rewind slot's position (the snapshot, no change yet), versions kept.
    const production = await client.search<Record<string, unknown>>({ index: `${prefix}.public.items`, size: ROWS, version: true, query: { match_all: {} } });
    await client.bulk({
      refresh: true,
      operations: production.hits.hits.flatMap((hit) => [{ index: { _index: `restored.${prefix}.public.items`, _id: hit._id, version: hit._version, version_type: 'external' as const } }, hit._source]),
    });
  }, 180_000);
  afterAll(async () => {
    await worker?.stop().catch(() => undefined);
    await client.close();
  });

  it('rebuilds a new shadow index from nothing while the worker runs and writes go on: no drift, the production slot the worker\'s, no slot left', async () => {
    const before = await slotsOf(db);
    expect(before[slot].pid).not.toBeNull();
    const shadow = await writeShadowSink(config, 'shadow.yaml', `name: shadow\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "drill.{prefix}.{schema}.{table}"\ncreate_index: true\n`);
    const load = startWriteLoad(db, ROWS);
    let run;
    try {
      run = await runDrill(config, shadow);
    } finally {
      expect(await load.stop()).toBeGreaterThan(0);
    }
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.report!;
    expect(report).toMatchObject({
      mode: 'rebuild',
      sink: { name: 'shadow', type: 'elasticsearch' },
      drift: false,
      exitCode: 0,
      verify: { sinkWait: { method: expect.stringContaining("drill's stream"), caughtUp: true }, totals: { missing: 0, stale: 0, extra: 0 } },
    });
    // Read from the snapshot, then streamed: the writes that went on reached the shadow index through the drill's stream.
    expect(report.snapshot!.rows).toBeGreaterThanOrEqual(ROWS);
    expect(parseLsn(report.snapshot!.consistentPoint)).toBeGreaterThanOrEqual(parseLsn(report.target));
    expect(report.stream.transactions).toBeGreaterThan(0);
    expect(report.stream.tables).toEqual([expect.objectContaining({ table: 'public.items', ops: expect.objectContaining({ r: report.snapshot!.rows }) })]);
    expect(report.verify.totals.matched + report.verify.totals.inFlight).toBeGreaterThanOrEqual(report.verify.totals.rows);
    expect(report.rebuildSeconds).toBeGreaterThan(0);
    expect(report.rebuildSeconds).toBeLessThanOrEqual(report.seconds);
    expect(run.stdout).toMatch(/^drill into sink "shadow" \(elasticsearch, .*shadow\.yaml\): rebuilt from nothing up to the live position [0-9A-F]+\/[0-9A-F]+ in [\d.]+ s$/m);
    expect(run.stdout).toMatch(/^ {2}read: \d+ rows of 1 table in the temporary slot's snapshot at [0-9A-F]+\/[0-9A-F]+/m);
    expect(run.stdout).toMatch(/^drill passed in [\d.]+ s: the rebuilt sink matches the tables \(\d+ rows, no drift\); exit 0$/m);
    expect(await documents(`drill.${prefix}.public.items`)).toBeGreaterThanOrEqual(ROWS);

    // The drill's temporary slots are gone; the production slot is still the worker's (the drill never held it) and only the worker moved it.
    expect(await drillSlots()).toEqual([]);
    expect(report.temporarySlots.length).toBeGreaterThanOrEqual(2);
    const after = await slotsOf(db);
    expect(after[slot].pid).toBe(before[slot].pid);
    expect(after[`${slot}_rewind`]).toEqual(before[`${slot}_rewind`]);
    // Nothing went into the production index but the worker's changes: it still matches the tables.
    const production = await runVerify(config, 'search');
    expect(production.code, production.stdout + production.stderr).toBe(0);
  }, 300_000);

  it('--from rewind onto an index restored from a backup: brought up to date from the rewind slot, no drift, the slots not moved', async () => {
    await worker!.stop();
    worker = null;
    const before = await slotsOf(db);
    expect(before[slot].confirmed).not.toBeNull();
    const restored = await writeShadowSink(config, 'restored.yaml', `name: restored\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "restored.{prefix}.{schema}.{table}"\n`);
    const run = await runDrill(config, restored, ['--from', 'rewind']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.report!;
    expect(report).toMatchObject({ mode: 'replay', snapshot: null, drift: false, stream: { from: { requested: 'rewind' } }, verify: { totals: { missing: 0, stale: 0, extra: 0, inFlight: 0 } } });
    // The first test's writes: updates, inserts and deletes replayed onto the backup.
    expect(report.stream.transactions).toBeGreaterThan(0);
    expect(report.stream.tables[0].ops).toMatchObject({ c: expect.any(Number), u: expect.any(Number) });
    expect(report.verify.totals.matched).toBe(report.verify.totals.rows);
    expect(run.stdout).toMatch(/^drill into sink "restored" \(elasticsearch, .*restored\.yaml\): replayed from the rewind slot \(--from rewind, [0-9A-F]+\/[0-9A-F]+\) up to the live position/m);
    expect(await slotsOf(db)).toEqual(before);
  }, 300_000);
});
