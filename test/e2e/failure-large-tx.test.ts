/**
 * Invariant 4 with a large transaction: one INSERT … SELECT generate_series of
 * 500 000 rows of typical width, streamed by `slotline run` with its heap
 * capped at 256 MB and the default runtime settings. slotline must deliver all
 * of it and keep running; its peak RSS is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from '../../src/lsn.ts';
import { freshDatabase, kafkaBrokers, slotStreaming, uniqueName } from '../harness/context.ts';
import { eventually, spawnWorker, writeConfig, type WorkerProcess } from './support.ts';
import { dropSlots, openProbe, openTopicAdmin, peakRssKiB, readAt } from './failure-support.ts';

const ROWS = 500_000;
const HEAP_MB = 256;

describe('a 500k-row transaction with the heap capped', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it(`delivers all ${ROWS} rows without crashing at --max-old-space-size=${HEAP_MB}`, async () => {
    const brokers = kafkaBrokers();
    const db = await freshDatabase('failure_large');
    const [publication, slot, prefix] = [uniqueName('pub'), uniqueName('large'), uniqueName('large')];
    const topic = `${prefix}.public.orders`;
    await db.sql(`CREATE TABLE public.orders (
      id bigint PRIMARY KEY, customer text NOT NULL, email varchar(64), amount numeric(12,2), quantity int,
      paid boolean, created_at timestamptz, tags jsonb, note text)`);
    const probe = await openProbe(db);
    cleanup.push(() => probe.close(), () => dropSlots(db, [slot]));
    const admin = await openTopicAdmin(brokers);
    cleanup.push(() => admin.close());
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: ['public.orders'], brokers, mainExtra: 'schemas_enable: false' });

    let worker: WorkerProcess | null = spawnWorker(config, { heapMb: HEAP_MB });
    cleanup.push(async () => worker?.child.kill('SIGKILL'));
    const proc = worker;
    const pid = proc.child.pid!;
    let peakKiB = 0;
    let baselineKiB = 0;
    const sampler = setInterval(() => {
      const kib = peakRssKiB(pid);
      if (kib !== null) peakKiB = Math.max(peakKiB, kib);
    }, 200);
    cleanup.push(async () => clearInterval(sampler));
    await eventually(async () => (await slotStreaming(db, slot)) || proc.child.exitCode !== null, 30_000, 'slotline streaming');
    expect(proc.child.exitCode, proc.output()).toBeNull();
    baselineKiB = peakRssKiB(pid) ?? 0;

    // One transaction. The WAL insert position read after it commits is at or past
    // its commit record, so a confirmed position there means the whole transaction
    // was confirmed. (A position read inside it is no such bound: the walsender
    // reads past the uncommitted rows long before the commit, and an idle slotline
    // rightly confirms that.)
    const inserted = Date.now();
    await db.sql(`WITH ins AS (
        INSERT INTO public.orders
        SELECT g, 'customer ' || g, 'user' || g || '@example.com', (g % 100000) / 100.0, g % 17, g % 3 = 0,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
               jsonb_build_object('batch', g % 10, 'region', 'eu-west'), CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || md5(g::text) END
        FROM generate_series(1, ${ROWS}) AS g
        RETURNING 1)
      SELECT count(*) AS n FROM ins`);
    const insertMs = Date.now() - inserted;
    const [{ after }] = await db.sql('SELECT pg_current_wal_insert_lsn()::text AS after');

    await eventually(async () => (await probe.slot(slot)).confirmedFlushLsn >= parseLsn(after) || proc.child.exitCode !== null, 150_000, 'the transaction confirmed');
    const deliveredMs = Date.now() - inserted;
    expect(proc.child.exitCode, `slotline exited:\n${proc.output().slice(-3000)}`).toBeNull();
    expect(await admin.endOffset(topic)).toBe(ROWS);

    const spots = [0, 1, Math.floor(ROWS * 0.37), ROWS / 2, ROWS - 1];
    const found = await readAt(brokers, topic, spots);
    for (const offset of spots) {
      const value = JSON.parse(found.get(offset)!.value!);
      const id = offset + 1;
      expect(value.op).toBe('c');
      expect(value.after).toMatchObject({ id, customer: `customer ${id}`, email: `user${id}@example.com`, quantity: id % 17, paid: id % 3 === 0 });
      expect(JSON.parse(found.get(offset)!.key!)).toEqual({ id });
    }

    clearInterval(sampler);
    peakKiB = Math.max(peakKiB, peakRssKiB(pid) ?? 0);
    proc.child.kill('SIGTERM');
    expect(await proc.exited, proc.output().slice(-3000)).toBe(0);
    worker = null;
    console.log(
      `[failure-large-tx] ${ROWS} rows in one transaction: insert ${insertMs} ms, in Kafka and confirmed (${formatLsn((await probe.slot(slot)).confirmedFlushLsn)}) ` +
        `${deliveredMs} ms after the insert began; slotline peak RSS (VmHWM) ${(peakKiB / 1024).toFixed(0)} MiB ` +
        `(${(baselineKiB / 1024).toFixed(0)} MiB when streaming began), heap cap ${HEAP_MB} MB`,
    );
  }, 200_000);
});
