/**
 * Kafka taken away mid-load (a private broker: stop(), wait, start()), with
 * slotline running in this process so its pipeline counters can be read:
 *
 * - a 20 s outage: slotline stays up, the slot's confirmed position holds still
 *   while Kafka is down, in-flight bytes stay under the ceiling plus one batch,
 *   and once Kafka is back every change arrives, in order per key;
 * - backpressure: with a 256 KiB ceiling, the stalled sink makes slotline stop
 *   reading the replication socket (the walsender's sent_lsn stops while the
 *   WAL grows), and reading resumes when Kafka returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLsn, type Lsn } from '../../src/lsn.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { eventually, readTopics, runInProcess, writeConfig } from './support.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, dropSlots, openProbe, openTopicAdmin, perKeyOrder, prepareCapture, readerCaughtUp,
  seededRandom, sleep, startLoad, testSeed, withRuntime, type LoadOptions,
} from './failure-support.ts';

const OUTAGE_MS = 20_000;

/** Database, capture, topic and an in-process slotline against `brokers`, with the given runtime settings. */
async function setUp(name: string, brokers: string[], runtime: Record<string, number>, cleanup: Array<() => Promise<unknown>>) {
  const db = await freshDatabase(name);
  const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName(name), uniqueName('oracle'), uniqueName(name)];
  const topic = `${prefix}.public.${table}`;
  const oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
  cleanup.push(() => oracle.close(), () => dropSlots(db, [slot, oracleSlot]));
  const probe = await openProbe(db);
  cleanup.push(() => probe.close());
  const admin = await openTopicAdmin(brokers);
  cleanup.push(() => admin.close());
  await admin.create(topic);
  const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle' });
  await withRuntime(config, runtime);
  const worker = await runInProcess(config);
  cleanup.push(() => worker.stop());
  let ended: string | null = null;
  worker.running.then(() => (ended ??= 'returned'), (err) => (ended ??= `failed: ${err}`));
  return { db, table, slot, topic, oracle, probe, admin, worker, ended: () => ended };
}

/** After the load: every committed change reaches Kafka, and the partition is a legal at-least-once history. */
async function expectAllDelivered(brokers: string[], env: Awaited<ReturnType<typeof setUp>>, lastEvent: ReadonlyMap<number, number>, changes: number) {
  await env.oracle.sync();
  const reader = await readTopics(brokers, new RegExp(`^${env.topic.replace(/\./g, '\\.')}$`));
  try {
    await reader.waitFor((all) => allDelivered(env.oracle.txs, changeRecords(all, env.topic)), 60_000);
    await env.worker.stop('test done');
    await env.worker.running;
    await readerCaughtUp(reader, env.admin, env.topic);
    const records = changeRecords(reader.records, env.topic);
    const report = analyzeDelivery(env.oracle.txs, records);
    expect(report.expected).toBe(changes);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(perKeyOrder(records, lastEvent)).toEqual([]);
    return { records: records.length, duplicates: report.duplicates };
  } finally {
    await reader.close();
  }
}

