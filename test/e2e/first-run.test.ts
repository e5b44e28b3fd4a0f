/**
 * A first run against a database prepared the way users prepare theirs
 * (issue "first run without surprises"):
 *
 * - a publication that already exists and carries more tables than
 *   `source.tables` lists: exactly the listed tables reach Kafka, in the
 *   initial snapshot and in the stream — partitions of a listed partitioned
 *   table included, the other tables never;
 * - a publication a DBA made (`create_publication: false`) while slotline
 *   creates the slot: the existing rows arrive through the exported snapshot;
 * - a slot made by hand (`create_slot: false`) with `snapshot.mode: initial`:
 *   slotline says loudly that it reads the tables now, and the rows arrive;
 * - `create: false` is still the shorthand for both.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { readNewTopics } from './snapshot-support.ts';
import { eventually, runInProcess, spawnWorker, writeConfig } from './support.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

interface ConsoleRecord {
  topic: string;
  key: unknown;
  value: { payload?: { op: string; after: Record<string, unknown> | null } } | null;
}

async function consoleRecords(configPath: string): Promise<ConsoleRecord[]> {
  const text = await readFile(join(dirname(configPath), 'console.jsonl'), 'utf8').catch(() => '');
  // The sink may be mid-write: only whole lines count.
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

describe('source.tables against a publication that carries more', () => {
  it('delivers exactly the listed tables (and partitions of a listed table), in the snapshot and in the stream', async () => {
    const db = await freshDatabase('scope');
    const [slot, publication, prefix] = [uniqueName('scope'), uniqueName('pub'), uniqueName('scope')];
    await db.sql(`
      CREATE TABLE public.orders (id int PRIMARY KEY, total int NOT NULL);
      CREATE TABLE public.products (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE public.big (id int PRIMARY KEY, pad text NOT NULL);
      CREATE TABLE public.readings (id int NOT NULL, site int NOT NULL, PRIMARY KEY (id, site)) PARTITION BY LIST (site);
      CREATE TABLE public.readings_1 PARTITION OF public.readings FOR VALUES IN (1);
      CREATE TABLE public.readings_2 PARTITION OF public.readings FOR VALUES IN (2);
      INSERT INTO public.orders SELECT g, g * 10 FROM generate_series(1, 20) g;
      INSERT INTO public.products SELECT g, 'p' || g FROM generate_series(1, 20) g;
      INSERT INTO public.big SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
      INSERT INTO public.readings SELECT g, 1 + g % 2 FROM generate_series(1, 10) g;
      CREATE PUBLICATION ${publication} FOR TABLE public.orders, public.products, public.big, public.readings;
    `);
    const brokers = kafkaBrokers();
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, brokers, tables: ['public.orders', 'public.readings'] });
    // The listed tables' topics exist first (a consumer resolves its topics when it subscribes); the sink creates any other it writes to.
    const reader = await readNewTopics(['orders', 'readings_1', 'readings_2'].map((t) => `${prefix}.public.${t}`));
    cleanup.push(() => reader.close());
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());

    const of = (topic: string) => reader.records.filter((r) => r.topic === `${prefix}.public.${topic}`);
    await reader.waitFor(() => of('orders').length === 20 && of('readings_1').length + of('readings_2').length === 10, 60_000);

    // Streamed: the unlisted table's change commits first, then the listed ones'.
    await db.sql("INSERT INTO public.products VALUES (100, 'new')");
    await db.sql('UPDATE public.big SET pad = $1 WHERE id <= 10', ['y']);
    await db.sql('INSERT INTO public.orders VALUES (100, 1000)');
    await db.sql('INSERT INTO public.readings VALUES (100, 2)');
    await reader.waitFor(() => of('orders').length === 21 && of('readings_2').length === 6, 30_000);
    // A sink gets transactions in commit order: had the router kept products or big, their topics would exist by now.

    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`)).sort();
    await admin.disconnect();
    expect(topics).toEqual([`${prefix}.public.orders`, `${prefix}.public.readings_1`, `${prefix}.public.readings_2`]);
    expect(reader.records.map((r) => JSON.parse(r.value!).payload.op).filter((op) => op === 'r')).toHaveLength(30);
    expect(worker.pipeline.stats().events).toBe(2); // only the listed tables' streamed changes were turned into events
  });
});

/** public.items with `rows` rows, and a publication of it made by a DBA. */
async function itemsWithPublication(name: string, rows: number) {
  const db = await freshDatabase(name);
  const [slot, publication, prefix] = [uniqueName(name), uniqueName('pub'), uniqueName(name)];
  await db.sql(`
    CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL);
    INSERT INTO public.items SELECT g, g FROM generate_series(1, ${rows}) g;
    CREATE PUBLICATION ${publication} FOR TABLE public.items;
  `);
  return { db, slot, publication, prefix };
}

