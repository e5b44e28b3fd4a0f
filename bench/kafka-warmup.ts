/**
 * Warms the bench's Kafka broker before anything is measured: a fresh broker's
 * JVM interprets its produce path (record validation, log append, idempotent
 * producer state) until the JIT has compiled it, and without a warm-up the
 * first contender to write to it (slotline→kafka, in the first phase) paid
 * for that while every later one (Debezium included) met a compiled broker.
 *
 * Writes `megabytes` of 4 KB records, in requests of about 1 MB, with an
 * idempotent producer and acks=all (as the sink does) to a topic of its own.
 */
import type { Message } from 'kafkajs';
import { Kafka, logLevel } from '../connectors/kafka/kafkajs.ts';

const RECORD_BYTES = 4096;
const RECORDS_PER_REQUEST = 240;

export async function warmUpKafka(brokers: string[], megabytes: number): Promise<{ seconds: number; requests: number }> {
  const kafka = new Kafka({ clientId: 'slotline-bench-warmup', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  await producer.connect();
  const value = Buffer.alloc(RECORD_BYTES, 'x');
  const messages: Message[] = Array.from({ length: RECORDS_PER_REQUEST }, (_, i) => ({ key: `k${i}`, value }));
  const requests = Math.max(1, Math.round((megabytes * 2 ** 20) / (RECORD_BYTES * RECORDS_PER_REQUEST)));
  const startedAt = performance.now();
  try {
    for (let i = 0; i < requests; i++) await producer.send({ topic: 'bench_warmup', acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  return { seconds: (performance.now() - startedAt) / 1000, requests };
}
