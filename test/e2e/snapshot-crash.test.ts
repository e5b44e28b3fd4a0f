/**
 * SIGKILL during the initial snapshot. What the docs promise (docs/snapshots.md):
 * the state table still says `running`, so the next start takes the snapshot
 * again from the start on the same slot (which has not moved), says so in its
 * log, and streams from the slot's position afterwards — rows changed
 * meanwhile arrive again, nothing is missing, and the sink ends equal to the
 * table, deletes included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { openTopicAdmin, seededRandom, sleep, testSeed, withRuntime } from './failure-support.ts';
import { readNewTopics, startWriter } from './snapshot-support.ts';
import { eventually, spawnWorker, writeConfig, type WorkerProcess } from './support.ts';

const ROWS = 30_000;

describe('SIGKILL during the initial snapshot', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('takes the snapshot again at restart and ends equal to the table', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const db = await freshDatabase('snap_crash');
    const prefix = uniqueName('snapc');
    const slot = uniqueName('snap_crash');
    const topic = `${prefix}.public.items`;
    await db.sql(`CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL); INSERT INTO public.items SELECT g, 0 FROM generate_series(1, ${ROWS}) g`);
    const admin = await openTopicAdmin(kafkaBrokers());
    cleanup.push(() => admin.close());
    const reader = await readNewTopics([topic]);
    cleanup.push(() => reader.close());
    const config = await writeConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers(),
      mainExtra: 'snapshot: { fetch_size: 200 }\nschemas_enable: false',
    });
    // A small ceiling and small batches keep the snapshot going long enough to be killed inside it.
    await withRuntime(config, { batch_max_events: 200, max_in_flight_bytes: '512KiB' });

    const writer = startWriter(db, ['public.items'], ROWS + 1, { deletes: true, pauseMs: 2 }, random);
    cleanup.push(() => writer.stop());

    let worker: WorkerProcess = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    const killAt = 1000 + Math.floor(random() * 10_000);
    await eventually(async () => (await admin.endOffset(topic)) >= killAt, 60_000, `${killAt} records`);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const [state] = await db.sql("SELECT status, rows_read FROM public.slotline_snapshots WHERE slot_name = $1 AND kind = 'initial'", [slot]);
    expect(state.status, `killed after ${killAt} records: the snapshot must not look finished`).toBe('running');
    const [{ confirmed }] = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [slot]);

    await sleep(500);
    worker = spawnWorker(config);
    await eventually(() => worker.output().includes('did not finish'), 30_000, 'the restart to say it takes the snapshot again');
    await eventually(async () => (await db.sql("SELECT status FROM public.slotline_snapshots WHERE slot_name = $1 AND kind = 'initial'", [slot]))[0].status === 'done', 90_000, 'the second snapshot to finish');
    await writer.stop();

    const rows: Array<{ id: number; n: number }> = await db.sql('SELECT id, n FROM public.items ORDER BY id');
    const latest = (): Map<number, { op: string; n: number } | null> => {
      const map = new Map<number, { op: string; n: number } | null>();
      for (const r of reader.records) {
        const id = JSON.parse(r.key!).id;
        if (r.value === null) map.set(id, null);
        else {
          const p = JSON.parse(r.value);
          map.set(id, p.op === 'd' ? null : { op: p.op, n: p.after.n });
        }
      }
      return map;
    };
    const diff = (): string[] => {
      const l = latest();
      const live = new Set(rows.map((r) => r.id));
      const out = rows.filter((r) => l.get(r.id)?.n !== r.n).map((r) => `${r.id}: ${JSON.stringify(l.get(r.id))} (table n=${r.n})`);
      for (const [id, v] of l) if (v !== null && !live.has(id)) out.push(`${id}: deleted in the table, ${JSON.stringify(v)} in Kafka`);
      return out;
    };
    await eventually(() => diff().length === 0, 90_000, `Kafka to equal the table (seed ${seed})`).catch((err) => {
      throw new Error(`${err.message}\n${diff().slice(0, 10).join('\n')}\n${worker.output().slice(-2000)}`);
    });
    const [{ confirmedAfter }] = await db.sql('SELECT confirmed_flush_lsn::text AS "confirmedAfter" FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    console.log(`snapshot SIGKILL: killed after ${killAt} records (slot at ${confirmed}, now ${confirmedAfter}), ${rows.length} rows at the end, seed ${seed}`);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 240_000);
});
