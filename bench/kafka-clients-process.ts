/**
 * One measured producer, in a process of its own (forked by kafka-clients.ts,
 * so peak RSS is this client's): the sink's pre-built requests
 * (kafka-clients-records.ts) sent in order, each awaited before the next as
 * the sink does, acks=all, idempotent, one request in flight (both clients
 * force one for an idempotent producer), the Java-compatible partitioner.
 * A warm-up pass, then timed passes over the same records; with
 * `countAlloc`, one untimed pass that counts the bytes asked of Buffer's
 * allocating functions instead.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { compatibilityPartitioner, Producer, stringSerializer } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import { useOwnProduceEncoding } from '../connectors/kafka/kafka-produce-request.ts';
import { javaCompatiblePartitioner } from '../connectors/kafka/kafka-partitioner.ts';
import { benchEvents, sinkRequests, type ClientName } from './kafka-clients-records.ts';

export interface ClientSpec {
  client: ClientName;
  brokers: string[];
  topic: string;
  schemasEnable: boolean;
  compression: 'none' | 'lz4';
  /** Row changes in the pre-built set, sent `passes` times. */
  events: number;
  passes: number;
  countAlloc: boolean;
}

export interface ClientResult {
  records: number;
  recordBytes: number;
  requests: number;
  seconds: number;
  cpuSeconds: number;
  gcSeconds: number;
  /** VmRSS after the warm-up; VmHWM at the end. */
  rssAfterWarmupBytes: number;
  peakRssBytes: number;
  /** Bytes asked of Buffer.alloc/allocUnsafe/allocUnsafeSlow/from per record (countAlloc only). */
  allocBytesPerRecord?: number;
}

/** Sends one request and resolves when the broker acknowledged it. */
type Send = (messages: Message[]) => Promise<void>;

async function connect(spec: ClientSpec): Promise<{ send: Send; close: () => Promise<void> }> {
  if (spec.client !== 'platformatic') {
    // slotline's client is kafkajs as the sink loads it (connectors/kafka/kafkajs.ts);
    // the kafkajs client is kafkajs as published, loaded first so that kafkajs.ts leaves it be.
    const { Kafka, logLevel } = spec.client === 'slotline' ? await import('../connectors/kafka/kafkajs.ts') : createRequire(import.meta.url)('kafkajs') as typeof import('kafkajs');
    const { compressionType } = await import('../connectors/kafka/kafka-compression.ts');
    if (spec.client === 'slotline') useOwnProduceEncoding();
    const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: spec.brokers, logLevel: logLevel.ERROR });
    const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner, idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } });
    await producer.connect();
    const compression = await compressionType(spec.compression);
    return {
      send: async (messages) => void (await producer.sendBatch({ acks: -1, timeout: 30_000, compression, topicMessages: [{ topic: spec.topic, messages }] })),
      close: () => producer.disconnect(),
    };
  }
  const producer = new Producer({
    clientId: 'bench-platformatic', bootstrapBrokers: spec.brokers, idempotent: true, acks: -1, timeout: 30_000,
    compression: spec.compression, partitioner: compatibilityPartitioner,
    // Keys and values are the sink's Buffers; header names and values are strings, as kafkajs takes them.
    serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
  });
  const { topic } = spec;
  return {
    send: async (messages) => {
      await producer.send({
        // A tombstone's value is null, which both write as length -1.
        messages: messages.map((m) => ({ topic, key: m.key as Buffer, value: m.value as Buffer, headers: m.headers as Record<string, string> })),
      });
    },
    close: () => producer.close(),
  };
}

async function vmKiB(field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
}

/** Counts the bytes asked of Buffer's allocating functions while `body` runs (views of existing memory are not counted). */
async function countBufferBytes(body: () => Promise<void>): Promise<number> {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow, from: Buffer.from };
  let bytes = 0;
  const counted = <F extends (...args: any[]) => Buffer>(f: F): F => ((...args: any[]) => {
    const b = f.apply(Buffer, args);
    if (!(args[0] instanceof ArrayBuffer || args[0] instanceof SharedArrayBuffer)) bytes += b.length;
    return b;
  }) as F;
  Object.assign(Buffer, { alloc: counted(saved.alloc), allocUnsafe: counted(saved.allocUnsafe), allocUnsafeSlow: counted(saved.allocUnsafeSlow), from: counted(saved.from as never) });
  try {
    await body();
  } finally {
    Object.assign(Buffer, saved);
  }
  return bytes;
}

async function measure(spec: ClientSpec): Promise<ClientResult> {
  const requests = sinkRequests(benchEvents(spec.events), spec.schemasEnable);
  const perPass = requests.reduce((n, r) => n + r.length, 0);
  const recordBytes = requests.flat().reduce((n, m) => n + (m.key?.length ?? 0) + (m.value?.length ?? 0), 0) / perPass;
  const client = await connect(spec);
  const pass = async (): Promise<void> => {
    for (const messages of requests) await client.send(messages);
  };
  await pass();
  const rssAfterWarmupBytes = await vmKiB('VmRSS');
  let allocBytesPerRecord: number | undefined;
  if (spec.countAlloc) allocBytesPerRecord = (await countBufferBytes(pass)) / perPass;
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < (spec.countAlloc ? 0 : spec.passes); i++) await pass();
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  gc.disconnect();
  await client.close();
  return {
    records: spec.countAlloc ? perPass : perPass * spec.passes, recordBytes, requests: requests.length, seconds, cpuSeconds: (used.user + used.system) / 1e6,
    gcSeconds: gcMs / 1000, rssAfterWarmupBytes, peakRssBytes: await vmKiB('VmHWM'), allocBytesPerRecord,
  };
}

const spec = JSON.parse(process.argv[2]) as ClientSpec;
measure(spec).then(
  (result) => process.send!(result, () => process.exit(0)),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
