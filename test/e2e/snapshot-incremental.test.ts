/**
 * `slotline snapshot`: re-reading a table while the stream flows.
 *
 * - Into Elasticsearch and a Redis cache under a concurrent update load: the
 *   index and the `refresh` keys end equal to the table, and no document ever
 *   goes back in time (sampled throughout: a row's counter only grows, a
 *   deleted row never comes back).
 * - SIGKILL in the middle of a re-snapshot into Kafka: the restarted worker
 *   continues after the last finished chunk (it does not read the table again
 *   from the start), and every row arrives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, kafkaBrokers, redisUrl, slotMade, uniqueName } from '../harness/context.ts';
import { redisClient } from './redis-support.ts';
import { addCacheSink, cacheMismatches, readNewTopics, waitUntilEqual } from './snapshot-support.ts';
import { main } from '../../src/cli/main.ts';
import { esClient, readIndex, readVersions, writeEsConfig } from './elasticsearch-support.ts';
import { formatLsn } from '../../src/lsn.ts';
import { seededRandom, sleep, testSeed, withRuntime } from './failure-support.ts';
import { eventually, runInProcess, spawnWorker, writeConfig, type WorkerProcess } from './support.ts';

const stateOf = async (db: { sql: (q: string, p?: unknown[]) => Promise<any[]> }, slot: string, table: string) =>
  (await db.sql("SELECT status, rows_read::int AS rows, position FROM public.slotline_snapshots WHERE slot_name = $1 AND kind = 'incremental' AND table_name = $2", [slot, table]))[0];

describe('incremental snapshot (slotline snapshot)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('re-reads a table into Elasticsearch and Redis under updates: both equal the table, no document goes back in time', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('snap_incr_es');
    const prefix = uniqueName('snapi');
    const slot = uniqueName('snap_incr_es');
    const ROWS = 6000;
    const HOT = 200;
    await db.sql(`CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL, name text); INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, ${ROWS}) g`);
    // no_data: the rows that exist now reach the index only through the re-snapshot.
    const config = await writeEsConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(),
      sinkExtra: `index: "${prefix}-{table}"`,
      mainExtra: 'snapshot: { mode: no_data, chunk_size: 300 }',
    });
    // A Redis cache beside the index: its checkpoint is ahead of the reads' versions, which must still land.
    await addCacheSink(config, prefix, redisUrl());
    const redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    const es = esClient(esNode());
    cleanup.push(() => es.close());
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const index = `${prefix}-items`;

    // Updates on a hot set (and some deletes), one per transaction, throughout.
    let running = true;
    const deleted = new Set<number>();
    const load = (async () => {
      while (running) {
        const id = 1 + Math.floor(random() * HOT);
        if (random() < 0.05) {
          await db.sql('DELETE FROM public.items WHERE id = $1', [id]);
          deleted.add(id);
        } else {
          await db.sql('UPDATE public.items SET n = n + 1 WHERE id = $1', [id]);
        }
      }
    })();
    // Sample the hot documents: a counter may only grow, a deleted row may not come back.
    const seen = new Map<number, number>();
    const regressions: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ids = Array.from({ length: HOT }, (_, i) => String(i + 1));
        const reply = await es.mget({ index, ids }).catch(() => null);
        for (const doc of reply?.docs ?? []) {
          const id = Number(doc._id);
          const n = 'found' in doc && doc.found ? (doc._source as { n: number }).n : null;
          const before = seen.get(id);
          if (n !== null && before !== undefined && n < before) regressions.push(`${id}: n ${before} → ${n}`);
          if (n === null && before !== undefined) seen.set(id, Number.MAX_SAFE_INTEGER); // deleted: nothing may reappear
          else if (n !== null) seen.set(id, Math.max(n, before ?? n));
        }
        await sleep(50);
      }
    })();

    await sleep(500);
    expect(await main(['snapshot', '--config', config, '--table', 'public.items'])).toBe(0);
    await eventually(async () => (await stateOf(db, slot, 'public.items'))?.status === 'done', 90_000, 'the re-snapshot to finish');
    await sleep(500);
    running = false;
    await load;

    const rows: Array<{ id: number; n: number; name: string }> = await db.sql('SELECT id, n, name FROM public.items ORDER BY id');
    const diff = async (): Promise<string[]> => {
      const docs = await readIndex(es, index);
      const versions = await readVersions(es, index);
      const out = rows.filter((r) => docs.get(String(r.id))?.n !== r.n).map((r) => `${r.id}: ${JSON.stringify(docs.get(String(r.id)))} version ${formatLsn(BigInt(versions.get(String(r.id)) ?? 0))} (table n=${r.n})`);
      if (docs.size !== rows.length) out.push(`${docs.size} documents for ${rows.length} rows`);
      return out;
    };
    await eventually(async () => (await diff()).length === 0, 60_000, `the index to equal the table (seed ${seed})`).catch(async (err) => {
      throw new Error(`${err.message}\n${(await diff()).slice(0, 10).join('\n')}`);
    });
    await waitUntilEqual(() => cacheMismatches(redis, prefix, rows), `the cache to equal the table (seed ${seed})`);
    sampling = false;
    await sampler;
    expect(regressions, `documents that went back in time (seed ${seed})`).toEqual([]);
    const state = await stateOf(db, slot, 'public.items');
    expect(state.rows).toBeGreaterThanOrEqual(ROWS - deleted.size);
    console.log(`incremental snapshot into Elasticsearch: ${rows.length} rows, ${deleted.size} hot rows deleted meanwhile, ${seen.size} hot documents sampled, seed ${seed}`);
  }, 180_000);

  it('continues after the last finished chunk when the worker is killed mid re-snapshot', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('snap_incr_kill');
    const prefix = uniqueName('snapik');
    const slot = uniqueName('snap_incr_kill');
    const topic = `${prefix}.public.items`;
    const ROWS = 20_000;
    const CHUNK = 500;
    await db.sql(`CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL); INSERT INTO public.items SELECT g, 0 FROM generate_series(1, ${ROWS}) g`);
    const reader = await readNewTopics([topic]);
    cleanup.push(() => reader.close());
    const config = await writeConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers(),
      mainExtra: `snapshot: { mode: no_data, chunk_size: ${CHUNK} }\nschemas_enable: false`,
    });
    await withRuntime(config, { batch_max_events: 100 });
    let worker: WorkerProcess = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(() => slotMade(db, slot), 30_000, 'the worker to make its slot');

    expect(await main(['snapshot', '--config', config, '--table', 'public.items'])).toBe(0);
    const killAfter = 2000 + Math.floor(random() * 8000);
    await eventually(async () => ((await stateOf(db, slot, 'public.items'))?.rows ?? 0) >= killAfter, 90_000, `${killAfter} rows re-read`);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const atKill = await stateOf(db, slot, 'public.items');
    expect(atKill.status).toBe('running');
    expect(atKill.position).not.toBeNull();
    await db.sql('UPDATE public.items SET n = n + 1 WHERE id % 7 = 0');

    worker = spawnWorker(config);
    await eventually(async () => (await stateOf(db, slot, 'public.items'))?.status === 'done', 120_000, 'the re-snapshot to finish after the restart');
    const rows: Array<{ id: number; n: number }> = await db.sql('SELECT id, n FROM public.items ORDER BY id');
    const latest = (): Map<number, number> => {
      const map = new Map<number, number>();
      for (const r of reader.records) if (r.value !== null) map.set(JSON.parse(r.key!).id, JSON.parse(r.value).after.n);
      return map;
    };
    await eventually(() => {
      const l = latest();
      return rows.every((r) => l.get(r.id) === r.n);
    }, 60_000, `Kafka to hold every row's latest value (seed ${seed})`);
    const reads = reader.records.filter((r) => r.value !== null && JSON.parse(r.value).op === 'r');
    expect(reads.every((r) => JSON.parse(r.value!).source.snapshot === 'incremental')).toBe(true);
    // Resumed, not restarted: at most the chunks after the persisted position (and the one in flight) are read again.
    expect(reads.length).toBeLessThan(ROWS + 3 * CHUNK);
    expect(new Set(reads.map((r) => JSON.parse(r.key!).id)).size).toBe(ROWS);
    console.log(`incremental snapshot SIGKILL: killed at ${atKill.rows} rows (position ${JSON.stringify(atKill.position)}), ${reads.length} reads for ${ROWS} rows, seed ${seed}`);
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 240_000);
});
