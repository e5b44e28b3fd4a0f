/**
 * Elasticsearch stopped for 20 s in the middle of a write load (a private node:
 * the shared one serves other files). slotline keeps running, retries with
 * backoff while the node is away, holds at most its in-flight ceiling in memory
 * (the slot keeps the WAL meanwhile), and once the node is back the index
 * equals the table: nothing lost, nothing stale.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startElasticsearch, type EsServer } from '../harness/elasticsearch.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { peakRssKiB, seededRandom, sleep, startLoad, testSeed, withRuntime } from './failure-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';

const OUTAGE_MS = 20_000;
const HEAP_MB = 96;

describe('Elasticsearch stopped for 20 s mid-load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('loses nothing and stays within its memory bound', async () => {
    const seed = testSeed();
    const es: EsServer = await startElasticsearch();
    cleanup.push(() => es.close());
    const client = esClient(es.node);
    cleanup.push(() => client.close());
    const db = await freshDatabase('es_outage');
    const [publication, slot, prefix] = [uniqueName('pub'), uniqueName('es_out'), uniqueName('esout')];
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, seq int NOT NULL, payload text NOT NULL)');
    await db.sql(`CREATE PUBLICATION ${publication} FOR TABLE public.items`);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    cleanup.push(() => db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]));
    const index = `${prefix}.public.items`;
    const config = await writeEsConfig({
      db, slot, publication, topicPrefix: prefix, mainExtra: 'snapshot: { mode: no_data } # the test made the slot', node: es.node, tables: ['public.items'],
      sinkExtra: 'index: "{prefix}.{schema}.{table}"\nrequest_timeout_ms: 5000',
    });
    await withRuntime(config, { batch_max_events: 200 });

    const worker: WorkerProcess = spawnWorker(config, { heapMb: HEAP_MB });
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    const load = startLoad(db, { table: 'items', keys: 300, opsPerTx: [1, 5], payloadBytes: 400, pauseMs: 1, random: seededRandom(seed) });
    await eventually(async () => (await readIndex(client, index)).size > 10, 30_000, 'the first documents');

    await es.stop();
    const outageStart = Date.now();
    while (Date.now() - outageStart < OUTAGE_MS) {
      await sleep(1000);
      expect(worker.child.exitCode, `slotline exited during the outage:\n${worker.output()}`).toBeNull();
    }
    await es.start();
    const summary = await load.stop();

    const expected = new Map((await db.sql('SELECT id, seq, payload FROM public.items')).map((r) => [String(r.id), { id: r.id, seq: r.seq, payload: r.payload }]));
    let docs = new Map<string, unknown>();
    await eventually(async () => {
      docs = await readIndex(client, index).catch(() => new Map());
      return JSON.stringify([...docs].sort()) === JSON.stringify([...expected].sort());
    }, 90_000, `the index to catch up (seed ${seed})`).catch(() => undefined);
    expect(new Map([...docs].sort()), `seed ${seed}`).toEqual(new Map([...expected].sort()));
    expect(summary.transactions).toBeGreaterThan(100);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    // Heap capped at 96 MB: the worker would die of OOM if it buffered the outage's changes.
    const peak = peakRssKiB(worker.child.pid!);
    expect(peak).not.toBeNull();
    expect(peak!).toBeLessThan(400 * 1024);
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 300_000);
});
