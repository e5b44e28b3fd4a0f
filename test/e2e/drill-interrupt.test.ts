/**
 * Ctrl-C while `slotline drill` reads the tables into the shadow sink: it
 * stops, says how far it came, exits 1, and every temporary slot is gone —
 * the one made with the snapshot and any copy — while the production and
 * rewind slots are as they were.
 */
import { afterAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { startChild } from '../harness/child-process.ts';
import { slotsOf, writeShadowSink } from './drill-support.ts';
import { writeEsConfig } from './elasticsearch-support.ts';
import { eventually, REPO, runInProcess } from './support.ts';

/** Enough rows that the consistent read is far from done when it is interrupted. */
const ROWS = 200_000;

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it('SIGINT mid-rebuild: exit 1 with how far it came, no temporary slot left, the slots untouched', async () => {
  const db = await freshDatabase('drill_interrupt');
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text)');
  const slot = uniqueName('drill_interrupt');
  const prefix = uniqueName('dint');
  const config = await writeEsConfig({
    db, slot, publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.items'], logLevel: 'info',
    sourceExtra: 'rewind: { retain: 1h }', mainExtra: 'snapshot: { mode: no_data, progress_interval_ms: 200 }',
    sinkExtra: 'index: "{prefix}.{schema}.{table}"',
  });
  // The worker makes the publication and both slots, and stops.
  const worker = await runInProcess(config);
  await eventually(() => worker.pipeline.stats().confirmedLsn > 0n, 30_000, 'the worker streaming');
  await worker.stop();
  await db.sql(`INSERT INTO public.items SELECT i, repeat('x', 200) FROM generate_series(1, ${ROWS}) i`);
  const before = await slotsOf(db);

  const shadow = await writeShadowSink(config, 'shadow.yaml', `name: shadow\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "drill.{prefix}.{schema}.{table}"\n`);
  const drill = startChild('slotline drill', process.execPath, [join(REPO, 'bin', 'slotline.js'), 'drill', '--config', config, '--sink', shadow]);
  cleanup.push(async () => drill.child.kill('SIGKILL'));
  // Interrupted once its temporary slot exists and the read is under way.
  await eventually(
    async () => Object.keys(await slotsOf(db)).some((name) => name.includes('_drill_')) && drill.output().includes('snapshot of table started'),
    120_000, `the drill to be reading:\n${drill.output()}`,
  );
  drill.child.kill('SIGINT');
  const exit = await drill.exit;
  expect(exit.code, drill.output()).toBe(1);
  const lines = drill.stderr().trimEnd().split('\n');
  expect(lines.at(-2)).toMatch(/^slotline drill: drill stopped \(SIGINT\) at [0-9A-F]+\/[0-9A-F]+, before the end of its verify: the sink holds (\d+ rows read and )?no transaction \(0 transactions, \d+ events\)$/);
  expect(lines.at(-1)).toMatch(/^ {2}hint: run the drill again to complete it; the temporary slot is gone$/);
  expect(await slotsOf(db)).toEqual(before);
}, 240_000);