describe('create_publication and create_slot', () => {
  it('create_publication: false with a DBA-made publication: slotline creates the slot and sends the existing rows', async () => {
    const { db, slot, publication, prefix } = await itemsWithPublication('create_pub_off', 50);
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: ['public.items'] });
    await replaceInFile(config, '  create: true\n', '  create_publication: false\n');
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await eventually(async () => (await consoleRecords(config)).length === 50, 30_000, '50 snapshot reads');
    await db.sql('INSERT INTO public.items VALUES (51, 51)');
    await eventually(async () => (await consoleRecords(config)).length === 51, 30_000, 'the streamed insert');
    const records = await consoleRecords(config);
    expect(records.slice(0, 50).every((r) => r.value?.payload?.op === 'r')).toBe(true);
    expect(records[50].value?.payload?.op).toBe('c');
    await worker.stop();
    const [slotRow] = await db.sql('SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(slotRow.n).toBe(1);
  });

  it('a slot made by hand (create_slot: false): snapshot.mode initial says it reads the tables now, and does', async () => {
    const { db, slot, publication, prefix } = await itemsWithPublication('foreign_slot', 30);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    await db.sql('UPDATE public.items SET n = n + 100 WHERE id <= 5');
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: ['public.items'] });
    await replaceInFile(config, '  create: true\n', '  create_publication: false\n  create_slot: false\n');
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    // 30 reads, then the 5 updates made after the slot was created, from the stream.
    await eventually(async () => (await consoleRecords(config)).length === 35, 30_000, '30 reads and 5 streamed updates');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const records = await consoleRecords(config);
    expect(records.slice(0, 30).map((r) => r.value?.payload?.op)).toEqual(Array(30).fill('r'));
    expect(records.slice(30).map((r) => r.value?.payload?.op)).toEqual(Array(5).fill('u'));
    const warning = worker.output().split('\n').find((line) => line.includes('"snapshot needed"'));
    expect(warning, worker.output()).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, reason: expect.stringMatching(/no record of an initial snapshot.*snapshot\.mode: no_data/) });
  });

  it('create: false stays the shorthand for both: a missing slot is an error naming the SQL, and nothing is created', async () => {
    const db = await freshDatabase('create_off');
    const [slot, publication, prefix] = [uniqueName('co'), uniqueName('pub'), uniqueName('co')];
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: ['public.items'] });
    await replaceInFile(config, '  create: true\n', '  create: false\n');
    const worker = spawnWorker(config);
    expect(await worker.exited).toBe(78); // a configuration error: no restart creates the slot
    expect(worker.output()).toMatch(new RegExp(`replication slot "${slot}" does not exist .* slot creation is off`));
    expect(worker.output()).toMatch(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
    const [created] = await db.sql(
      'SELECT (SELECT count(*)::int FROM pg_replication_slots WHERE slot_name = $1) AS slots, (SELECT count(*)::int FROM pg_publication WHERE pubname = $2) AS publications',
      [slot, publication],
    );
    expect(created).toEqual({ slots: 0, publications: 0 });
  });
});

async function replaceInFile(path: string, from: string, to: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${path} does not contain ${JSON.stringify(from)}`);
  await writeFile(path, text.replace(from, to));
}
