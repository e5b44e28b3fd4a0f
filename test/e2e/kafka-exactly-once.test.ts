/**
 * `exactly_once: true` against the real broker, read back with a
 * read_committed consumer (readTopics: kafkajs' default isolation), checked
 * against an oracle slot: every committed change exactly once, each key's
 * events in order (analyzeDelivery with no duplicates, perKeyOrder).
 *
 * - SIGKILL at random points under load, restarted each time.
 * - Zombie fencing: a second worker with the same transactional id (on a copy
 *   of the slot) fences the first, which stops with a hint, and resumes from
 *   the checkpoint the first committed.
 * - A private broker killed and restarted mid-transaction.
 *
 * Kill points come from a seeded generator; SLOTLINE_FAILURE_SEED replays one.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { startKafka } from '../harness/kafka.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, dropSlots, openTopicAdmin, perKeyOrder, prepareCapture, seededRandom, sleep,
  startLoad, testSeed, withRuntime, type LoadSummary,
} from './failure-support.ts';
import { eventually, readTopics, runInProcess, spawnWorker, writeConfig, type TopicReader, type WorkerProcess } from './support.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
}, 60_000);

/** A captured table under load, slotline's config with exactly_once, and a read_committed reader of its topic. */
async function setUp(name: string, brokers: string[], seed: number, extraSlot?: string) {
  const db = await freshDatabase(name);
  const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName(name), uniqueName('oracle'), uniqueName(name)];
  const topic = `${prefix}.public.${table}`;
  const oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
  if (extraSlot) await db.sql('SELECT pg_copy_logical_replication_slot($1, $2)', [slot, extraSlot]);
  cleanup.push(() => oracle.close(), () => dropSlots(db, [slot, oracleSlot, ...(extraSlot ? [extraSlot] : [])]));
  const admin = await openTopicAdmin(brokers);
  cleanup.push(() => admin.close());
  await admin.create(topic);
  const reader = await readTopics(brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
  cleanup.push(() => reader.close());
  const config = await writeConfig({
    db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle', kafkaExtra: 'exactly_once: true\n',
  });
  await withRuntime(config, { batch_max_events: 50 });
  const load = startLoad(db, { table, keys: 25, opsPerTx: [1, 4], payloadBytes: 120, pauseMs: 2, random: seededRandom(seed) });
  cleanup.push(() => load.stop());
  return { db, slot, topic, oracle, admin, reader, config, load, brokers };
}

/**
 * Waits until the reader has read the whole topic. Its last offsets are
 * transaction markers, which a consumer never sees, so a record is appended
 * (outside any transaction, a null value the checks skip) and awaited.
 */
async function readerPassedEnd(reader: TopicReader, brokers: string[], topic: string): Promise<void> {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'end-of-test', value: null }] });
  await producer.disconnect();
  await reader.waitFor((records) => records.some((r) => r.topic === topic && r.key === 'end-of-test'), 30_000);
}

/** After the load: every committed change in the topic exactly once, in order per key. */
async function expectExactlyOnce(env: Awaited<ReturnType<typeof setUp>>, summary: LoadSummary, finish: () => Promise<void>) {
  await env.oracle.sync();
  await env.reader.waitFor((all) => allDelivered(env.oracle.txs, changeRecords(all, env.topic)), 90_000);
  await finish();
  await readerPassedEnd(env.reader, env.brokers, env.topic);
  const records = changeRecords(env.reader.records, env.topic);
  const report = analyzeDelivery(env.oracle.txs, records);
  expect(report.expected).toBe(summary.changes);
  expect(report.missing).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(report.duplicates).toBe(0);
  expect(perKeyOrder(records, summary.lastEvent)).toEqual([]);
  return records.length;
}

