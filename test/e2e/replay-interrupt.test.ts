/**
 * Ctrl-C in the middle of `slotline replay`: it stops, says how far it came,
 * exits 1; the sink holds a prefix of the window, in order; the temporary slot
 * is gone; the production and rewind slots are as they were.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startChild } from '../harness/child-process.ts';
import { consoleRecords, slotState } from './replay-support.ts';
import { eventually, REPO, runInProcess, writeConfig } from './support.ts';

/** Enough single-row transactions that the replay is far from done when it is interrupted (~13 000 rows/s here). */
const ROWS = 200_000;

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it('SIGINT mid-replay: exit 1, a prefix of the window in the sink, the temporary slot dropped, the slots untouched', async () => {
  const db = await freshDatabase('replay_interrupt');
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n text NOT NULL)');
  const slot = uniqueName('replay_interrupt');
  const configPath = await writeConfig({
    db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('interrupt'), tables: ['public.items'], logLevel: 'info',
    sourceExtra: 'rewind: { retain: 1h }', mainExtra: 'snapshot: { mode: no_data, progress_interval_ms: 200 }',
  });
  // The worker makes both slots and stops; the history is written after, so the main slot holds it too.
  const worker = await runInProcess(configPath);
  await eventually(() => worker.pipeline.stats().confirmedLsn > 0n, 30_000, 'the worker streaming');
  await worker.stop();
  await db.sql(`DO $$ BEGIN FOR i IN 1..${ROWS} LOOP INSERT INTO public.items VALUES (i, 'x'); COMMIT; END LOOP; END $$`);
  const before = await slotState(db, slot);

  const shadowFile = join(dirname(configPath), 'shadow.jsonl');
  const shadow = join(dirname(configPath), 'shadow.yaml');
  await writeFile(shadow, `name: shadow\ntype: console\noutput: ${JSON.stringify(shadowFile)}\n`);
  const replay = startChild('slotline replay', process.execPath, [join(REPO, 'bin', 'slotline.js'), 'replay', '--config', configPath, '--sink', shadow]);
  cleanup.push(async () => replay.child.kill('SIGKILL'));
  // Interrupted once it streams from its temporary slot and has written something.
  await eventually(async () => (await slotState(db, slot)).temporary.length === 1 && replay.output().includes('replay progress'), 60_000, `the replay to be under way:\n${replay.output()}`);
  replay.child.kill('SIGINT');
  const exit = await replay.exit;
  expect(exit.code, replay.output()).toBe(1);
  const lines = replay.stderr().trimEnd().split('\n');
  expect(lines.at(-2)).toMatch(/^slotline replay: replay stopped \(SIGINT\) at [0-9A-F]+\/[0-9A-F]+, before --to [0-9A-F]+\/[0-9A-F]+: the sink holds transactions up to [0-9A-F]+\/[0-9A-F]+ \(\d+ transactions, \d+ events\)$/);
  expect(lines.at(-1)).toMatch(/^ {2}hint: run the replay again/);

  const ids = (await consoleRecords(shadowFile)).map((r) => r.value.payload.after.id as number);
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.length).toBeLessThan(ROWS);
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  expect(await slotState(db, slot)).toEqual(before);
  expect(before.temporary).toEqual([]);
});
