/**
 * Reads topics from the beginning with a consumer of its own (a throw-away
 * group, read_committed, no offsets committed, no topic created) and can
 * wait until every partition has been read up to its high watermark as it
 * stands when asked. Control records (transaction markers) are never handed
 * over, so progress is told by the batches (as kafka-checkpoint.ts does).
 */
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface TopicLog {
  /** Resolves once every partition is read up to the high watermark it has now. */
  catchUp(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function readTopicLog(kafka: Kafka, topics: readonly string[], onMessage: (topic: string, message: KafkaMessage) => void): Promise<TopicLog> {
  const groupId = `slotline-verify-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, maxBytes: 32 << 20 });
  const admin = kafka.admin();
  /** `topic\0partition` → the next offset to read. */
  const reached = new Map<string, number>();
  const advance = (topic: string, partition: number, lastOffset: string): void => {
    const id = `${topic}\u0000${partition}`;
    reached.set(id, Math.max(reached.get(id) ?? 0, Number(lastOffset) + 1));
  };
  let failure: unknown = null;
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => advance(payload.topic, payload.partition, payload.lastOffset));
  consumer.on(consumer.events.CRASH, ({ payload }) => (failure ??= payload.error));
  await admin.connect();
  await consumer.connect();
  if (topics.length > 0) {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) onMessage(batch.topic, message);
        advance(batch.topic, batch.partition, batch.lastOffset());
      },
    });
  }
  return {
    async catchUp(timeoutMs) {
      const targets: Array<{ id: string; high: number }> = [];
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          if (Number(p.high) > Number(p.low)) targets.push({ id: `${topic}\u0000${p.partition}`, high: Number(p.high) });
        }
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure !== null) throw failure;
        const behind = targets.find((t) => (reached.get(t.id) ?? 0) < t.high);
        if (behind === undefined) return;
        if (Date.now() > deadline) {
          const [topic, partition] = behind.id.split('\u0000');
          throw new Error(`reading topic ${topic} partition ${partition} did not reach offset ${behind.high} within ${Math.round(timeoutMs / 1000)} s (at ${reached.get(behind.id) ?? 0})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
