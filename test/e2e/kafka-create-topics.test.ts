/**
 * `create_topics.enabled: true` creates a table's topic before its first
 * record, through an admin client the sink connects at start and keeps. A
 * broker restart drops that client's connection: the first change of a table
 * after it must still get its topic, and every change must arrive. The broker
 * has auto-create off, so only the sink can have made the topic.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { startKafka } from '../harness/kafka.ts';
import { eventually, readTopics, runInProcess, writeConfig } from './support.ts';

describe('create_topics.enabled: true', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  it("creates a new table's topic after a broker restart, and every change arrives", async () => {
    const kafka = await startKafka({ properties: { 'auto.create.topics.enable': 'false' } });
    cleanup.push(() => kafka.close());
    const db = await freshDatabase('create_topics');
    await db.sql('CREATE TABLE public.first (id int PRIMARY KEY); CREATE TABLE public.later (id int PRIMARY KEY)');
    const prefix = uniqueName('create_topics');
    const config = await writeConfig({
      db, slot: uniqueName('create_topics'), publication: uniqueName('pub'), topicPrefix: prefix,
      tables: ['public.first', 'public.later'], brokers: kafka.brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data }',
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const [first, later] = [`${prefix}.public.first`, `${prefix}.public.later`];
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();

    const named = (tables: string) => new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.public\\.(${tables})$`);
    // A consumer subscribes to the topics that exist when it starts: wait for the sink to make each.
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    await db.sql('INSERT INTO public.first VALUES (1)');
    await eventually(async () => (await admin.listTopics()).includes(first), 60_000, `topic ${first} to exist`);
    const before = await readTopics(kafka.brokers, named('first'));
    cleanup.push(() => before.close());
    await before.waitFor((records) => records.length === 1, 60_000);
    await before.close();

    await kafka.stop();
    await kafka.start();
    await db.sql('INSERT INTO public.later VALUES (1); INSERT INTO public.first VALUES (2)');

    await eventually(async () => (await admin.listTopics()).includes(later), 90_000, `topic ${later} to exist`);
    const after = await readTopics(kafka.brokers, named('first|later'));
    cleanup.push(() => after.close());
    const records = await after.waitFor((all) => all.length >= 3, 60_000);
    const keysOf = (topic: string) => records.filter((r) => r.topic === topic).map((r) => JSON.parse(r.key!));
    expect(keysOf(first)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(keysOf(later)).toEqual([{ id: 1 }]);
    const [{ partitions }] = (await admin.fetchTopicMetadata({ topics: [later] })).topics;
    expect(partitions).toHaveLength(1); // create_topics.partitions, the sink's default

    await worker.stop('test done');
    await worker.running;
  }, 240_000);
});
