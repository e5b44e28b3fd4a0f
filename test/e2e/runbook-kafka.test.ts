/**
 * docs/runbook.md, drill (c): a Kafka topic lost. The commands and the shadow
 * sink files come from the page itself (runbook-support.ts). With the worker
 * stopped and its topic deleted: a drill rebuilds the table's state into
 * topics under a new prefix (every row read, the changes since streamed) and
 * verifies it with no drift; a replay from the rewind slot sends the window's
 * changes into another prefix, exactly the changes made since the rewind slot
 * began. Neither moves the production slot or the rewind slot.
 */
import { dirname } from 'node:path';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { slotsOf } from './drill-support.ts';
import { runbookDrill, runRunbookCommand, writeRunbookFiles } from './runbook-support.ts';
import { eventually, readTopics, runInProcess, writeConfig } from './support.ts';

const ROWS = 500;

describe('runbook drill (c): a Kafka topic lost', () => {
  let db: FreshDatabase;
  let dir: string;
  let prefix: string;
  const stops: Array<() => Promise<unknown>> = [];
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    stops.push(() => admin.disconnect());
    db = await freshDatabase('runbook_kafka');
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, customer text, total int)');
    await db.sql(`INSERT INTO public.orders SELECT i, 'customer ' || i, i FROM generate_series(1, ${ROWS}) i`);
    prefix = uniqueName('rbk');
    const config = await writeConfig({
      db, slot: uniqueName('runbook_kafka'), publication: uniqueName('pub'), topicPrefix: prefix, brokers: kafkaBrokers(), tables: ['public.orders'],
      sourceExtra: 'rewind: { retain: 1h }',
      mainExtra: 'snapshot: { mode: initial }',
    });
    dir = dirname(config);
  }, 60_000);
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('rebuilds the lost topic under a new prefix with no drift, and replays the window into another, the slots unmoved', async () => {
    const topic = `${prefix}.public.orders`;
    const worker = await runInProcess(dir + '/slotline.yaml');
    stops.push(() => worker.stop());
    await eventually(async () => (await admin.listTopics()).includes(topic), 60_000, `topic ${topic}`);
    const production = await readTopics(kafkaBrokers(), new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    stops.push(() => production.close());
    // 500 reads, then 20 updates, 5 inserts and 5 deletes in 3 transactions: the window's changes.
    await db.sql('UPDATE public.orders SET total = total + 1 WHERE id <= 20');
    await db.sql(`INSERT INTO public.orders SELECT i, 'new', 0 FROM generate_series(${ROWS + 1}, ${ROWS + 5}) i`);
    await db.sql('DELETE FROM public.orders WHERE id BETWEEN 101 AND 105');
    await production.waitFor((records) => records.length >= ROWS + 35, 60_000);
    await worker.stop();
    await admin.deleteTopics({ topics: [topic] });
    const before = await slotsOf(db);

    const drill = await runbookDrill('c');
    expect(drill.commands.map((c) => c[1])).toEqual(['drill', 'replay']);
    await writeRunbookFiles(drill, dir, { 'kafka:9092': kafkaBrokers().join(',') });

    const rebuilt = await runRunbookCommand(drill, 0, dir);
    expect(rebuilt.code, rebuilt.stdout + rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^drill into sink "kafka-rebuild" \(kafka, .*kafka-rebuild\.yaml\): rebuilt from nothing up to the live position/m);
    expect(rebuilt.stdout).toMatch(/^drill passed in [\d.]+ s: the rebuilt sink matches the tables \(500 rows, no drift\); exit 0$/m);

    const replayed = await runRunbookCommand(drill, 1, dir);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/^replayed 3 transactions, 30 events in [\d.]+ s .* into sink "kafka-replay" \(kafka, /m);
    expect(replayed.stdout).toMatch(/^ {2}public\.orders +5 +20 +5 +30$/m);
    const window = await readTopics(kafkaBrokers(), new RegExp(`^replayed\\.${prefix}\\.public\\.orders$`));
    stops.push(() => window.close());
    const records = await window.waitFor((r) => r.length >= 35, 60_000);
    // 30 change events, and a tombstone after each delete.
    expect(records.filter((r) => r.value === null)).toHaveLength(5);
    expect(records.map((r) => JSON.parse(r.value ?? '{"payload":{"op":"t"}}').payload.op).filter((op: string) => op !== 't').sort().join('')).toBe('c'.repeat(5) + 'd'.repeat(5) + 'u'.repeat(20));

    expect(await slotsOf(db)).toEqual(before);
  }, 240_000);
});
