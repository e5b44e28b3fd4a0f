/**
 * SIGKILL of the worker under a write load, Elasticsearch edition: slotline runs
 * as a child process, is killed at random moments (seeded; SLOTLINE_FAILURE_SEED
 * replays a schedule) and restarted. Replays after each restart re-send changes
 * Elasticsearch already has; their LSN versions are older, so they are refused
 * (409, counted as applied). At the end the index equals the table: every row a
 * document with the row's latest values, no document of a deleted row.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { seededRandom, sleep, startLoad, testSeed, withRuntime } from './failure-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';

const KILLS = 4;

describe('Elasticsearch: SIGKILL at random points under a write load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  const client = esClient(esNode());
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await client.close();
  });

  it('ends with the index equal to the table, no stale or deleted documents', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('es_kill');
    const [publication, slot, prefix] = [uniqueName('pub'), uniqueName('es_kill'), uniqueName('eskill')];
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, seq int NOT NULL, payload text NOT NULL)');
    await db.sql(`CREATE PUBLICATION ${publication} FOR TABLE public.items`);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    cleanup.push(() => db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]));
    const index = `${prefix}.public.items`;
    const config = await writeEsConfig({
      db, slot, publication, topicPrefix: prefix, mainExtra: 'snapshot: { mode: no_data } # the test made the slot', node: esNode(), tables: ['public.items'],
      sinkExtra: 'index: "{prefix}.{schema}.{table}"\nbatch: { max_actions: 20, concurrency: 2 }',
    });
    await withRuntime(config, { batch_max_events: 50 });

    const load = startLoad(db, { table: 'items', keys: 40, opsPerTx: [1, 4], payloadBytes: 100, pauseMs: 2, random });
    let worker: WorkerProcess | null = null;
    cleanup.push(async () => worker?.child.kill('SIGKILL'));
    for (let i = 0; i < KILLS; i++) {
      worker = spawnWorker(config);
      const delay = 500 + Math.floor(random() * 2500);
      await sleep(delay); // the random kill point
      expect(worker.child.exitCode, `slotline exited on its own before kill ${i} (seed ${seed}):\n${worker.output()}`).toBeNull();
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      await eventually(async () => {
        const [row] = await db.sql('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        return row.active === false;
      }, 20_000, 'the slot to be released');
    }
    const summary = await load.stop();
    expect(summary.transactions).toBeGreaterThan(20);

    worker = spawnWorker(config);
    const w = worker;
    const table = async (): Promise<Map<string, unknown>> =>
      new Map((await db.sql('SELECT id, seq, payload FROM public.items')).map((r) => [String(r.id), { id: r.id, seq: r.seq, payload: r.payload }]));
    const expected = await table();
    let docs = new Map<string, unknown>();
    await eventually(async () => {
      docs = await readIndex(client, index);
      return JSON.stringify([...docs].sort()) === JSON.stringify([...expected].sort()) || w.child.exitCode !== null;
    }, 60_000, `the index to equal the table (seed ${seed})`).catch(() => undefined);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(new Map([...docs].sort()), `seed ${seed}`).toEqual(new Map([...expected].sort()));
    expect(summary.exists.size).toBe(expected.size);
    worker.child.kill('SIGTERM');
    await worker.exited;
    worker = null;
  }, 180_000);
});