describe('Kafka outages', () => {
  let kafka: KafkaServer;
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    kafka = await startKafka();
  }, 120_000);
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await kafka?.close();
  }, 60_000);

  it('Kafka stopped for 20 s mid-load: no exit, slot held, memory bounded, nothing lost', async () => {
    const seed = testSeed();
    const [maxInFlight, batchMaxBytes] = [1024 * 1024, 256 * 1024];
    const env = await setUp('outage', kafka.brokers, { max_in_flight_bytes: maxInFlight, batch_max_bytes: batchMaxBytes }, cleanup);
    const { worker, probe, slot, topic, admin } = env;
    const load = startLoad(env.db, { table: env.table, keys: 40, opsPerTx: [1, 4], payloadBytes: 200, pauseMs: 2, random: seededRandom(seed) });
    cleanup.push(() => load.stop());
    await eventually(async () => (await admin.endOffset(topic)) > 300, 30_000, 'slotline streaming into Kafka');
    await admin.close();

    await kafka.stop();
    const downAt = Date.now();
    const txsAtStop = load.transactions;
    // No broker, so no acknowledgement can arrive any more: this is the position to hold.
    const held: Lsn = worker.pipeline.stats().confirmedLsn;
    let slotMoved: string | null = null;
    let slotLast: Lsn = 0n;
    while (Date.now() - downAt < OUTAGE_MS) {
      const stats = worker.pipeline.stats();
      const slotState = await probe.slot(slot);
      if (stats.confirmedLsn !== held) slotMoved ??= `pipeline confirmed ${formatLsn(stats.confirmedLsn)} after ${Date.now() - downAt} ms, held ${formatLsn(held)}`;
      if (slotState.confirmedFlushLsn > held) slotMoved ??= `slot confirmed_flush_lsn ${formatLsn(slotState.confirmedFlushLsn)} passed ${formatLsn(held)}`;
      slotLast = slotState.confirmedFlushLsn;
      expect(env.ended(), 'slotline stopped during the outage').toBeNull();
      await sleep(250); // sampling period during the fixed outage
    }
    const walAtUp = await probe.walLsn();
    const outageTxs = load.transactions - txsAtStop;
    const inFlightAtUp = worker.pipeline.stats().inFlightBytes;
    expect(slotMoved).toBeNull();
    // The status timer (1 s) has long told Postgres the held position, and nothing after it.
    expect(slotLast).toBe(held);
    expect(outageTxs).toBeGreaterThan(100);
    expect(walAtUp).toBeGreaterThan(held);

    await kafka.start();
    const upAt = Date.now();
    await eventually(() => worker.pipeline.stats().confirmedLsn >= walAtUp, 60_000, 'slotline to confirm past the WAL written during the outage');
    const recoveryMs = Date.now() - upAt;
    expect(env.ended()).toBeNull();

    const summary = await load.stop();
    const stats = worker.pipeline.stats();
    env.admin = await openTopicAdmin(kafka.brokers);
    cleanup.push(() => env.admin.close());
    const delivered = await expectAllDelivered(kafka.brokers, env, summary.lastEvent, summary.changes);
    console.log(
      `[failure-kafka-outage] seed ${seed}: Kafka down ${OUTAGE_MS} ms while ${outageTxs} txs committed; slot held at ${formatLsn(held)} ` +
        `(WAL at ${formatLsn(walAtUp)}); in flight at the end of the outage ${inFlightAtUp} B, peak ${stats.peakInFlightBytes} B ` +
        `(ceiling ${maxInFlight} + batch ${batchMaxBytes}); recovered (confirmed past the outage's WAL) ${recoveryMs} ms after the broker was back; ` +
        `${summary.changes} changes, ${delivered.records} records, ${delivered.duplicates} duplicates`,
    );
    expect(env.ended()).toBe('returned');
    expect(stats.peakInFlightBytes).toBeGreaterThan(maxInFlight); // the ceiling was reached…
    expect(stats.peakInFlightBytes).toBeLessThanOrEqual(maxInFlight + batchMaxBytes); // …and held
  }, 150_000);

  it('backpressure: a stalled sink stops reading the slot, and reading resumes', async () => {
    const seed = testSeed();
    const maxInFlight = 256 * 1024;
    const env = await setUp('backpressure', kafka.brokers, { max_in_flight_bytes: maxInFlight, batch_max_bytes: 64 * 1024 }, cleanup);
    const { worker, probe, slot, topic, admin } = env;
    // Wide rows and larger transactions, so the socket buffers between the
    // walsender and slotline fill within seconds once slotline stops reading.
    const loadOptions: LoadOptions = { table: env.table, keys: 200, opsPerTx: [2, 6], payloadBytes: 1500, pauseMs: 2, random: seededRandom(seed) };
    const load = startLoad(env.db, loadOptions);
    cleanup.push(() => load.stop());
    await eventually(async () => (await admin.endOffset(topic)) > 300, 30_000, 'slotline streaming into Kafka');
    await admin.close();

    await kafka.stop();
    const downAt = Date.now();
    // Stalled: sent_lsn unchanged for 2 s while the server wrote 1 MiB more WAL and
    // slotline routed no event — it is not reading, the slot holds the WAL.
    let window: { sent: Lsn; since: number; wal: Lsn; events: number } | null = null;
    let stall: { sent: Lsn; forMs: number; walGrowth: bigint; inFlight: number } | null = null;
    await eventually(async () => {
      const [sent, wal] = [await probe.sentLsn(slot), await probe.walLsn()];
      const { events, inFlightBytes } = worker.pipeline.stats();
      if (sent === null) return false;
      if (window === null || sent !== window.sent || events !== window.events) {
        window = { sent, since: Date.now(), wal, events };
        return false;
      }
      const forMs = Date.now() - window.since;
      if (forMs < 2000 || wal - window.wal < 1024n * 1024n) return false;
      stall = { sent, forMs, walGrowth: wal - window.wal, inFlight: inFlightBytes };
      return true;
    }, 60_000, 'sent_lsn to stop advancing while the WAL grows');
    const stalled = stall!;
    const stalledAfterMs = Date.now() - downAt - stalled.forMs;
    expect(stalled.inFlight).toBeGreaterThan(maxInFlight / 2);
    expect(env.ended()).toBeNull();

    await kafka.start();
    const upAt = Date.now();
    const walAtUp = await probe.walLsn();
    await eventually(async () => ((await probe.sentLsn(slot)) ?? 0n) > stalled.sent, 60_000, 'sent_lsn to advance again');
    const resumedMs = Date.now() - upAt;
    await eventually(() => worker.pipeline.stats().confirmedLsn >= walAtUp, 60_000, 'slotline to catch up');

    const summary = await load.stop();
    const peak = worker.pipeline.stats().peakInFlightBytes;
    env.admin = await openTopicAdmin(kafka.brokers);
    cleanup.push(() => env.admin.close());
    const delivered = await expectAllDelivered(kafka.brokers, env, summary.lastEvent, summary.changes);
    console.log(
      `[failure-backpressure] seed ${seed}: Kafka down; sent_lsn stopped at ${formatLsn(stalled.sent)} about ${stalledAfterMs} ms after the stop ` +
        `and held ${stalled.forMs} ms while the WAL grew ${(Number(stalled.walGrowth) / 2 ** 20).toFixed(1)} MiB; in flight ${stalled.inFlight} B ` +
        `(ceiling ${maxInFlight}, peak ${peak}); reading resumed ${resumedMs} ms after the broker was back; ` +
        `${summary.changes} changes, ${delivered.records} records, ${delivered.duplicates} duplicates`,
    );
    expect(peak).toBeLessThanOrEqual(maxInFlight + 64 * 1024);
  }, 150_000);
});
