/**
 * `exactly_once: true`: a transactional producer. The sink asks the runtime
 * for whole transactions; each write goes out in one Kafka transaction with
 * the sink's checkpoint (kafka-checkpoint.ts), so a read_committed consumer
 * sees a Postgres transaction's records exactly when the checkpoint says they
 * are there. Several Postgres transactions may share one Kafka transaction.
 *
 * - Start: the producer initializes with its transactional.id, which fences
 *   any earlier producer with that id (a zombie worker) and aborts what it
 *   left open; then the checkpoint is read, and events of transactions at or
 *   before it are skipped.
 * - A Postgres transaction too large for one write (past a quarter of the
 *   in-flight ceiling) spans writes: the Kafka transaction stays open until
 *   the write that holds its commit.
 * - Any failure: the Kafka transaction is aborted (best effort), the producer
 *   is dropped, and the next attempt starts a new one, re-reading the
 *   checkpoint first: a commit whose answer was lost is not repeated. Unless
 *   the failure or the abort says a newer producer has our transactional id
 *   (kafka-errors.ts, takenOver): then the sink stops, as a zombie must,
 *   instead of fencing the newer one by starting again. If the
 *   aborted transaction held chunks of earlier writes, the write cannot be
 *   retried alone: the sink stops, and a restart resumes from the checkpoint.
 * - Snapshot reads (op r) are not transactions of the slot: they are written,
 *   never skipped (at least once, like the non-transactional sink).
 */
import type { Kafka, Producer, ProducerConfig, Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { OperatorError, type SlotlineError } from '../../src/errors.ts';
import { formatLsn, type Lsn } from '../../src/lsn.ts';
import type { WriteInfo } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { checkpointMessage, ensureCheckpointTopic, readCheckpoint } from './kafka-checkpoint.ts';
import { takenOver } from './kafka-errors.ts';
import type { ProduceRequest, SendRequests } from './kafka-requests.ts';

export interface ExactlyOnceOptions {
  kafka: Kafka;
  logger: Logger;
  transactionalId: string;
  checkpointTopic: string;
  replicationFactor: number;
  transactionTimeoutMs: number;
  requestTimeoutMs: number;
  /** The producer settings shared with the at-least-once sink (partitioner, retries, auto-create). */
  producerConfig: ProducerConfig;
  classify(err: unknown, what: string): SlotlineError;
}

export interface ExactlyOnceWriter {
  start(): Promise<void>;
  write(events: ChangeEvent[], info: WriteInfo, build: (events: ChangeEvent[]) => Iterable<ProduceRequest>, sendRequests: SendRequests): Promise<void>;
  stop(): Promise<void>;
}

/** Whether the checkpoint says this event's transaction is in Kafka already. */
export function committedBefore(event: ChangeEvent, checkpoint: Lsn | null): boolean {
  if (checkpoint === null || event.op === 'r') return false;
  // A non-transactional message has no commit; its own LSN is where the checkpoint passes it.
  return event.commitLsn === 0n ? event.lsn <= checkpoint : event.commitLsn < checkpoint;
}

export function createExactlyOnceWriter(options: ExactlyOnceOptions): ExactlyOnceWriter {
  const { kafka, logger, transactionalId } = options;
  let producer: Producer | null = null;
  let transaction: Transaction | null = null;
  /** The Kafka transaction holds events of earlier writes (a Postgres transaction in chunks). */
  let spansWrites = false;
  let checkpoint: Lsn | null = null;

  /** A producer of our transactional id, and the checkpoint as Kafka has it now. */
  const open = async (): Promise<Producer> => {
    const fresh = kafka.producer({
      ...options.producerConfig,
      // The broker answers CONCURRENT_TRANSACTIONS to a transaction begun right after a commit
      // until that commit's markers are written (milliseconds): retry soon, as the Java producer does.
      retry: { retries: 8, initialRetryTime: 25, maxRetryTime: 2_000 },
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs,
    });
    await fresh.connect();
    // kafkajs registers the transactional id (InitProducerId, which fences an older producer
    // and aborts its open transaction) only with the first transaction. Do it before reading
    // the checkpoint, so no zombie can commit after the read.
    await (await fresh.transaction()).abort();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureCheckpointTopic(admin, options.checkpointTopic, options.replicationFactor);
      checkpoint = await readCheckpoint(kafka, admin, options.checkpointTopic, transactionalId, options.requestTimeoutMs);
    } catch (err) {
      await fresh.disconnect().catch(() => undefined);
      throw err;
    } finally {
      await admin.disconnect();
    }
    logger.info({ transactionalId, checkpoint: checkpoint === null ? null : formatLsn(checkpoint) }, 'kafka transactional producer ready');
    return fresh;
  };

  /** After a failure: abort what is open, drop the producer; the next write opens a new one. Returns the abort's error, if any. */
  const reset = async (): Promise<unknown> => {
    const [old, tx] = [producer, transaction];
    producer = null;
    transaction = null;
    spansWrites = false;
    let abortError: unknown = null;
    await tx?.abort().catch((err: unknown) => (abortError = err));
    await old?.disconnect().catch(() => undefined);
    return abortError;
  };

  return {
    async start() {
      try {
        producer = await open();
      } catch (err) {
        throw options.classify(err, `starting the transactional producer ${JSON.stringify(transactionalId)}`);
      }
    },
    async write(events, info, build, sendRequests) {
      try {
        producer ??= await open();
        const done = checkpoint;
        const fresh = events.filter((e) => !committedBefore(e, done));
        const end = info.commits.length > 0 ? info.commits[info.commits.length - 1].endLsn : null;
        const advances = end !== null && (done === null || end > done);
        if (fresh.length === 0 && !advances) return;
        transaction ??= await producer.transaction();
        const tx = transaction;
        await sendRequests(build(fresh), (batch) => tx.sendBatch(batch));
        if (!advances) {
          spansWrites = true;
          return;
        }
        await tx.send({ topic: options.checkpointTopic, acks: -1, messages: [checkpointMessage(transactionalId, end)] });
        await tx.commit();
        transaction = null;
        spansWrites = false;
        checkpoint = end;
      } catch (err) {
        const lostChunks = spansWrites;
        const abortError = await reset();
        const what = `writing ${events.length} events in a Kafka transaction`;
        // Fenced, by the failure itself or by the abort of a retryable one: stop, never open a producer again.
        const fenced = takenOver(err, what) ?? takenOver(abortError, what);
        if (fenced) throw fenced;
        const classified = options.classify(err, what);
        if (lostChunks && classified.kind === 'retryable') {
          throw new OperatorError(`${classified.message}; the aborted Kafka transaction held part of a Postgres transaction written earlier, so this write cannot be retried alone`, {
            cause: err,
            hint: 'restart slotline: it resumes from the checkpoint in Kafka; a larger runtime.max_in_flight_bytes lets such transactions go in one write',
          });
        }
        throw classified;
      }
    },
    async stop() {
      // An open transaction holds chunks of an unfinished Postgres transaction: abort it.
      await reset();
    },
  };
}
