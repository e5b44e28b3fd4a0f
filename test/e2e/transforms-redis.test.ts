/**
 * End to end through PostgreSQL and Redis: transforms on a whole-transaction
 * sink. A write-through (`refresh`) cache of accounts behind mask (e-mail
 * hashed), filter (archived accounts left out) and unwrap (rewrite, `__op`):
 *
 * - the cached rows are the transformed rows: hashed e-mail, `__op`,
 *   `__deleted: "false"`, and a delete becomes the old row with
 *   `__deleted: "true"` (a soft delete) instead of a removed key;
 * - a transaction is still one atomic step: a reader polling every key with
 *   MGET while a 40-row transaction is applied never sees part of it, even
 *   though the filter dropped one of its changes;
 * - the sink's checkpoint passes a transaction the filter dropped entirely.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisUrl, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { parseLsn } from '../../src/lsn.ts';
import { redisClient, writeRedisConfig } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';

const ROWS = 40;

describe('transforms on the Redis sink', () => {
  let db: FreshDatabase;
  let redis: Redis;
  let worker: Awaited<ReturnType<typeof runInProcess>>;
  const p = uniqueName('trr');
  const key = (id: number) => `${p}:account:${id}`;
  const read = async (id: number) => JSON.parse((await redis.get(key(id))) ?? 'null');

  beforeAll(async () => {
    db = await freshDatabase('transforms_redis');
    await db.sql('CREATE TABLE public.accounts (id int PRIMARY KEY, email text, plan text NOT NULL, archived boolean NOT NULL DEFAULT false)');
    await db.sql('ALTER TABLE public.accounts REPLICA IDENTITY FULL');
    redis = redisClient(redisUrl());
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint:{sink}"
fence_prefix: "${p}:fence:"
rules:
  - tables: ["public.accounts"]
    refresh:
      key: "${p}:account:{id}"
transforms:
  - type: mask
    rules:
      - columns: [public.accounts.email]
        hash: { algorithm: SHA-256, salt: pepper, version: 2 }
  - type: filter
    condition: "not after.archived or op == 'd'"
  - type: unwrap
    delete_tombstone_handling_mode: rewrite
    add_fields: [op]`,
    );
    worker = await runInProcess(config);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    redis?.disconnect();
  });

  it('caches transformed rows, one transaction at a time, and passes filtered transactions', async () => {
    await db.sql(`INSERT INTO public.accounts SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, ${ROWS}) g`);
    await eventually(async () => (await read(ROWS))?.plan === 'free', 30_000, 'the inserted rows cached');
    expect(await read(1)).toEqual({
      id: 1, email: createHash('sha256').update('pepperuser1@example.com').digest('hex'), plan: 'free', archived: false, __deleted: 'false', __op: 'c',
    });

    // One transaction: every row to 'pro', one of them archived (the filter drops that change).
    let reading = true;
    const mixed: string[][] = [];
    let polls = 0;
    const poller = (async () => {
      const keys = Array.from({ length: ROWS }, (_, i) => key(i + 1));
      while (reading) {
        const plans = (await redis.mget(...keys)).map((v) => JSON.parse(v ?? 'null')?.plan);
        polls++;
        if (new Set(plans).size > 1 && plans.filter((x) => x === 'pro').length !== ROWS - 1) mixed.push(plans);
      }
    })();
    await db.sql("UPDATE public.accounts SET plan = 'pro', archived = (id = 7)");
    await eventually(async () => (await read(ROWS)).plan === 'pro', 30_000, 'the update cached');
    reading = false;
    await poller;
    expect(mixed).toEqual([]);
    expect(polls).toBeGreaterThan(1);
    expect((await read(7)).plan).toBe('free'); // its change was filtered out
    expect((await read(8))).toMatchObject({ plan: 'pro', __op: 'u' });

    // A delete is a soft delete: the old row, marked.
    await db.sql('DELETE FROM public.accounts WHERE id = 8');
    await eventually(async () => (await read(8))?.__deleted === 'true', 30_000, 'the soft delete');
    expect(await read(8)).toMatchObject({ id: 8, plan: 'pro', __deleted: 'true', __op: 'd' });

    // A transaction the filter drops entirely still moves the checkpoint past it. The
    // watermark moves only with this database's commits, and the server's WAL end moves
    // with every test's: so compare with the WAL position before the transaction, which
    // every earlier commit of this database ends at or before and this one ends after.
    const [{ lsn }] = await db.sql('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    await db.sql("UPDATE public.accounts SET plan = 'gold' WHERE id = 7");
    await eventually(() => worker.pipeline.checkpointer.watermark() > parseLsn(lsn), 30_000, 'the checkpoint past the filtered transaction');
    expect((await read(7)).plan).toBe('free');
  });
});
