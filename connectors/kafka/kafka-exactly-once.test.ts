import { Kafka, KafkaJSConnectionError, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName } from '../../test/harness/context.ts';
import { OperatorError } from '../../src/errors.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { committedBefore, createExactlyOnceWriter } from './kafka-exactly-once.ts';
import type { SendRequests } from './kafka-requests.ts';

const event = (op: string, lsn: bigint, commitLsn: bigint) => ({ op, lsn, commitLsn }) as ChangeEvent;

describe('committedBefore (what a restart skips)', () => {
  // The checkpoint is a transaction's end LSN; its commit record (commitLsn) lies before it.
  it.each([
    ['a change of a transaction that ended at the checkpoint', event('c', 0x90n, 0x99n), 0x100n, true],
    ['a change of the next transaction', event('u', 0x110n, 0x120n), 0x100n, false],
    ['no checkpoint yet', event('c', 0x90n, 0x99n), null, false],
    ['a snapshot read, whatever its position', event('r', 0x10n, 0x10n), 0x100n, false],
    ['a non-transactional message at the checkpoint', event('m', 0x100n, 0n), 0x100n, true],
    ['a non-transactional message after it', event('m', 0x101n, 0n), 0x100n, false],
  ])('%s → %s', (_name, e, checkpoint, skipped) => {
    expect(committedBefore(e, checkpoint)).toBe(skipped);
  });
});

describe('a writer whose transactional id a newer producer took (real broker)', () => {
  it('stops with the fenced hint when the abort after a retryable failure is refused, and leaves the id to the newer producer', async () => {
    const brokers = kafkaBrokers();
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
    const [topic, checkpointTopic, transactionalId] = [uniqueName('eos_zombie'), uniqueName('eos_zombie_ckpt'), uniqueName('eos_zombie_id')];
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();
    const writer = createExactlyOnceWriter({
      kafka, logger: pino({ level: 'silent' }), transactionalId, checkpointTopic, replicationFactor: 1, transactionTimeoutMs: 60_000, requestTimeoutMs: 30_000,
      producerConfig: { allowAutoTopicCreation: false, retry: { retries: 2 } }, classify: (err, what) => classifyKafkaError(err, what),
    });
    const newer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, retry: { retries: 8 } });
    try {
      await writer.start();
      const send: SendRequests = async (requests, sendBatch) => {
        for (const { topicMessages } of requests) await sendBatch({ acks: -1, topicMessages });
      };
      const events = [event('c', 0x100n, 0x100n)];
      const messages = (value: string) => [{ topicMessages: [{ topic, messages: [{ key: 'k', value }] }], acknowledged: () => undefined }];
      // Part of a Postgres transaction: the Kafka transaction stays open, with a partition in it.
      await writer.write(events, { commits: [] }, () => messages('first half'), send);

      // A second worker starts with the same transactional id: its InitProducerId fences the writer and aborts its transaction.
      await newer.connect();
      await (await newer.transaction()).abort();

      // The writer's next write fails before reaching the broker, as a lost connection would: only the abort meets the coordinator.
      const broken = () => {
        throw new KafkaJSConnectionError('Connection error: read ECONNRESET');
      };
      const failed = await writer.write(events, { commits: [{ commitLsn: 0x100n, endLsn: 0x110n }] }, broken, send).then(() => null, (err: unknown) => err);
      expect(failed).toBeInstanceOf(OperatorError);
      expect((failed as OperatorError).hint).toMatch(/fenced this one/);

      // The newer producer still holds the id: its transaction commits.
      const tx = await newer.transaction();
      await tx.send({ topic, acks: -1, messages: [{ key: 'k', value: 'newer' }] });
      await tx.commit();
    } finally {
      await writer.stop();
      await newer.disconnect();
    }
  }, 120_000);
});
