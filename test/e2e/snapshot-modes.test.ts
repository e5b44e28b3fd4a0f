/**
 * snapshot.mode `always` on a slot that already streamed, into a Redis cache
 * that was flushed meanwhile: the restart reads every row again although the
 * sink's checkpoint is past the reads' versions, the changes made while the
 * worker was down stream in after the reads, and the cache ends equal to the
 * table. Then `initial_only` on the same slot has nothing left to do and exits 0.
 *
 * snapshot.mode `when_needed` on a slot PostgreSQL invalidated (its WAL was
 * removed, on a private server with a tiny max_slot_wal_keep_size): the worker
 * drops it, creates it again with an exported snapshot, and the cache ends
 * equal to the table, changes made while the slot was lost included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisUrl, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startPostgres } from '../harness/postgres.ts';
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

  it('when_needed: recreates an invalidated slot and reads the tables again', async () => {
    const server = await startPostgres({ major: 17 });
    cleanup.push(() => server.stop());
    await server.createDatabase('app');
    const db = { ...server, database: 'app', databaseUrl: server.url('app'), sql: (q: string, p?: unknown[]) => server.query(q, p, 'app') } as FreshDatabase;
    const prefix = uniqueName('wn');
    const slot = uniqueName('snap_wn');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL); INSERT INTO public.items SELECT g, 0 FROM generate_series(1, 300) g');
    const config = await writeRedisConfig(
      { db, slot, publication: uniqueName('pub'), topicPrefix: prefix, mainExtra: 'snapshot: { mode: when_needed }' },
      `url: ${redisUrl()}\ncheckpoint_key: "${prefix}:checkpoint"\nfence_prefix: "${prefix}:fence:"\nrules:\n  - tables: ["public.items"]\n    refresh: { key: "${prefix}:item:{id}" }`,
    );
    const redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    const rowsNow = async () => db.sql('SELECT id, n FROM public.items ORDER BY id') as Promise<Array<{ id: number; n: number }>>;

    let worker = await runInProcess(config);
    await waitUntilEqual(async () => cacheMismatches(redis, prefix, await rowsNow()), 'the first snapshot in the cache');
    await worker.stop('test');

    // While it is down the table changes and the slot loses its WAL.
    await db.sql('UPDATE public.items SET n = 5 WHERE id % 3 = 0');
    await db.sql(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await db.sql('SELECT pg_reload_conf()');
    for (let i = 0; i < 3; i++) {
      await db.sql('CREATE TABLE IF NOT EXISTS junk AS SELECT 1 AS g');
      await db.sql('INSERT INTO junk SELECT generate_series(1, 50000)');
      await db.sql('SELECT pg_switch_wal()');
    }
    await db.sql('CHECKPOINT');
    const [lost] = await db.sql('SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(lost.wal_status).toBe('lost');
    await db.sql(`ALTER SYSTEM RESET max_slot_wal_keep_size`);
    await db.sql('SELECT pg_reload_conf()');

    worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const rows = await rowsNow();
    expect(rows.filter((r) => r.n === 5).length).toBe(100);
    await waitUntilEqual(() => cacheMismatches(redis, prefix, rows), 'the cache to equal the table after the slot was recreated');
    const [slotNow] = await db.sql('SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(slotNow.wal_status).not.toBe('lost');
    await db.sql('UPDATE public.items SET n = 6 WHERE id = 1');
    await waitUntilEqual(async () => cacheMismatches(redis, prefix, await rowsNow()), 'streaming on the new slot');
  }, 120_000);
});
