/**
 * docs/runbook.md, drill (f): the slot invalidated by max_slot_wal_keep_size,
 * on a private PostgreSQL 17 (which names the invalidation_reason) and 15
 * (wal_status lost only), started with max_slot_wal_keep_size=1MB, into a
 * private Redis cache, snapshot.mode when_needed. The slotline commands come
 * from the page itself (runbook-support.ts); the page's redis-cli step
 * (delete the sink's keys) is mirrored with a Redis client.
 * - The worker stopped while the slot is lost (rows changed, inserted and
 *   deleted meanwhile): `slotline status` says so (exit 1), the cleared cache
 *   is read again at the next start, and verify finds no drift.
 * - The worker running (stuck behind a Redis outage) when the slot is lost:
 *   it stops with exit 1 and a one-line reason instead of reconnecting
 *   forever, and its next start recovers as above.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { databaseOn } from './operations-support.ts';
import { redisClient, writeRedisConfig } from './redis-support.ts';
import { runbookDrill, runRunbookCommand, type RunbookDrill } from './runbook-support.ts';
import { waitUntilEqual } from './snapshot-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';

const ROWS = 300;

describe.each([17, 15])('runbook drill (f) on PostgreSQL %i: the slot invalidated by max_slot_wal_keep_size', (major) => {
  let server: PgServer;
  let redis: RedisServer;
  let db: FreshDatabase;
  let dir: string;
  let slot: string;
  let drill: RunbookDrill;
  let worker: WorkerProcess | null = null;
  const stops: Array<() => Promise<unknown>> = [];
  const client = () => {
    const c = redisClient(redis.url);
    stops.push(async () => c.disconnect());
    return c;
  };

  /** Writes WAL past max_slot_wal_keep_size and checkpoints, so a slot that holds it is invalidated. */
  const outgrowWalLimit = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await db.sql('CREATE TABLE IF NOT EXISTS junk AS SELECT 1 AS g');
      await db.sql('INSERT INTO junk SELECT generate_series(1, 50000)');
      await db.sql('SELECT pg_switch_wal()');
    }
    await db.sql('CHECKPOINT');
  };
  const walStatus = async (): Promise<string | null> => (await db.sql('SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [slot]))[0]?.wal_status ?? null;
  const rowsNow = async () => db.sql('SELECT id, total FROM public.orders ORDER BY id') as Promise<Array<{ id: number; total: number }>>;
  /** What differs between the cache and `rows`: a key missing or with another total, or a key no row has. */
  const cacheMismatches = async (cache: ReturnType<typeof redisClient>, rows: Array<{ id: number; total: number }>): Promise<string[]> => {
    const values = await cache.mget(...rows.map((r) => `order:${r.id}`));
    const wrong = rows.flatMap((r, i) => (values[i] !== null && JSON.parse(values[i]!).total === r.total ? [] : [`order:${r.id}: ${values[i]} (table total=${r.total})`]));
    const ids = new Set(rows.map((r) => `order:${r.id}`));
    return [...wrong, ...(await cache.keys('order:*')).filter((k) => !ids.has(k)).map((k) => `${k}: no such row`)];
  };

  beforeAll(async () => {
    [server, redis] = await Promise.all([startPostgres({ major, postgresFlags: ['-c', 'max_slot_wal_keep_size=1MB'] }), startRedis()]);
    stops.push(() => server.stop(), () => redis.close());
    db = await databaseOn(server, 'app');
    // junk is outside the publication: only the WAL it writes matters.
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, total int NOT NULL)');
    await db.sql(`INSERT INTO public.orders SELECT i, 0 FROM generate_series(1, ${ROWS}) i`);
    slot = uniqueName('runbook_lost');
    const config = await writeRedisConfig(
      { db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('rbf'), tables: ['public.orders'], mainExtra: 'snapshot: { mode: when_needed }' },
      `url: ${redis.url}\nrules:\n  - tables: ["public.orders"]\n    refresh: { key: "order:{id}" }`,
      'cache',
    );
    // A worker that stops with Redis away waits this long for its sink to drain.
    await writeFile(config, (await readFile(config, 'utf8')).replace('shutdown_timeout_ms: 20000', 'shutdown_timeout_ms: 2000'));
    dir = dirname(config);
    drill = await runbookDrill('f');
    expect(drill.commands.map((c) => c[1])).toEqual(['status', 'verify']);
  }, 60_000);
  afterAll(async () => {
    if (worker) worker.child.kill('SIGKILL');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('the worker stopped: status says the slot is lost, the cleared cache is read again at the next start, verify finds no drift', async () => {
    const cache = client();
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    await waitUntilEqual(async () => cacheMismatches(cache, await rowsNow()), 'the first snapshot in the cache');
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    worker = null;

    // While it is down: rows change, are inserted and deleted, and the slot loses its WAL.
    await db.sql('UPDATE public.orders SET total = 5 WHERE id % 3 = 0');
    await db.sql(`INSERT INTO public.orders SELECT i, 7 FROM generate_series(${ROWS + 1}, ${ROWS + 20}) i`);
    await db.sql('DELETE FROM public.orders WHERE id BETWEEN 11 AND 20');
    await outgrowWalLimit();
    expect(await walStatus()).toBe('lost');

    const status = await runRunbookCommand(drill, 0, dir);
    expect(status.code, status.stdout + status.stderr).toBe(1);
    expect(status.stdout).toMatch(/wal_status +lost/);
    expect(status.stdout).toMatch(new RegExp(`problem: replication slot "${slot}" is invalidated \\(wal_status lost${major >= 17 ? ', wal_removed' : ''}\\): changes after its position are gone\\n  hint: .*snapshot\\.mode when_needed`));

    // The page's redis-cli step: the sink's keys deleted before the start.
    const keys = await cache.keys('order:*');
    await cache.del(...keys);
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    const rows = await rowsNow();
    expect(rows).toHaveLength(ROWS + 10);
    await waitUntilEqual(() => cacheMismatches(cache, rows), 'the cache read again from the table');
    expect(await walStatus()).not.toBe('lost');
    await db.sql('UPDATE public.orders SET total = 9 WHERE id = 1');
    await waitUntilEqual(async () => cacheMismatches(cache, await rowsNow()), 'streaming on the new slot');

    const proved = await runRunbookCommand(drill, 1, dir);
    expect(proved.code, proved.stdout + proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(new RegExp(`^no drift: ${ROWS + 10} rows in`, 'm'));
  }, 180_000);

  it('the worker running when the slot is lost: it exits 1 with the reason instead of reconnecting forever, and its next start recovers', async () => {
    const cache = client();
    expect(worker).not.toBeNull();
    // Redis away: the worker cannot confirm, so its slot holds the WAL the load writes.
    await redis.stop();
    await db.sql('UPDATE public.orders SET total = 11 WHERE id <= 50');
    await outgrowWalLimit();
    expect(await walStatus()).toBe('lost');
    const code = await Promise.race([worker!.exited, new Promise((resolve) => setTimeout(() => resolve('still running after 60 s'), 60_000))]);
    const output = worker!.output();
    worker = null;
    expect(code, output).toBe(1);
    // The last two lines: the reason and the hint (log lines come before them).
    const [reason, hint] = output.trimEnd().split('\n').slice(-2);
    expect(reason).toBe(`slotline run: replication slot "${slot}" was invalidated while streaming (This slot has been invalidated because it exceeded the maximum reserved size): changes after its confirmed position are gone`);
    expect(hint).toMatch(/^ {2}hint: with snapshot\.mode when_needed the next start recreates it and reads the tables again; /);
    expect(await walStatus()).toBe('lost');

    // What compose's restart does, once Redis is back.
    await redis.start();
    worker = spawnWorker(join(dir, 'slotline.yaml'));
    await waitUntilEqual(async () => cacheMismatches(cache, await rowsNow()), 'the cache read again after the restart');
    const proved = await runRunbookCommand(drill, 1, dir);
    expect(proved.code, proved.stdout + proved.stderr).toBe(0);
    await eventually(async () => (await walStatus()) !== 'lost', 10_000, 'a valid slot');
  }, 180_000);
});
