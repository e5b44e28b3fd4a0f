/**
 * Graceful stop under a write load: SIGTERM makes `slotline run` stop reading,
 * drain the sinks, confirm what Kafka has and exit 0; a restart then delivers
 * the rest, replaying at most the transaction that was cut by the stop.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatLsn } from '../../src/lsn.ts';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { eventually, readConfig, readTopics, spawnWorker, writeConfig, type WorkerProcess } from './support.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, deliveredPrefix, dropSlots, openProbe, openTopicAdmin, perKeyOrder, prepareCapture,
  readerCaughtUp, seededRandom, startLoad, testSeed, unconfirmedLoss,
} from './failure-support.ts';

describe('graceful stop (SIGTERM) during a write load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('exits 0 in time, confirms exactly what Kafka has, and a restart delivers the rest', async () => {
    const seed = testSeed();
    const brokers = kafkaBrokers();
    const db = await freshDatabase('failure_term');
    const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName('term'), uniqueName('oracle'), uniqueName('term')];
    const topic = `${prefix}.public.${table}`;
    const oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
    cleanup.push(() => oracle.close(), () => dropSlots(db, [slot, oracleSlot]));
    const probe = await openProbe(db);
    cleanup.push(() => probe.close());
    const admin = await openTopicAdmin(brokers);
    cleanup.push(() => admin.close());
    await admin.create(topic);
    const reader = await readTopics(brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    cleanup.push(() => reader.close());
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle' });
    const shutdownTimeoutMs = (await readConfig(config)).runtime.shutdown_timeout_ms;

    const load = startLoad(db, { table, keys: 25, opsPerTx: [1, 4], payloadBytes: 120, pauseMs: 2, random: seededRandom(seed) });
    let worker: WorkerProcess | null = spawnWorker(config);
    cleanup.push(async () => worker?.child.kill('SIGKILL'));
    const first = worker;
    // Stop in mid-stream: after this session has written a good part of the load.
    await eventually(async () => (await admin.endOffset(topic)) > 1500 || first.child.exitCode !== null, 60_000, 'slotline streaming into Kafka');
    expect(first.child.exitCode, first.output()).toBeNull();

    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const exitCode = await first.exited;
    const stopMs = Date.now() - signalled;
    worker = null;
    expect(exitCode, first.output()).toBe(0);
    expect(stopMs).toBeLessThan(shutdownTimeoutMs);
    // What an operator's log shipper reads: JSON records only, nothing from Node or a library
    // between them (kafkajs' TimeoutNegativeWarning on Node 24, connectors/kafka/kafkajs.ts).
    expect(first.output().split('\n').filter((line) => line.trim() !== '' && !isJsonObject(line))).toEqual([]);

    await eventually(async () => !(await probe.slot(slot)).active, 20_000, 'the slot to be released');
    const confirmed = (await probe.slot(slot)).confirmedFlushLsn;
    await oracle.sync();
    await readerCaughtUp(reader, admin, topic);
    const atStop = changeRecords(reader.records, topic);
    const complete = deliveredPrefix(oracle.txs, atStop);
    const lastInKafka = oracle.txs[complete - 1];
    const next = oracle.txs[complete];
    // Safety: nothing confirmed that Kafka lacks.
    expect(unconfirmedLoss(oracle.txs, atStop, confirmed)).toEqual([]);
    // The stop confirmed what it wrote: the confirmed position is the end of the
    // last transaction Kafka has in full — or, when Kafka has every change of
    // that transaction but the stop came before its Commit message was read (so
    // slotline could not know it was complete), the end of the one before it;
    // then nothing of the following transaction can have been written.
    const nextStarted = next !== undefined && atStop.some((r) => next.changes.includes(r.lsn));
    const commitUnread = confirmed < lastInKafka.endLsn;
    const at = (lsn: bigint | undefined): string => (lsn === undefined ? 'none' : formatLsn(lsn));
    if (commitUnread) {
      const before = oracle.txs[complete - 2]?.endLsn;
      expect(at(confirmed), `confirmed is neither the end of the last tx in Kafka (${at(lastInKafka.endLsn)}) nor of the one before`).toBe(at(before));
      expect(nextStarted, 'Kafka has changes of a tx after one whose commit slotline had not read').toBe(false);
    } else {
      expect(confirmed >= lastInKafka.endLsn).toBe(true);
    }
    if (next !== undefined) expect(confirmed < next.endLsn, `confirmed ${at(confirmed)} passes the end of tx ${next.xid} (${at(next.endLsn)}), which Kafka lacks`).toBe(true);

    // Restart after the load: the rest arrives, replaying only from the confirmed position.
    const summary = await load.stop();
    await oracle.sync();
    worker = spawnWorker(config);
    const second = worker;
    await reader.waitFor((all) => allDelivered(oracle.txs, changeRecords(all, topic)), 60_000).catch((err) => {
      throw new Error(`${err.message}\nworker output:\n${second.output()}`);
    });
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
    worker = null;

    await readerCaughtUp(reader, admin, topic);
    const records = changeRecords(reader.records, topic);
    const report = analyzeDelivery(oracle.txs, records);
    console.log(
      `[failure-graceful-stop] seed ${seed}: SIGTERM → exit 0 in ${stopMs} ms (timeout ${shutdownTimeoutMs} ms); ` +
        `confirmed ${formatLsn(confirmed)} ${confirmed === lastInKafka.endLsn ? '= end of' : commitUnread ? '= end of' : 'past the end of'} tx ${commitUnread ? complete - 1 : complete}/${oracle.txs.length} ` +
        `(Kafka had ${complete} complete${nextStarted ? ' and part of the next' : ''}); after restart ${records.length} records, ${report.duplicates} replayed`,
    );
    expect(summary.changes).toBe(report.expected);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
    // One stop, one restart: at most one replay, and it starts at the confirmed position.
    expect(report.runs.length).toBeLessThanOrEqual(2);
    if (report.runs.length === 2) {
      const firstAfterConfirmed = oracle.txs.filter((tx) => tx.endLsn <= confirmed).reduce((n, tx) => n + tx.changes.length, 0);
      expect(report.runs[1].from).toBe(firstAfterConfirmed);
    }
    expect(perKeyOrder(records, summary.lastEvent)).toEqual([]);
  }, 120_000);
});

function isJsonObject(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}
