/**
 * Debezium as a benchmark contender: its PostgreSQL connector on Kafka Connect
 * standalone (test/harness/debezium-connect.ts), draining its own copy of the
 * slot into the same broker.
 *
 * Figures: the time from the JVM's spawn to the last record in the topic, the
 * steady time from the first record to the last, and the records counted by
 * the topic's end offset. The end offset is polled every POLL_MS, so both
 * times are late by at most that much (plus one ListOffsets round trip).
 */
import { readFile } from 'node:fs/promises';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from '../connectors/kafka/kafkajs.ts';
import { connectorProperties, ensureConnectClasspath, startConnect } from '../test/harness/debezium-connect.ts';
import type { PgEndpoint } from '../test/harness/postgres.ts';
import { logTail } from '../test/harness/server-process.ts';
const POLL_MS = 25;
const START_TIMEOUT_MS = 180_000;

export interface DebeziumDrainOptions {
  server: PgEndpoint;
  database: string;
  slot: string;
  publication: string;
  /** `schema.table` captured. */
  table: string;
  brokers: string[];
  /** Broker version: Connect's jars are the same version. */
  kafkaVersion: string;
  /** Debezium `topic.prefix`; unique per drain, so its topic starts empty. */
  topicPrefix: string;
  schemasEnable: boolean;
  /** Worker `producer.*` overrides (the tuned variant); empty for defaults. */
  producer: Record<string, string>;
  /** Records the topic must reach: row changes plus one tombstone per delete. */
  expectedRecords: number;
  /** Give up after this long without a new record. */
  stallTimeoutMs?: number;
}

export interface DebeziumDrain {
  /** JVM spawn → last record seen in the topic. */
  seconds: number;
  /** First record seen → last record seen. */
  steadySeconds: number;
  records: number;
  /** The JVM's peak resident set (VmHWM) and CPU time (user + system), read before it is stopped. */
  peakRssBytes: number;
  cpuSeconds: number;
}

export async function drainWithDebezium(options: DebeziumDrainOptions): Promise<DebeziumDrain> {
  const topic = `${options.topicPrefix}.${options.table}`;
  const admin = new Kafka({ brokers: options.brokers, clientId: 'slotline-bench-debezium', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const spawnedAt = performance.now();
  const connect = await startConnect({
    brokers: options.brokers,
    kafkaVersion: options.kafkaVersion,
    schemasEnable: options.schemasEnable,
    producer: options.producer,
    connectors: { bench: connectorProperties(options) },
  });
  try {
    const { first, last, records } = await watchTopic(admin, topic, options, () => connect.running(), spawnedAt);
    const usage = await processUsage(connect.pid);
    return { seconds: (last - spawnedAt) / 1000, steadySeconds: (last - first) / 1000, records, ...usage };
  } catch (err) {
    throw new Error(`Debezium drain of slot ${options.slot}: ${(err as Error).message}; log ${connect.logFile}:\n${await logTail(connect.logFile)}`);
  } finally {
    await connect.stop();
    await admin.disconnect();
  }
}

/** Polls the topic's end offset until it holds `expectedRecords`; when the first and the last record were seen. */
async function watchTopic(admin: Admin, topic: string, options: DebeziumDrainOptions, alive: () => boolean, since: number) {
  let first: number | null = null;
  let records = 0;
  let lastChange = performance.now();
  for (;;) {
    if (!alive()) throw new Error('Kafka Connect exited');
    const now = performance.now();
    const end = await endOffset(admin, topic);
    if (end > records) {
      records = end;
      lastChange = now;
      first ??= now;
    }
    if (records >= options.expectedRecords) break;
    const stalled = now - (first === null ? since : lastChange);
    const limit = first === null ? START_TIMEOUT_MS : (options.stallTimeoutMs ?? 60_000);
    if (stalled > limit) throw new Error(`${records} of ${options.expectedRecords} records in ${topic}, none new for ${Math.round(stalled)} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (records !== options.expectedRecords) throw new Error(`${records} records in ${topic}, expected ${options.expectedRecords}`);
  return { first: first!, last: lastChange, records };
}

async function endOffset(admin: Admin, topic: string): Promise<number> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } catch {
    return 0; // not created yet: Debezium's producer has the broker auto-create it
  }
}

async function processUsage(pid: number): Promise<{ peakRssBytes: number; cpuSeconds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const peak = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command.
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { peakRssBytes: peak, cpuSeconds: ticks / 100 };
}

if (import.meta.main) {
  console.log(`Kafka Connect and Debezium jars in ${await ensureConnectClasspath(process.argv[2] ?? '4.3.1')}`);
}
