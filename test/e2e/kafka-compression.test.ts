/**
 * Every compression codec end to end: one slotline run with a Kafka sink per
 * codec (its own topic), a private broker that takes the batches (it
 * decompresses each to validate it, in Java), the first batch on disk checked
 * for the codec's attribute bits, and a real consumer that reads every record
 * back and finds it byte for byte equal to the uncompressed sink's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerCompressionCodecs } from '../../connectors/kafka/kafka-compression.ts';
import { COMPRESSIONS } from '../../connectors/kafka/kafka-config.ts';
import { freshDatabase, slotStreaming, uniqueName } from '../harness/context.ts';
import { startKafka } from '../harness/kafka.ts';
import { openTopicAdmin } from './failure-support.ts';
import { eventually, readTopics, spawnWorker, writeConfig } from './support.ts';

/** RecordBatch attributes, bits 0-2 (Kafka protocol, record batch v2). */
const CODEC_BITS: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

describe('Kafka compression codecs', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  it('none, gzip, snappy, lz4 and zstd batches are taken by the broker and read back unchanged', async () => {
    const kafka = await startKafka();
    cleanup.push(() => kafka.close());
    const db = await freshDatabase('kafka_codecs');
    await db.sql('CREATE TABLE public.docs (id int PRIMARY KEY, body text NOT NULL)');
    const prefix = uniqueName('codecs');
    const topicOf = (codec: string) => `${prefix}.public.docs.${codec}`;
    const slot = uniqueName('codecs_slot');
    const config = await writeConfig({
      db, slot, publication: uniqueName('codecs_pub'), topicPrefix: prefix, tables: ['public.docs'],
      brokers: kafka.brokers, mainExtra: 'snapshot: { mode: no_data }', kafkaExtra: `topic: "{prefix}.{schema}.{table}.none"\n`,
      // At info the worker says where it listens: a failure shows its /status and what it logged.
      logLevel: 'info',
    });
    for (const codec of COMPRESSIONS.filter((c) => c !== 'none')) {
      await writeFile(join(dirname(config), 'sinks', `${codec}.yaml`),
        `name: ${codec}\ntype: kafka\nbrokers: ${JSON.stringify(kafka.brokers)}\ncompression: ${codec}\n` +
        `topic: "{prefix}.{schema}.{table}.${codec}"\ncreate_topics: { enabled: true }\n`);
    }
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    const admin = await openTopicAdmin(kafka.brokers);
    cleanup.push(() => admin.close());
    // Not merely active: a slot being created is active while it waits for the server's
    // running transactions (a busy shared server's, any database's), and what commits
    // before its consistent point is not in its stream.
    await eventually(async () => worker.child.exitCode !== null || (await slotStreaming(db, slot)), 60_000, 'slotline streaming');
    expect(worker.child.exitCode, worker.output()).toBeNull();

    // Repetitive text compresses well; the 300 KB rows span many snappy (32 KiB) and lz4 (64 KiB) blocks.
    await db.sql("INSERT INTO public.docs SELECT g, repeat('row ' || g || ' ünïcödé ', 20 + g % 7) FROM generate_series(1, 200) g");
    await db.sql("INSERT INTO public.docs SELECT g, repeat(md5(g::text), 10000) FROM generate_series(201, 203) g");
    await db.sql('DELETE FROM public.docs WHERE id <= 10');
    const expected = 203 + 10 * 2; // inserts, then a delete and its tombstone each
    // What each topic holds and where the slot stands, asked afresh: for a failure that names where it stopped.
    const positions = async (): Promise<string> => {
      const offsets = await Promise.all(COMPRESSIONS.map(async (codec) => {
        const fresh = await openTopicAdmin(kafka.brokers);
        try {
          return `${codec} ${await fresh.endOffset(topicOf(codec)).catch((err: Error) => err.message)}`;
        } finally {
          await fresh.close();
        }
      }));
      const [slot] = await db.sql(
        `SELECT s.active_pid, s.confirmed_flush_lsn::text AS confirmed, r.state, r.sent_lsn::text AS sent, pg_current_wal_lsn()::text AS wal_end
           FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.database = current_database()`);
      return `end offsets: ${offsets.join(', ')}; slot: ${JSON.stringify(slot)}`;
    };
    for (const codec of COMPRESSIONS) {
      await eventually(async () => (await admin.endOffset(topicOf(codec)).catch(() => 0)) === expected, 60_000, `${expected} records in ${topicOf(codec)}`)
        .catch(async (err: Error) => {
          throw new Error(`${err.message}; ${await positions()}`);
        });
    }
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);

    for (const codec of COMPRESSIONS) {
      const segment = await readFile(join(kafka.dataDir, `${topicOf(codec)}-0`, '00000000000000000000.log'));
      // baseOffset 8, batchLength 4, partitionLeaderEpoch 4, magic 1, crc 4, then attributes (int16).
      expect(segment[16], `${codec}: record batch magic`).toBe(2);
      expect(segment.readInt16BE(21) & 7, `${codec}: codec bits of the first batch`).toBe(CODEC_BITS[codec]);
    }

    registerCompressionCodecs();
    const reader = await readTopics(kafka.brokers, new RegExp(`^${prefix}\\.public\\.docs\\.`));
    cleanup.push(() => reader.close());
    await reader.waitFor((all) => all.length === expected * COMPRESSIONS.length, 60_000);
    const plain = reader.records.filter((r) => r.topic === topicOf('none'));
    const comparable = (r: (typeof plain)[number]) => ({ offset: r.offset, key: r.key, value: r.value, headers: r.headers });
    for (const codec of COMPRESSIONS) {
      const records = reader.records.filter((r) => r.topic === topicOf(codec)).sort((a, b) => Number(a.offset) - Number(b.offset));
      expect(records.map(comparable), codec).toEqual(plain.sort((a, b) => Number(a.offset) - Number(b.offset)).map(comparable));
    }
    expect(plain.filter((r) => r.value !== null && r.value.length > 300_000)).toHaveLength(3);
  }, 240_000);
});