describe('Kafka exactly_once', () => {
  it('SIGKILL at random points under load: 0 lost, 0 duplicated for a read_committed consumer', async () => {
    const seed = testSeed();
    const random = seededRandom(seed ^ 0x5eed);
    const env = await setUp('eos_kill', kafkaBrokers(), seed);
    let worker: WorkerProcess | null = null;
    cleanup.push(async () => worker?.child.kill('SIGKILL'));
    const kills: string[] = [];
    for (let i = 0; i < 6; i++) {
      const before = await env.admin.endOffset(env.topic);
      worker = spawnWorker(env.config);
      const w = worker;
      if (i % 3 !== 0) await eventually(async () => (await env.admin.endOffset(env.topic)) > before || w.child.exitCode !== null, 30_000, `session ${i} writing`);
      const delay = Math.floor(random() * (i % 3 === 0 ? 2500 : 500));
      await sleep(delay); // the random kill point
      expect(worker.child.exitCode, `slotline exited on its own before kill ${i}:\n${worker.output()}`).toBeNull();
      worker.child.kill('SIGKILL');
      await worker.exited;
      kills.push(`kill ${i + 1} at +${delay} ms, topic end offset ${await env.admin.endOffset(env.topic)}`);
      await sleep(Math.floor(random() * 1000)); // downtime, so the next session starts with a backlog
    }
    const summary = await env.load.stop();
    worker = spawnWorker(env.config);
    const final = worker;
    const records = await expectExactlyOnce(env, summary, async () => {
      final.child.kill('SIGTERM');
      expect(await final.exited, final.output()).toBe(0);
    });
    console.log(`[kafka-exactly-once] seed ${seed}: ${summary.transactions} txs, ${summary.changes} changes, ${records} records, 0 duplicates\n  ${kills.join('\n  ')}`);
  }, 180_000);

  it('a second worker with the same transactional id fences the first and resumes from its checkpoint', async () => {
    const seed = testSeed();
    const copy = uniqueName('eos_fence_copy');
    const env = await setUp('eos_fence', kafkaBrokers(), seed, copy);
    const first = spawnWorker(env.config);
    cleanup.push(async () => first.child.kill('SIGKILL'));
    await eventually(async () => (await env.admin.endOffset(env.topic)) > 200 || first.child.exitCode !== null, 30_000, 'the first worker writing');
    expect(first.child.exitCode, first.output()).toBeNull();

    // Same sink file and topic prefix, so the same transactional id; its own copy of the slot.
    const { readFile, writeFile } = await import('node:fs/promises');
    const secondConfig = env.config.replace(/slotline\.yaml$/, 'second.yaml');
    await writeFile(secondConfig, (await readFile(env.config, 'utf8')).replace(`slot: ${env.slot}`, `slot: ${copy}`));
    const second = spawnWorker(secondConfig);
    cleanup.push(async () => second.child.kill('SIGKILL'));
    const firstExit = await Promise.race([first.exited, sleep(60_000).then(() => 'still running')]);
    expect(firstExit, first.output()).toBe(1);
    expect(first.output()).toMatch(/fenced this one/);
    expect(second.child.exitCode, second.output()).toBeNull();

    const summary = await env.load.stop();
    await expectExactlyOnce(env, summary, async () => {
      second.child.kill('SIGTERM');
      expect(await second.exited, second.output()).toBe(0);
    });
  }, 180_000);

  it('the broker killed and restarted mid-transaction: nothing lost, nothing twice', async () => {
    const kafka = await startKafka();
    cleanup.push(() => kafka.close());
    const seed = testSeed();
    const env = await setUp('eos_broker', kafka.brokers, seed);
    const worker = await runInProcess(env.config);
    cleanup.push(() => worker.stop());
    await eventually(async () => (await env.admin.endOffset(env.topic)) > 300, 30_000, 'slotline writing');
    await env.admin.close();
    await env.reader.close();
    await kafka.kill();
    await sleep(3000); // the outage: transactions keep committing in Postgres
    await kafka.start();
    const admin = await openTopicAdmin(kafka.brokers);
    cleanup.push(() => admin.close());
    const reader = await readTopics(kafka.brokers, new RegExp(`^${env.topic.replace(/\./g, '\\.')}$`));
    cleanup.push(() => reader.close());
    const summary = await env.load.stop();
    await expectExactlyOnce({ ...env, admin, reader }, summary, async () => {
      await worker.stop('test done');
      await worker.running;
    });
  }, 240_000);
});
