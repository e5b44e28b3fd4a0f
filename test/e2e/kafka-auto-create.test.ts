/**
 * `create_topics.enabled: false` leaves topics to the broker, as a Debezium
 * deployment does: with the broker's `auto.create.topics.enable=true` the first
 * write creates the topic (with the broker's defaults) and every change gets
 * there; with it off, slotline stops with an operator error that names the
 * topic and says how to fix it, and confirms nothing past what Kafka has.
 * Each case runs against a private broker with that setting.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { errorKind } from '../../src/errors.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { eventually, readTopics, runInProcess, writeConfig } from './support.ts';

async function setUp(name: string, kafka: KafkaServer) {
  const db = await freshDatabase(name);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, label text NOT NULL)');
  const prefix = uniqueName(name);
  const slot = uniqueName(`${name}_slot`);
  const publication = uniqueName(`${name}_pub`);
  const config = await writeConfig({
    db,
    slot,
    publication,
    topicPrefix: prefix,
    tables: ['public.items'],
    brokers: kafka.brokers,
    createTopics: false,
    mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data }',
  });
  return { db, slot, publication, topic: `${prefix}.public.items`, config };
}

describe('create_topics.enabled: false', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  it('a broker with auto.create.topics.enable=true creates the topic on the first write', async () => {
    const kafka = await startKafka({ properties: { 'auto.create.topics.enable': 'true', 'num.partitions': '3' } });
    cleanup.push(() => kafka.close());
    const { db, topic, config } = await setUp('auto_create_on', kafka);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql("INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 50) g");
    await db.sql("UPDATE public.items SET label = 'changed' WHERE id <= 10");

    // A consumer subscribes to the topics that match when it starts: wait for the broker to have it.
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    await eventually(async () => (await admin.listTopics()).includes(topic), 60_000, `topic ${topic} to exist`);
    const reader = await readTopics(kafka.brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    cleanup.push(() => reader.close());
    const records = await reader.waitFor((all) => all.length >= 60, 60_000);
    expect(records).toHaveLength(60);
    const keys = new Set(records.map((r) => JSON.parse(r.key!).id));
    expect(keys.size).toBe(50);
    // Created by the broker, so with its num.partitions, not create_topics.partitions (1).
    expect(new Set(records.map((r) => r.partition)).size).toBe(3);
    await worker.stop('test done');
    await worker.running;
  }, 180_000);

  it('a broker without auto-create: an operator error naming the topic, with a hint', async () => {
    const kafka = await startKafka({ properties: { 'auto.create.topics.enable': 'false' } });
    cleanup.push(() => kafka.close());
    const { db, slot, publication, topic, config } = await setUp('auto_create_off', kafka);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql("INSERT INTO public.items VALUES (1, 'one')");

    const err = await worker.running.then(() => null, (e: unknown) => e);
    expect(errorKind(err)).toBe('operator');
    expect((err as Error).message).toContain(`"${topic}"`);
    expect((err as { hint?: string }).hint).toMatch(/auto\.create\.topics\.enable/);
    expect((err as { hint?: string }).hint).toMatch(/create_topics\.enabled: true/);
    // The insert never reached Kafka, so the slot must still hold it (peeked, not consumed; an idle
    // worker may have confirmed other databases' WAL before it, so no LSN read before it bounds it).
    // The walsender outlives the worker's connection briefly.
    await eventually(async () => (await db.sql('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]))[0].active === false, 30_000, 'the slot released');
    const held = await db.sql(
      `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)
        WHERE get_byte(data, 0) = 73`,
      [slot, publication],
    );
    expect(held).toEqual([{ n: 1 }]);
  }, 180_000);
});
