/**
 * The Redis sink on a Redis Cluster of three local masters: a transaction's
 * keys in different hash slots are applied as one script per slot, each with
 * its own checkpoint key; invalidations, refresh writes and their fences all
 * land, and a template's hash tag keeps related keys in one slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { keySlot } from '../../connectors/redis/redis-cluster.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startRedisCluster, type RedisCluster } from '../harness/redis.ts';
import { writeRedisConfig } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';

describe('redis sink on a cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let db: FreshDatabase;
  let worker: Awaited<ReturnType<typeof runInProcess>>;
  const p = uniqueName('rc');

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    db = await freshDatabase('redis_cluster');
    await db.sql('CREATE TABLE public.products (id int PRIMARY KEY, name text)');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `cluster: { nodes: [${cluster.nodes.map((n) => JSON.stringify(n)).join(', ')}] }
checkpoint_key: "${p}:ckpt"
rules:
  - tables: ["public.products"]
    invalidate: ["${p}:product:{id}", "{{${p}:p{id}}}:page"]
    refresh: { key: "${p}:row:{id}" }`,
    );
    worker = await runInProcess(config);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    client?.disconnect();
    await cluster?.close();
  });

  it('applies a transaction spanning many hash slots, per slot, with a checkpoint in each', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    const invalidated = ids.flatMap((id) => [`${p}:product:${id}`, `{${p}:p${id}}:page`]);
    expect(new Set(invalidated.map(keySlot)).size).toBeGreaterThan(20);
    for (const key of invalidated) await client.set(key, 'cached');

    await db.sql(`INSERT INTO public.products SELECT g, 'n' || g FROM generate_series(1, 40) g`);
    await eventually(async () => (await Promise.all(ids.map((id) => client.exists(`${p}:row:${id}`)))).every((n) => n === 1), 30_000, 'rows written through');
    expect(JSON.parse((await client.get(`${p}:row:7`))!)).toEqual({ id: 7, name: 'n7' });
    const left = await Promise.all(invalidated.map((k) => client.exists(k)));
    expect(invalidated.filter((_, i) => left[i] === 1)).toEqual([]);
    // A fence beside each refresh key, in its slot.
    expect(await client.exists(`slotline:fence:{${p}:row:7}`)).toBe(1);
    // One checkpoint key per slot touched.
    const checkpoints = (await Promise.all(client.nodes('master').map((node) => node.keys(`${p}:ckpt:*`)))).flat();
    expect(checkpoints.length).toBeGreaterThan(1);
    expect(new Set(checkpoints.map(keySlot)).size).toBe(checkpoints.length);
  });
});
