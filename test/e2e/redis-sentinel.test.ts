/**
 * The Redis sink behind Redis Sentinel (a master, one replica, one sentinel,
 * all private): rows flow to the master the sentinel names, and each write is
 * on the replica before it counts (`wait.replicas` defaults to 1 with
 * Sentinel). Then SENTINEL FAILOVER under a write load: the sink reconnects
 * to the promoted replica, and nothing is lost — every refresh key matches its
 * row, every key re-cached before the failover whose row changed afterwards is
 * invalidated, and the checkpoint on the new master moved on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startRedisSentinel, type RedisSentinelSetup } from '../harness/redis-sentinel.ts';
import { seededRandom, sleep, testSeed } from './failure-support.ts';
import { redisClient, startCacheLoad, storedCheckpoint, writeRedisConfig } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';

const KEYS = 30;

describe('redis sink: Sentinel', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('writes through the discovered master and loses nothing in a failover mid-load', async () => {
    const seed = testSeed();
    console.log(`redis sentinel test seed: ${seed}`);
    const random = seededRandom(seed);
    const setup: RedisSentinelSetup = await startRedisSentinel();
    cleanup.push(() => setup.close());
    const [first, second] = setup.servers;
    const clients = new Map<number, Redis>();
    const client = (port: number): Redis => {
      if (!clients.has(port)) clients.set(port, redisClient(`redis://127.0.0.1:${port}`));
      return clients.get(port)!;
    };
    cleanup.push(async () => clients.forEach((c) => c.disconnect()));

    const db = await freshDatabase('redis_sentinel');
    const p = uniqueName('rse');
    await db.sql('CREATE SEQUENCE public.items_seq');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, version int NOT NULL, seq bigint NOT NULL)');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `sentinel:
  name: ${setup.name}
  sentinels: [${setup.sentinels.map((s) => JSON.stringify(s)).join(', ')}]
wait: { timeout_ms: 1000 }
request_timeout_ms: 1000
rules:
  - tables: ["public.items"]
    invalidate: ["inv:{id}"]
    refresh: { key: "item:{id}" }`,
    );
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());

    // Rows reach the master the sentinel names, and the replica has them when the checkpoint moves.
    expect(await setup.master()).toBe(`127.0.0.1:${first.port}`);
    await db.sql(`INSERT INTO public.items SELECT g, 0, nextval('public.items_seq') FROM generate_series(1, ${KEYS}) g`);
    await eventually(async () => (await client(first.port).exists(`item:${KEYS}`)) === 1, 30_000, 'the first rows on the master');
    const applied = await storedCheckpoint(client(first.port), 'slotline:checkpoint:cache');
    const onReplica = await storedCheckpoint(client(second.port), 'slotline:checkpoint:cache');
    expect(onReplica).not.toBeNull();
    expect(onReplica! >= applied!).toBe(true);

    const load = startCacheLoad(db.sql, KEYS, random);
    await sleep(300 + Math.floor(random() * 700));
    // A reader caches every key (on both servers, so the failover cannot drop them), then the master changes.
    const [{ seq: recachedAt }] = await db.sql('SELECT last_value AS seq FROM public.items_seq');
    await client(first.port).mset(...Array.from({ length: KEYS }, (_, i) => [`inv:${i + 1}`, 'cached']).flat());
    expect(await client(first.port).wait(1, 5_000)).toBe(1);
    const before = await storedCheckpoint(client(first.port), 'slotline:checkpoint:cache');
    const promoted = await setup.failover();
    expect(promoted).toBe(`127.0.0.1:${second.port}`);
    await sleep(1000 + Math.floor(random() * 1000));
    const committed = await load.stop();

    const master = client(second.port);
    const rows: Array<{ id: number; version: number; seq: string }> = await db.sql('SELECT id, version, seq::text FROM public.items ORDER BY id');
    const stale = async (): Promise<string[]> => {
      const values = await master.mget(...rows.map((r) => `item:${r.id}`)).catch(() => [] as Array<string | null>);
      return rows.flatMap((r, i) => (values[i] != null && JSON.parse(values[i]!).version === r.version ? [] : [`item:${r.id}: ${values[i]} (table: version ${r.version})`]));
    };
    await eventually(async () => (await stale()).length === 0, 60_000, 'every refresh key on the new master to match the table').catch(async (err) => {
      throw new Error(`${err.message}\n${(await stale()).join('\n')}`);
    });
    const inv = await master.mget(...rows.map((r) => `inv:${r.id}`));
    const changed = rows.filter((r) => BigInt(r.seq) > BigInt(recachedAt));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((r) => inv[r.id - 1] !== null).map((r) => r.id)).toEqual([]);
    const unchanged = rows.filter((r) => BigInt(r.seq) <= BigInt(recachedAt));
    expect(unchanged.filter((r) => inv[r.id - 1] === null).map((r) => r.id)).toEqual([]);
    const after = await storedCheckpoint(master, 'slotline:checkpoint:cache');
    expect(after! > before!).toBe(true);
    // The old master is a replica now: it has what the new one has, and takes no writes.
    expect((await client(first.port).call('ROLE')) as unknown[]).toContain('slave');
    console.log(`redis sentinel: ${committed} transactions, ${changed.length}/${KEYS} keys changed since the failover began`);
  }, 180_000);
});
