/**
 * The Redis sink under SIGKILL: slotline runs as a child process and is killed
 * at a random moment while a write load goes on, then restarted. Afterwards:
 *
 * - refresh: every `item:{id}` holds the table's current row (no value older
 *   than the table: the LSN fence and checkpoint keep replays from writing
 *   stale rows back);
 * - invalidate: every `inv:{id}` the test re-cached while the worker was down
 *   is gone if its row changed after that (every changed key is invalidated at
 *   least once after its last change), and kept if it did not change and its
 *   last change was applied before the kill (one committed but not yet applied
 *   is applied after the restart, and rightly invalidates the key again).
 *
 * The kill point comes from a seeded generator; the seed is printed, and
 * SLOTLINE_FAILURE_SEED=<seed> replays it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freshDatabase, redisUrl, slotMade, uniqueName } from '../harness/context.ts';
import { seededRandom, sleep, testSeed, withRuntime } from './failure-support.ts';
import { redisClient, startCacheLoad, writeRedisConfig } from './redis-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';

const KEYS = 40;
/** Rows the load never touches: their re-cached keys must survive. */
const IDLE = 10;

describe('redis sink: SIGKILL under a write load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('leaves no refresh key older than the table and every changed key invalidated after its last change', async () => {
    const seed = testSeed();
    console.log(`redis SIGKILL test seed: ${seed}`);
    const random = seededRandom(seed);
    const db = await freshDatabase('redis_kill');
    const p = uniqueName('rk');
    const redis: Redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    await db.sql('CREATE SEQUENCE public.items_seq');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, version int NOT NULL, seq bigint NOT NULL)');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint"
fence_prefix: "${p}:fence:"
rules:
  - tables: ["public.items"]
    invalidate: ["${p}:inv:{id}"]
    refresh: { key: "${p}:item:{id}" }`,
    );
    // Small batches: a kill then often lands between two writes of a catch-up.
    await withRuntime(config, { batch_max_events: 20 });

    let worker: WorkerProcess = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(() => slotMade(db, p), 30_000, 'the slot');
    await db.sql(`INSERT INTO public.items SELECT g, 0, nextval('public.items_seq') FROM generate_series(1, ${KEYS + IDLE}) g`);
    const load = startCacheLoad(db.sql, KEYS, random);

    await eventually(async () => (await redis.exists(`${p}:checkpoint`)) === 1, 30_000, 'the first write');
    await sleep(Math.floor(random() * 2000));
    worker.child.kill('SIGKILL');
    await worker.exited;
    // What the killed worker had applied: a row's change committed before the kill may still be
    // unapplied, and then legitimately invalidates its key after the restart.
    const appliedSeq = (await redis.mget(...Array.from({ length: KEYS + IDLE }, (_, i) => `${p}:item:${i + 1}`))).map((v) => (v === null ? null : String(JSON.parse(v).seq)));
    // While the worker is down: a reader caches every key (perhaps stale), the load goes on.
    const [{ seq: recachedAt }] = await db.sql("SELECT last_value AS seq FROM public.items_seq");
    await redis.mset(...Array.from({ length: KEYS + IDLE }, (_, i) => [`${p}:inv:${i + 1}`, 'cached']).flat());
    await sleep(300 + Math.floor(random() * 700));
    worker = spawnWorker(config);
    await sleep(1000 + Math.floor(random() * 1000));
    const committed = await load.stop();

    const rows: Array<{ id: number; version: number; seq: string }> = await db.sql('SELECT id, version, seq::text FROM public.items ORDER BY id');
    const stale = async (): Promise<string[]> => {
      const values = await redis.mget(...rows.map((r) => `${p}:item:${r.id}`));
      return rows.flatMap((r, i) => (values[i] !== null && JSON.parse(values[i]!).version === r.version ? [] : [`item:${r.id}: ${values[i]} (table: version ${r.version})`]));
    };
    await eventually(async () => (await stale()).length === 0, 60_000, 'the cache to catch up').catch(async (err) => {
      throw new Error(`${err.message}\n${(await stale()).join('\n')}\n${worker.output().slice(-2000)}`);
    });

    const inv = await redis.mget(...rows.map((r) => `${p}:inv:${r.id}`));
    const changedAfter = rows.filter((r) => BigInt(r.seq) > BigInt(recachedAt));
    expect(changedAfter.length).toBeGreaterThan(0);
    expect(changedAfter.filter((r) => inv[r.id - 1] !== null).map((r) => r.id)).toEqual([]);
    // Keys whose last change was applied before the kill and that did not change since the
    // re-cache stay: a replay skips what the checkpoint covers, so nothing deletes more than the changes say.
    const unchanged = rows.filter((r) => BigInt(r.seq) <= BigInt(recachedAt) && appliedSeq[r.id - 1] === r.seq);
    expect(unchanged.length).toBeGreaterThanOrEqual(IDLE);
    expect(unchanged.filter((r) => inv[r.id - 1] === null).map((r) => r.id)).toEqual([]);
    console.log(`redis SIGKILL: ${committed} transactions, ${changedAfter.length}/${KEYS + IDLE} keys changed after the re-cache, killed at seed-chosen point`);

    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 120_000);
});
