/**
 * docs/runbook.md, drill (b): Redis flushed while the worker runs. The
 * commands and the shadow sink file come from the page itself
 * (runbook-support.ts): verify sees the missing keys (exit 1), a drill into
 * shadow keys passes, a re-snapshot of the table into the production cache
 * fills it while writes go on, and verify then finds no drift; the
 * production slot stays the worker's throughout.
 */
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, slotStreaming, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { slotsOf } from './drill-support.ts';
import { redisClient, writeRedisConfig } from './redis-support.ts';
import { runbookDrill, runRunbookCommand, writeRunbookFiles } from './runbook-support.ts';
import { eventually, runInProcess } from './support.ts';

const ROWS = 500;

describe('runbook drill (b): Redis flushed', () => {
  let db: FreshDatabase;
  let redis: RedisServer;
  let dir: string;
  let slot: string;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    redis = await startRedis();
    stops.push(() => redis.close());
    db = await freshDatabase('runbook_redis');
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, customer text, total int)');
    await db.sql(`INSERT INTO public.orders SELECT i, 'customer ' || i, i FROM generate_series(1, ${ROWS}) i`);
    slot = uniqueName('runbook_redis');
    const config = await writeRedisConfig(
      { db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('rb'), tables: ['public.orders'], mainExtra: 'snapshot: { mode: initial }' },
      `url: ${redis.url}\nrules:\n  - tables: ["public.orders"]\n    refresh: { key: "order:{id}" }`,
      'cache',
    );
    dir = dirname(config);
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
  }, 60_000);
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('verify finds the flushed keys missing; drill, re-snapshot and verify as the page says bring the cache back with no drift', async () => {
    const client = redisClient(redis.url);
    stops.push(async () => client.disconnect());
    await eventually(async () => (await client.keys('order:*')).length === ROWS, 60_000, 'the initial snapshot in Redis');
    // The slot is free for a moment between the snapshot's session, which made it, and the stream's.
    await eventually(() => slotStreaming(db, slot), 30_000, 'the worker streaming');
    const before = await slotsOf(db);
    expect(before[slot].pid).not.toBeNull();

    const drill = await runbookDrill('b');
    expect(drill.commands.map((c) => c[1])).toEqual(['verify', 'drill', 'snapshot', 'verify']);
    await writeRunbookFiles(drill, dir, { 'redis://redis:6379': redis.url });

    await client.flushall();
    // The worker goes on: changes after the flush reach Redis, the rest stays missing.
    await db.sql('UPDATE public.orders SET total = total + 1 WHERE id <= 10');
    await eventually(async () => (await client.keys('order:*')).length === 10, 30_000, 'the changed rows back in Redis');

    const missing = await runRunbookCommand(drill, 0, dir);
    expect(missing.code, missing.stdout + missing.stderr).toBe(1);
    expect(missing.stdout).toMatch(/^ {2}public\.orders missing: 11 \(order:11\), 12 \(order:12\), .* … 485 more$/m);
    expect(missing.stdout).toMatch(/^DRIFT: 500 rows in [\d.]+ s \(\d+ rows\/s\) — 490 missing, 0 stale, 0 extra$/m);

    const rehearsal = await runRunbookCommand(drill, 1, dir);
    expect(rehearsal.code, rehearsal.stdout + rehearsal.stderr).toBe(0);
    expect(rehearsal.stdout).toMatch(/^drill passed in [\d.]+ s: the rebuilt sink matches the tables \(500 rows, no drift\); exit 0$/m);
    expect(await client.keys('drill:order:*')).toHaveLength(ROWS);

    const snapshot = await runRunbookCommand(drill, 2, dir);
    expect(snapshot.code, snapshot.stdout + snapshot.stderr).toBe(0);
    // The state table query the page gives.
    await eventually(async () => {
      const rows = await db.sql("SELECT status, rows_read FROM slotline_snapshots WHERE kind = 'incremental' AND table_name = 'public.orders'");
      return rows[0]?.status === 'done';
    }, 60_000, 'the re-snapshot to be done');

    const proved = await runRunbookCommand(drill, 3, dir);
    expect(proved.code, proved.stdout + proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(/^no drift: 500 rows in [\d.]+ s/m);
    expect(await client.keys('order:*')).toHaveLength(ROWS);

    // Only the worker moved the production slot; the drill's temporary slot is gone.
    const after = await slotsOf(db);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after[slot].pid).toBe(before[slot].pid);
  }, 240_000);
});
