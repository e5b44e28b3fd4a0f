/**
 * The Redis sink while Redis restarts mid-load (private server, `appendonly
 * yes`, `appendfsync always`): writes fail, the runner retries them with
 * backoff holding the checkpoint, and once Redis is back nothing is lost:
 * every key re-cached before the outage whose row changed afterwards is
 * invalidated, every refresh key matches the table, and the checkpoint
 * survived the restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { seededRandom, sleep, testSeed } from './failure-support.ts';
import { redisClient, startCacheLoad, storedCheckpoint, writeRedisConfig } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';

const KEYS = 30;

describe('redis sink: Redis restarted mid-load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('loses no invalidation and no refresh while Redis is away', async () => {
    const seed = testSeed();
    console.log(`redis restart test seed: ${seed}`);
    const random = seededRandom(seed);
    const server: RedisServer = await startRedis({ appendOnly: true });
    cleanup.push(() => server.close());
    const redis: Redis = redisClient(server.url);
    cleanup.push(async () => redis.disconnect());
    const db = await freshDatabase('redis_restart');
    const p = uniqueName('rre');
    await db.sql('CREATE SEQUENCE public.items_seq');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, version int NOT NULL, seq bigint NOT NULL)');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${server.url}
request_timeout_ms: 1000
rules:
  - tables: ["public.items"]
    invalidate: ["inv:{id}"]
    refresh: { key: "item:{id}" }`,
    );
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql(`INSERT INTO public.items SELECT g, 0, nextval('public.items_seq') FROM generate_series(1, ${KEYS}) g`);
    await eventually(async () => (await redis.exists(`item:${KEYS}`)) === 1, 30_000, 'the first rows');
    const load = startCacheLoad(db.sql, KEYS, random);
    await sleep(300 + Math.floor(random() * 700));

    // A reader caches every key, then Redis goes away for a while under the load.
    const [{ seq: recachedAt }] = await db.sql('SELECT last_value AS seq FROM public.items_seq');
    await redis.mset(...Array.from({ length: KEYS }, (_, i) => [`inv:${i + 1}`, 'cached']).flat());
    const before = await storedCheckpoint(redis, 'slotline:checkpoint:cache');
    await server.stop();
    await sleep(1500 + Math.floor(random() * 1500));
    await server.start();
    await sleep(500);
    const committed = await load.stop();

    const rows: Array<{ id: number; version: number; seq: string }> = await db.sql('SELECT id, version, seq::text FROM public.items ORDER BY id');
    await eventually(
      async () => {
        const values = await redis.mget(...rows.map((r) => `item:${r.id}`)).catch(() => []);
        return rows.every((r, i) => values[i] != null && JSON.parse(values[i]!).version === r.version);
      },
      60_000,
      'every refresh key to match the table',
    );
    const inv = await redis.mget(...rows.map((r) => `inv:${r.id}`));
    const changed = rows.filter((r) => BigInt(r.seq) > BigInt(recachedAt));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((r) => inv[r.id - 1] !== null).map((r) => r.id)).toEqual([]);
    const after = await storedCheckpoint(redis, 'slotline:checkpoint:cache');
    expect(before).not.toBeNull();
    expect(after! > before!).toBe(true);
    console.log(`redis restart: ${committed} transactions, ${changed.length}/${KEYS} keys changed since the outage began`);
  }, 120_000);
});
