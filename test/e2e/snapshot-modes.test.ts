/**
 * snapshot.mode `always` on a slot that already streamed, into a Redis cache
 * that was flushed meanwhile: the restart reads every row again although the
 * sink's checkpoint is past the reads' versions, the changes made while the
 * worker was down stream in after the reads, and the cache ends equal to the
 * table. Then `initial_only` on the same slot has nothing left to do and exits 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisUrl, uniqueName } from '../harness/context.ts';
import { withRuntime } from './failure-support.ts';
import { redisClient, storedCheckpoint, writeRedisConfig } from './redis-support.ts';
import { cacheMismatches, waitUntilEqual } from './snapshot-support.ts';
import { eventually, runInProcess, spawnWorker } from './support.ts';
import { readFile, writeFile } from 'node:fs/promises';

describe('snapshot modes on an existing slot', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('always: re-reads every row into a flushed cache, then streams what changed meanwhile', async () => {
    const db = await freshDatabase('snap_always');
    const prefix = uniqueName('sa');
    const slot = uniqueName('snap_always');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL); INSERT INTO public.items SELECT g, 0 FROM generate_series(1, 500) g');
    const config = await writeRedisConfig(
      { db, slot, publication: uniqueName('pub'), topicPrefix: prefix, mainExtra: 'snapshot: { mode: always, fetch_size: 100 }' },
      `url: ${redisUrl()}\ncheckpoint_key: "${prefix}:checkpoint"\nfence_prefix: "${prefix}:fence:"\nrules:\n  - tables: ["public.items"]\n    refresh: { key: "${prefix}:item:{id}" }`,
    );
    await withRuntime(config, { batch_max_events: 100 });
    const redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    const rowsNow = async () => db.sql('SELECT id, n FROM public.items ORDER BY id') as Promise<Array<{ id: number; n: number }>>;

    let worker = await runInProcess(config);
    await waitUntilEqual(async () => cacheMismatches(redis, prefix, await rowsNow()), 'the first snapshot in the cache');
    await db.sql('UPDATE public.items SET n = 1 WHERE id <= 100');
    await waitUntilEqual(async () => cacheMismatches(redis, prefix, await rowsNow()), 'the streamed updates in the cache');
    await worker.stop('test');
    const checkpoint = await storedCheckpoint(redis, `${prefix}:checkpoint`);
    expect(checkpoint).not.toBeNull();

    // While it is down: the cache is flushed and the table changes.
    const keys = await redis.keys(`${prefix}:item:*`);
    await redis.del(...keys);
    await db.sql('UPDATE public.items SET n = 2 WHERE id > 400; DELETE FROM public.items WHERE id BETWEEN 201 AND 210');

    worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const rows = await rowsNow();
    await waitUntilEqual(() => cacheMismatches(redis, prefix, rows), 'the re-read cache to equal the table');
    await eventually(async () => (await redis.keys(`${prefix}:item:*`)).length === rows.length, 30_000, 'no key for the deleted rows');
    const [state] = await db.sql("SELECT status FROM public.slotline_snapshots WHERE slot_name = $1 AND kind = 'initial'", [slot]);
    expect(state.status).toBe('done');
    await worker.stop('test');

    // initial_only on a slot whose initial snapshot is done: nothing to read, exit 0 at once.
    await writeFile(config, (await readFile(config, 'utf8')).replace('mode: always', 'mode: initial_only'));
    const child = spawnWorker(config);
    expect(await child.exited, child.output()).toBe(0);
  }, 120_000);
});
