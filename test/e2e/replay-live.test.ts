/**
 * A replay while the worker runs and writes go on: the keeper keeps advancing
 * the rewind slot (a small WAL window) while the replay copies it; the replay
 * gets an unbroken run of transactions in commit order, and the worker streams
 * on, untouched by it.
 */
import { dirname, join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { consoleRecords, slotState } from './replay-support.ts';
import { eventually, runInProcess, runSlotline, writeConfig } from './support.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it('replays from a rewind slot the running worker keeps moving', async () => {
  const db = await freshDatabase('replay_live');
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n text NOT NULL)');
  const slot = uniqueName('replay_live');
  const configPath = await writeConfig({
    db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('live'), tables: ['public.items'],
    sourceExtra: 'rewind: { retain: 64KiB, advance_interval_ms: 1000 }',
  });
  const worker = await runInProcess(configPath);
  cleanup.push(() => worker.stop());
  const made = (await slotState(db, slot)).rewind!;
  /** One transaction per row; `pauseSeconds` between them keeps writes going while the replay runs. */
  const write = (from: number, to: number, pauseSeconds = 0) =>
    db.sql(`DO $$ BEGIN FOR i IN ${from}..${to} LOOP INSERT INTO public.items VALUES (i, repeat('x', 500)); COMMIT; PERFORM pg_sleep(${pauseSeconds}); END LOOP; END $$`);
  await write(1, 300);
  await eventually(async () => parseLsn((await slotState(db, slot)).rewind!) > parseLsn(made), 60_000, 'the keeper to advance the rewind slot');

  const shadowFile = join(dirname(configPath), 'shadow.jsonl');
  const shadow = join(dirname(configPath), 'shadow.yaml');
  await writeFile(shadow, `name: shadow\ntype: console\noutput: ${JSON.stringify(shadowFile)}\n`);
  const writing = write(301, 600, 0.01);
  const result = await runSlotline(['replay', '--config', configPath, '--sink', shadow], { timeoutMs: 120_000 });
  await writing;
  expect(result.code, result.stderr).toBe(0);

  const ids = (await consoleRecords(shadowFile)).map((r) => r.value.payload.after.id as number);
  expect(ids.length).toBeGreaterThan(0);
  // An unbroken run, in commit order: nothing skipped inside the window.
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0] + i));
  expect(result.stdout).toMatch(new RegExp(`^replayed ${ids.length} transactions, ${ids.length} events`, 'm'));

  // The worker went on: every row reached the production file, and it still confirms.
  await eventually(async () => (await consoleRecords(join(dirname(configPath), 'console.jsonl'))).length === 600, 60_000, 'the worker to deliver all rows');
  expect((await slotState(db, slot)).temporary).toEqual([]);
}, 180_000);
