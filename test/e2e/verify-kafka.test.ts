/**
 * `slotline verify` against a real Kafka topic fed by a running worker: the
 * latest record per key, as log compaction would keep it, against the rows.
 * - in sync: exit 0;
 * - records produced behind the worker's back (a tombstone, a wrong value, a
 *   key no row has): exit 1 with exactly those counts and keys;
 * - while a write load keeps changing rows and the worker keeps up: no drift.
 */
import type { Producer } from 'kafkajs';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, readTopics, runInProcess, writeConfig, type TopicReader } from './support.ts';
import { expectNoDriftUnderLoad, runVerify } from './verify-support.ts';

const ROWS = 2000;

describe('slotline verify: Kafka', () => {
  let db: FreshDatabase;
  let config: string;
  let topic: string;
  let reader: TopicReader;
  let producer: Producer;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await freshDatabase('verify_kafka');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text, n int)');
    await db.sql(`INSERT INTO public.items SELECT i, 'item ' || i, i FROM generate_series(1, ${ROWS}) i`);
    const prefix = uniqueName('vk');
    topic = `${prefix}.public.items`;
    config = await writeConfig({
      db, slot: uniqueName('verify_kafka'), publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers(), tables: ['public.items'],
      mainExtra: 'snapshot: { mode: initial }',
    });
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    stops.push(() => admin.disconnect());
    // A consumer subscribes to the topics that match when it starts: wait for the broker to have it.
    await eventually(async () => (await admin.listTopics()).includes(topic), 60_000, `topic ${topic} to exist`);
    reader = await readTopics(kafkaBrokers(), new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    stops.push(() => reader.close());
    await reader.waitFor((records) => records.length >= ROWS, 120_000);
    producer = kafka.producer();
    await producer.connect();
    stops.push(() => producer.disconnect());
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  /** The key bytes the sink writes for `id` (schemas on), made from a record it wrote. */
  const keyOf = (id: number): string => {
    const sample = JSON.parse(reader.records[0].key!);
    return JSON.stringify({ ...sample, payload: { id } });
  };
  const valueOf = (id: number): Record<string, any> => JSON.parse(reader.records.findLast((r) => r.key === keyOf(id) && r.value !== null)!.value!);

  it('finds no drift in a topic the worker keeps: exit 0', async () => {
    const run = await runVerify(config, 'kafka');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.report).toMatchObject({ sink: { type: 'kafka' }, totals: { rows: ROWS, matched: ROWS, missing: 0, stale: 0, extra: 0 }, drift: false });
    expect(run.report!.tables[0].extrasChecked).toBe(true);
  });

  it('reports a tombstoned key as missing, a wrong latest value as stale, a key no row has as extra: exit 1', async () => {
    const wrong = valueOf(7);
    wrong.payload.after.name = 'tampered';
    const ghost = valueOf(8);
    ghost.payload.after = { id: 999999, name: 'ghost', n: 0 };
    await producer.send({
      topic,
      messages: [
        { key: keyOf(5), value: null },
        { key: keyOf(7), value: JSON.stringify(wrong) },
        { key: keyOf(999999), value: JSON.stringify(ghost) },
      ],
    });

    const run = await runVerify(config, 'kafka');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const [table] = run.report!.tables;
    expect(table).toMatchObject({ rows: ROWS, matched: ROWS - 2, missing: 1, stale: 1, extra: 1, inFlight: 0 });
    expect(table.examples.missing).toEqual([{ key: '5', at: `${topic} {"id":5}` }]);
    expect(table.examples.stale).toEqual([{ key: '7', at: `${topic} {"id":7}` }]);
    expect(table.examples.extra).toEqual([{ at: `${topic} {"id":999999}` }]);

    await producer.send({ topic, messages: [{ key: keyOf(999999), value: null }] });
    await db.sql('UPDATE public.items SET n = n WHERE id IN (5, 7)');
    await eventually(async () => (await runVerify(config, 'kafka')).code === 0, 60_000, 'verify to pass again');
  });

  it('reports no drift while rows keep changing and the worker keeps up', async () => {
    await expectNoDriftUnderLoad(db, ROWS, config, 'kafka');
  });
});
