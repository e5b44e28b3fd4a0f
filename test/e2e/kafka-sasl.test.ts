/**
 * A Kafka sink that authenticates with SASL (PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512, the mechanisms the sink file offers), against a private
 * broker whose client listener requires it: the changes reach the topic, and
 * a wrong password stops slotline at start with a hint, before any slot exists.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { eventually, readTopics, spawnWorker, writeConfig } from './support.ts';

const USER = 'slotline';
const PASSWORD = 'pl4in-s3cret';

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

describe('Kafka sink with SASL', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let kafka: KafkaServer;
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  async function setUp(name: string, mechanism: Mechanism, password: string) {
    kafka ??= await startKafka({ saslUsers: { [USER]: PASSWORD } }).then((k) => (cleanup.push(() => k.close()), k));
    const db = await freshDatabase(name);
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, label text NOT NULL)');
    const prefix = uniqueName(name);
    const slot = uniqueName(`${name}_slot`);
    const config = await writeConfig({
      db, slot, publication: uniqueName(`${name}_pub`), topicPrefix: prefix, tables: ['public.items'],
      brokers: kafka.saslBrokers, mainExtra: 'schemas_enable: false',
      // The password from the environment, as the docs advise.
      kafkaExtra: `sasl:\n  mechanism: ${mechanism}\n  username: ${USER}\n  password: \${KAFKA_PASSWORD}\n`,
    });
    return { db, slot, topic: `${prefix}.public.items`, config, env: { ...process.env, KAFKA_PASSWORD: password } };
  }

  for (const mechanism of MECHANISMS) {
    it(`${mechanism}: writes every change through the authenticated listener`, async () => {
      const { db, topic, config, env } = await setUp(`sasl_${mechanism.replaceAll('-', '_')}`, mechanism, PASSWORD);
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
    }, 240_000);
  }

  for (const [mechanism, failure] of [['plain', /SASL PLAIN authentication failed/], ['scram-sha-512', /SASL SCRAM SHA512 authentication failed/]] as const) {
    it(`${mechanism}: a wrong password stops slotline at start with a hint, and no slot is left`, async () => {
      const { db, slot, config, env } = await setUp(`sasl_bad_${mechanism.replaceAll('-', '_')}`, mechanism, 'not-the-password');
      const worker = spawnWorker(config, { env });
      cleanup.push(async () => worker.child.kill('SIGKILL'));
      // An operator error (EX_CONFIG): retrying would not help.
      expect(await worker.exited, worker.output()).toBe(78);
      expect(worker.output()).toMatch(failure);
      expect(worker.output()).toMatch(/hint: .*sasl/i);
      expect(await db.sql('SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [slot])).toEqual([]);
    }, 240_000);
  }
});
