/**
 * Invariant 1 under SIGKILL: slotline runs as a child process and is killed
 * with SIGKILL at random moments while a write load goes on, then restarted.
 * After every kill, everything up to the slot's confirmed_flush_lsn must be in
 * Kafka; at the end, every committed change is in Kafka, and the partition is
 * exactly what at-least-once with replay from the confirmed LSN permits
 * (analyzeDelivery, perKeyOrder in ./failure-support.ts).
 *
 * Kill points and downtimes come from a seeded generator; the seed is printed,
 * and SLOTLINE_FAILURE_SEED=<seed> replays the same schedule and load.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatLsn } from '../../src/lsn.ts';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { eventually, readTopics, spawnWorker, writeConfig, type TopicReader, type WorkerProcess } from './support.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, deliveredPrefix, dropSlots, openProbe, openTopicAdmin, perKeyOrder, prepareCapture,
  readerCaughtUp, seededRandom, sleep, startLoad, testSeed, unconfirmedLoss, withRuntime, type Oracle, type Probe, type TopicAdmin,
} from './failure-support.ts';

const KILLS = 8;

describe('SIGKILL at random points under a write load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('loses nothing, keeps each key in order, and never confirms past what Kafka has', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const brokers = kafkaBrokers();
    const db = await freshDatabase('failure_kill');
    const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName('kill'), uniqueName('oracle'), uniqueName('kill')];
    const topic = `${prefix}.public.${table}`;
    const oracle: Oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
    cleanup.push(() => oracle.close(), () => dropSlots(db, [slot, oracleSlot]));
    const probe: Probe = await openProbe(db);
    cleanup.push(() => probe.close());
    const admin: TopicAdmin = await openTopicAdmin(brokers);
    cleanup.push(() => admin.close());
    await admin.create(topic);
    const reader: TopicReader = await readTopics(brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    cleanup.push(() => reader.close());
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle' });
    // Small batches: catching up after a restart takes many writes, so a kill
    // often lands with changes received but not yet in Kafka — the moment a
    // worker that confirmed what it received (not what Kafka has) would lose them.
    await withRuntime(config, { batch_max_events: 50 });

    const load = startLoad(db, { table, keys: 25, opsPerTx: [1, 4], payloadBytes: 120, pauseMs: 2, random });
    let worker: WorkerProcess | null = null;
    cleanup.push(async () => worker?.child.kill('SIGKILL'));
    const kills: string[] = [];

    for (let i = 0; i < KILLS; i++) {
      const offsetBefore = await admin.endOffset(topic);
      worker = spawnWorker(config);
      // Every third kill lands anywhere from spawn on (startup, slot checks, the
      // first fetch); the others land soon after this session's first write to
      // Kafka, while it catches up on the backlog of its downtime.
      const early = i % 3 === 0;
      if (!early) {
        const w = worker;
        await eventually(async () => (await admin.endOffset(topic)) > offsetBefore || w.child.exitCode !== null, 30_000, `session ${i} writing to Kafka`);
        expect(worker.child.exitCode, worker.output()).toBeNull();
      }
      const delay = Math.floor(random() * (early ? 2500 : 500));
      await sleep(delay); // the random kill point (deliberate, like the downtime below)
      expect(worker.child.exitCode, `slotline exited on its own before kill ${i}:\n${worker.output()}`).toBeNull();
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      worker = null;

      // The server notices the closed socket and releases the slot; its position is final now.
      await eventually(async () => !(await probe.slot(slot)).active, 20_000, 'the slot to be released');
      const confirmed = (await probe.slot(slot)).confirmedFlushLsn;
      await oracle.sync();
      await readerCaughtUp(reader, admin, topic);
      const records = changeRecords(reader.records, topic);
      expect(unconfirmedLoss(oracle.txs, records, confirmed)).toEqual([]);
      const confirmedTxs = oracle.txs.filter((tx) => tx.endLsn <= confirmed).length;
      // Down for a while, so the next session starts with a backlog.
      await sleep(Math.floor(random() * 1500));
      kills.push(
        `kill ${i + 1} (${early ? 'from spawn' : 'after first write'} +${delay} ms): confirmed ${formatLsn(confirmed)} = ${confirmedTxs}/${oracle.txs.length} txs; ` +
          `Kafka has ${deliveredPrefix(oracle.txs, records)} txs complete, ${records.length} records`,
      );
    }

    const summary = await load.stop();
    await oracle.sync();
    worker = spawnWorker(config);
    const final = worker;
    await reader.waitFor((all) => allDelivered(oracle.txs, changeRecords(all, topic)), 60_000).catch((err) => {
      throw new Error(`${err.message}\nworker output:\n${final.output()}`);
    });
    final.child.kill('SIGTERM');
    expect(await final.exited, final.output()).toBe(0);
    worker = null;

    await readerCaughtUp(reader, admin, topic);
    const records = changeRecords(reader.records, topic);
    const report = analyzeDelivery(oracle.txs, records);
    console.log(
      `[failure-sigkill] seed ${seed}: ${summary.transactions} txs, ${summary.changes} changes, ${records.length} records ` +
        `(${report.duplicates} replayed in ${report.runs.length} runs)\n  ${kills.join('\n  ')}`,
    );
    expect(summary.changes).toBe(report.expected);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(perKeyOrder(records, summary.lastEvent)).toEqual([]);
  }, 150_000);
});
