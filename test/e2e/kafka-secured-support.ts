/**
 * What the tests of a Kafka sink behind a secured listener share (SASL in
 * kafka-sasl.test.ts, TLS in kafka-tls.test.ts): a database with one table, a
 * sink file for that listener, every change delivered through it, or a start
 * refused with a hint before any slot exists.
 */
import { expect } from 'vitest';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import type { KafkaServer } from '../harness/kafka.ts';
import { eventually, readTopics, spawnWorker, writeConfig } from './support.ts';

export interface SecuredSetUp {
  db: FreshDatabase;
  slot: string;
  topic: string;
  config: string;
}

type Cleanup = Array<() => Promise<unknown>>;

/** public.items in a fresh database, and a Kafka sink file for `brokers` with `security` (its sasl or ssl lines). */
export async function setUpSecured(name: string, brokers: string[], security: string): Promise<SecuredSetUp> {
  const db = await freshDatabase(name);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, label text NOT NULL)');
  const prefix = uniqueName(name);
  const slot = uniqueName(`${name}_slot`);
  const config = await writeConfig({
    db, slot, publication: uniqueName(`${name}_pub`), topicPrefix: prefix, tables: ['public.items'],
    brokers, mainExtra: 'schemas_enable: false', kafkaExtra: security,
  });
  return { db, slot, topic: `${prefix}.public.items`, config };
}

/** 20 rows before the start arrive as reads and 5 updates after it as updates, read back over the broker's plain listener; then a clean stop. */
export async function expectEveryChange(kafka: KafkaServer, { db, topic, config }: SecuredSetUp, cleanup: Cleanup, env?: NodeJS.ProcessEnv): Promise<void> {
  await db.sql("INSERT INTO public.items SELECT g, 'before start ' || g FROM generate_series(1, 20) g");
  const worker = spawnWorker(config, { env });
  cleanup.push(async () => worker.child.kill('SIGKILL'));
  // A consumer subscribes to the topics that match when it starts: wait for the sink to have made it.
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  await eventually(async () => worker.child.exitCode !== null || (await admin.listTopics()).includes(topic), 60_000, `topic ${topic}`);
  expect(worker.child.exitCode, worker.output()).toBeNull();
  const reader = await readTopics(kafka.brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
  cleanup.push(() => reader.close());
  await reader.waitFor((all) => all.length >= 20, 60_000);
  await db.sql("UPDATE public.items SET label = 'changed' WHERE id <= 5");
  const records = await reader.waitFor((all) => all.length >= 25, 60_000);
  expect(records.filter((r) => JSON.parse(r.value!).op === 'r')).toHaveLength(20);
  expect(records.filter((r) => JSON.parse(r.value!).op === 'u').map((r) => JSON.parse(r.key!).id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  worker.child.kill('SIGTERM');
  expect(await worker.exited, worker.output()).toBe(0);
}

/** The start is an operator error (exit 78, EX_CONFIG: retrying would not help) naming `failure`, with a hint matching `hint`, and no slot is left. */
export async function expectRefusedAtStart({ db, slot, config }: SecuredSetUp, cleanup: Cleanup, failure: RegExp, hint: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  const worker = spawnWorker(config, { env });
  cleanup.push(async () => worker.child.kill('SIGKILL'));
  expect(await worker.exited, worker.output()).toBe(78);
  expect(worker.output()).toMatch(failure);
  expect(worker.output()).toMatch(hint);
  expect(await db.sql('SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [slot])).toEqual([]);
}
