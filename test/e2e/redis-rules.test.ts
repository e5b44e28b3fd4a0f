/**
 * End to end: each Redis rule type has exactly its effects.
 *
 * - invalidate: the keys named by the templates are deleted (old and new value
 *   of a changed unique column), nothing else is;
 * - publish: one `{table, op, keys, lsn}` message per change;
 * - refresh: the row is SET as JSON with the TTL, replaced on update, deleted
 *   on delete (leaving a fence);
 * - stream: the Debezium envelope of each change is XADDed to the table's stream;
 * - one transaction is one atomic step: a reader never sees part of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { freshDatabase, redisUrl, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { redisClient, subscribe, writeRedisConfig, type Subscription } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';

describe('redis sink rules', () => {
  let db: FreshDatabase;
  let redis: Redis;
  let worker: Awaited<ReturnType<typeof runInProcess>>;
  let sub: Subscription;
  const p = uniqueName('rr');

  beforeAll(async () => {
    db = await freshDatabase('redis_rules');
    await db.sql('CREATE TABLE public.products (id int PRIMARY KEY, slug text UNIQUE NOT NULL, category_id int, name text)');
    await db.sql('ALTER TABLE public.products REPLICA IDENTITY FULL');
    await db.sql('CREATE TABLE public.orders (id bigint PRIMARY KEY, status text NOT NULL, total numeric(10,2))');
    redis = redisClient(redisUrl());
    sub = await subscribe(redisUrl(), `${p}:inv`);
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint:{sink}"
fence_prefix: "${p}:fence:"
rules:
  - tables: ["public.products"]
    invalidate:
      - "${p}:product:{id}"
      - "${p}:product:slug:{before.slug}"
      - "${p}:product:slug:{after.slug}"
      - "${p}:products:category:{after.category_id}"
    publish: ${p}:inv
  - tables: ["public.orders"]
    refresh:
      key: "${p}:order:{id}"
      ttl: 3600
    stream:
      key: "${p}:stream:{schema}.{table}"
      maxlen: 1000`,
    );
    worker = await runInProcess(config);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await sub?.close();
    redis?.disconnect();
  });

  it('invalidates exactly the templated keys, old and new values of a changed column, and publishes each change', async () => {
    await db.sql("INSERT INTO public.products VALUES (1, 'old-slug', 5, 'lamp'), (2, 'other', 6, 'desk')");
    await eventually(() => sub.messages.length === 2, 30_000, 'the inserts to be published');
    const keys = ['product:1', 'product:slug:old-slug', 'product:slug:new-slug', 'products:category:5', 'products:category:7', 'product:2', 'product:slug:other'].map((k) => `${p}:${k}`);
    await redis.mset(...keys.flatMap((k) => [k, 'cached']));

    await db.sql("UPDATE public.products SET slug = 'new-slug', category_id = 7 WHERE id = 1");
    await eventually(() => sub.messages.length === 3, 30_000, 'the update to be published');
    const left = await redis.mget(...keys);
    // Gone: product:1, both slugs, the new category. category:5 is the *old* category (after.category_id names the new one).
    expect(Object.fromEntries(keys.map((k, i) => [k.slice(p.length + 1), left[i]]))).toEqual({
      'product:1': null,
      'product:slug:old-slug': null,
      'product:slug:new-slug': null,
      'products:category:5': 'cached',
      'products:category:7': null,
      'product:2': 'cached',
      'product:slug:other': 'cached',
    });
    const update = sub.messages[2];
    expect(update).toMatchObject({
      table: 'public.products',
      op: 'u',
      keys: [`${p}:product:1`, `${p}:product:slug:old-slug`, `${p}:product:slug:new-slug`, `${p}:products:category:7`],
    });
    expect(update.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(sub.messages.slice(0, 2).map((m) => [m.op, m.keys])).toEqual([
      ['c', [`${p}:product:1`, `${p}:product:slug:old-slug`, `${p}:products:category:5`]],
      ['c', [`${p}:product:2`, `${p}:product:slug:other`, `${p}:products:category:6`]],
    ]);

    // A delete has no new row: only the keys from the key and the old row.
    await db.sql('DELETE FROM public.products WHERE id = 2');
    await eventually(() => sub.messages.length === 4, 30_000, 'the delete to be published');
    expect(sub.messages[3]).toMatchObject({ op: 'd', keys: [`${p}:product:2`, `${p}:product:slug:other`] });
    expect(await redis.mget(`${p}:product:2`, `${p}:product:slug:other`)).toEqual([null, null]);
  });

  it('writes the row through as JSON with its TTL, replaces it on update, deletes it on delete and leaves a fence', async () => {
    const key = `${p}:order:41`;
    await db.sql("INSERT INTO public.orders VALUES (41, 'new', 12.50)");
    await eventually(async () => (await redis.get(key)) !== null, 30_000, 'the order to be written');
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ id: 41, status: 'new' });
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);

    await db.sql("UPDATE public.orders SET status = 'paid' WHERE id = 41");
    await eventually(async () => JSON.parse((await redis.get(key)) ?? '{}').status === 'paid', 30_000, 'the update to be written');
    const fenceAfterUpdate = await redis.get(`${p}:fence:${key}`);
    expect(fenceAfterUpdate).toMatch(/^[0-9a-f]{32}$/);

    await db.sql('DELETE FROM public.orders WHERE id = 41');
    await eventually(async () => (await redis.exists(key)) === 0, 30_000, 'the delete to be applied');
    const fence = await redis.get(`${p}:fence:${key}`);
    expect(fence! > fenceAfterUpdate!).toBe(true);
  });

  it('appends each change\'s Debezium envelope to the table\'s stream', async () => {
    await db.sql("INSERT INTO public.orders VALUES (77, 'new', 1.00)");
    await db.sql("UPDATE public.orders SET status = 'paid' WHERE id = 77");
    await db.sql('DELETE FROM public.orders WHERE id = 77');
    const stream = `${p}:stream:public.orders`;
    const entries = async () =>
      ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>)
        .map(([, fields]) => Object.fromEntries(fields.reduce<string[][]>((pairs, v, i) => (i % 2 ? pairs : [...pairs, [v, fields[i + 1]]]), [])))
        .filter((f) => {
          const v = JSON.parse(f.value);
          const payload = v.payload ?? v; // with or without schemas_enable
          return (payload.after ?? payload.before).id === 77;
        });
    await eventually(async () => (await entries()).length === 3, 30_000, 'three stream entries');
    const got = await entries();
    expect(got.map((f) => f.op)).toEqual(['c', 'u', 'd']);
    const envelope = JSON.parse(got[1].value);
    const payload = envelope.payload ?? envelope;
    expect(payload).toMatchObject({ op: 'u', after: { id: 77, status: 'paid' }, source: { table: 'orders', schema: 'public' } });
    expect(got[1].lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  it('applies a transaction of 30 000 rows (one write, far more arguments than a call could spread)', async () => {
    const sample = [10_000, 25_000, 39_999].map((id) => `${p}:product:${id}`);
    await redis.mset(...sample.flatMap((k) => [k, 'cached']));
    const before = sub.messages.length;
    await db.sql(`INSERT INTO public.products SELECT g, 'bulk-' || g, 2, 'x' FROM generate_series(10000, 39999) g`);
    await eventually(() => sub.messages.length === before + 30_000, 60_000, '30 000 messages');
    expect(await redis.mget(...sample)).toEqual([null, null, null]);
  }, 90_000);

  it('applies one transaction in one step: a reader sees all of its invalidations or none', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => 100 + i);
    await db.sql(`INSERT INTO public.products SELECT g, 'p' || g, 1, 'x' FROM generate_series(100, 159) g`);
    await eventually(async () => sub.messages.filter((m) => (m.keys as string[]).includes(`${p}:product:159`)).length === 1, 30_000, 'the inserts');
    const keys = ids.map((id) => `${p}:product:${id}`);
    await redis.mset(...keys.flatMap((k) => [k, 'cached']));

    const seen = new Set<number>();
    let watching = true;
    const watcher = (async () => {
      // EXISTS over all keys is one command: it sees the keyspace between two scripts, never inside one.
      while (watching) seen.add(await redis.exists(...keys));
    })();
    await db.sql("UPDATE public.products SET name = 'y' WHERE id BETWEEN 100 AND 159");
    await eventually(async () => (await redis.exists(...keys)) === 0, 30_000, 'the transaction to be applied');
    watching = false;
    await watcher;
    expect([...seen].filter((n) => n !== 0 && n !== keys.length)).toEqual([]);
    expect(seen.has(keys.length)).toBe(true);
  });
});
