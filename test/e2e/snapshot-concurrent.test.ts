/**
 * End to end, the initial snapshot while the application keeps writing: every
 * row reaches the sinks once — read by the snapshot or streamed, never both and
 * never neither — and at the end each sink equals the table: Kafka's latest
 * value per key, the Elasticsearch index, the Redis `refresh` keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, kafkaBrokers, redisUrl, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { seededRandom, testSeed } from './failure-support.ts';
import { redisClient } from './redis-support.ts';
import { addCacheSink, cacheMismatches, indexMismatches, readNewTopics, startWriter, waitUntilEqual, writerProgress } from './snapshot-support.ts';
import { eventually, runInProcess, writeConfig, type ConsumedRecord } from './support.ts';

/** With `schemas_enable: false` the value is the envelope itself. */
const payload = (r: ConsumedRecord): any => JSON.parse(r.value!);

describe('initial snapshot under concurrent writes', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('hands over from snapshot to stream with no gap and no duplicate (Kafka)', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('snap_kafka');
    const prefix = uniqueName('snapk');
    const tables = ['public.seq', 'public.seq2'];
    for (const t of tables) await db.sql(`CREATE TABLE ${t} (id int PRIMARY KEY, n int NOT NULL); INSERT INTO ${t} SELECT g, 0 FROM generate_series(1, 4000) g`);
    const reader = await readNewTopics(tables.map((t) => `${prefix}.${t}`));
    cleanup.push(() => reader.close());
    const config = await writeConfig({
      db, slot: uniqueName('snap_kafka'), publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers(),
      mainExtra: 'snapshot: { max_connections: 2, fetch_size: 100 }\nschemas_enable: false',
    });

    // Writes before the worker starts, while it starts (the snapshot's edge), and after it created the slot.
    const writer = startWriter(db, tables, 4001, { deletes: false }, random);
    await writerProgress(writer, 20, 0);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await writerProgress(writer, 200, 20);
    const statements = await writer.stop();

    for (const table of tables) {
      const rows: Array<{ id: number; n: number }> = await db.sql(`SELECT id, n FROM ${table} ORDER BY id`);
      const topic = `${prefix}.${table}`;
      const latest = (): Map<number, any> => {
        const map = new Map<number, any>();
        for (const r of reader.records) if (r.topic === topic && r.value !== null) map.set(payload(r).after.id, payload(r));
        return map;
      };
      await eventually(() => {
        const l = latest();
        return rows.every((row) => l.get(row.id)?.after.n === row.n);
      }, 60_000, `${topic} to equal the table (seed ${seed})`);
      const l = latest();
      expect(l.size).toBe(rows.length);
      // Each row arrives once as a read or an insert: the boundary neither drops nor repeats.
      const arrivals = new Map<number, string[]>();
      for (const r of reader.records) {
        if (r.topic !== topic || r.value === null) continue;
        const p = payload(r);
        if (p.op === 'r' || p.op === 'c') arrivals.set(p.after.id, [...(arrivals.get(p.after.id) ?? []), p.op]);
      }
      const wrong = rows.filter((row) => arrivals.get(row.id)?.length !== 1).map((row) => `${row.id}: ${arrivals.get(row.id)}`);
      expect(wrong, `rows read or inserted other than once (seed ${seed})`).toEqual([]);
      const ops = [...arrivals.values()].flat();
      expect(ops.filter((op) => op === 'r').length).toBeGreaterThanOrEqual(4000);
      expect(ops.filter((op) => op === 'c').length).toBeGreaterThan(0);
    }
    console.log(`snapshot hand-over (Kafka): ${statements} concurrent statements, seed ${seed}`);
  }, 120_000);

  it('leaves the Elasticsearch index and the Redis refresh keys equal to the table', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('snap_sinks');
    const prefix = uniqueName('snaps');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL, name text); INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 5000) g');
    const config = await writeEsConfig({
      db, slot: uniqueName('snap_sinks'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(),
      sinkExtra: `index: "${prefix}-{table}"`,
      mainExtra: 'snapshot: { fetch_size: 250 }',
    });
    await addCacheSink(config, prefix, redisUrl());
    const es = esClient(esNode());
    const redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect(), () => es.close());

    const writer = startWriter(db, ['public.items'], 5001, { deletes: true }, random);
    await writerProgress(writer, 20, 0);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await writerProgress(writer, 200, 20);
    const statements = await writer.stop();

    const rows: Array<{ id: number; n: number; name: string | null }> = await db.sql('SELECT id, n, name FROM public.items ORDER BY id');
    const index = `${prefix}-items`;
    await waitUntilEqual(() => indexMismatches(es, index, rows), `the index to equal the table (seed ${seed})`);
    const docs = await readIndex(es, index);
    for (const r of rows.slice(0, 50)) expect(docs.get(String(r.id))).toEqual({ id: r.id, n: r.n, name: r.name });

    await waitUntilEqual(() => cacheMismatches(redis, prefix, rows), `the cache to equal the table (seed ${seed})`);
    const keys = await redis.keys(`${prefix}:item:*`);
    expect(keys.length).toBe(rows.length); // deleted rows left no key behind
    console.log(`snapshot into Elasticsearch + Redis: ${statements} concurrent statements, ${rows.length} rows, seed ${seed}`);
  }, 120_000);
});
