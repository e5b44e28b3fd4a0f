/**
 * The exactly-once Kafka sink's checkpoint: the end LSN of the last Postgres
 * transaction it committed, kept in a compacted topic of ours, one record per
 * sink keyed by its transactional id, written in the same Kafka transaction
 * as that Postgres transaction's records. Reading it back with read_committed
 * therefore gives exactly what is in Kafka.
 */
import type { Admin, Kafka, Message } from 'kafkajs';
import { formatLsn, parseLsn, type Lsn } from '../../src/lsn.ts';

/** Creates the compacted checkpoint topic if it is missing. */
export async function ensureCheckpointTopic(admin: Admin, topic: string, replicationFactor: number): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, replicationFactor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
  });
}

/** The checkpoint record of `key` at `lsn`. */
export function checkpointMessage(key: string, lsn: Lsn): Message {
  return { key, value: JSON.stringify({ end_lsn: formatLsn(lsn) }) };
}

/**
 * The last committed checkpoint of `key`, or null if there is none: reads the
 * topic from the beginning with read_committed up to its end offset. Call it
 * after the transactional producer has initialized, which ends (aborts) any
 * transaction a previous incarnation left open, so the end is reachable.
 */
export async function readCheckpoint(kafka: Kafka, admin: Admin, topic: string, key: string, timeoutMs: number): Promise<Lsn | null> {
  const end = (await admin.fetchTopicOffsets(topic)).reduce((max, p) => Math.max(max, Number(p.high)), 0);
  if (end === 0) return null;
  const consumer = kafka.consumer({ groupId: `slotline-checkpoint-${key}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100, readUncommitted: false });
  let found: Lsn | null = null;
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  // Control records (transaction markers) are never delivered, so progress is told by the batch events.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (Number(payload.lastOffset) >= end - 1) done();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== key || message.value === null) return;
        found = parseLsn(JSON.parse(message.value.toString()).end_lsn);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading the checkpoint in ${topic} did not reach offset ${end} within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([reached, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return found;
}
