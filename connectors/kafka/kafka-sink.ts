/**
 * Kafka sink: Debezium-compatible records through kafkajs.
 *
 * - Topic `<prefix>.<schema>.<table>` (template), key = Debezium key, value = the
 *   envelope, a null-value tombstone after each delete when enabled.
 * - Partitioning like the Java client (murmur2 of the key bytes,
 *   kafka-partitioner.ts): our keys are the same bytes as Debezium's, so a key
 *   lands on the same partition.
 * - acks=all and the idempotent producer with one request in flight per
 *   broker: retries can neither reorder nor duplicate within a session.
 *   More in flight is not safe with kafkajs: its idempotent producer holds a
 *   lock per broker around each produce request and rolls a partition's
 *   sequence back when a request fails, which only holds with one in flight
 *   (@platformatic/kafka likewise forces one for an idempotent producer).
 * - `exactly_once`: a transactional producer, each write committed with this
 *   sink's checkpoint (kafka-exactly-once.ts).
 * - write() resolves only after the broker acknowledged every record, which is
 *   what lets the checkpointer pass these changes.
 * - A write is sent as produce requests of at most MAX_REQUEST_BYTES, in order:
 *   the broker refuses a partition's record batch above its message.max.bytes
 *   (1 MiB by default), and kafkajs does not split (the Java producer does), so
 *   2048 typical rows in one request would fail as MESSAGE_TOO_LARGE. When the
 *   runner retries a write after a failure, requests already acknowledged are
 *   not sent again.
 */
import type { Message, Producer, ProducerConfig, TopicMessages } from 'kafkajs';
import { SlotlineError } from '../../src/errors.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { createKafkaClient } from './kafka-client.ts';
import { transactionalIdOf, type KafkaSinkConfig } from './kafka-config.ts';
import { compressionType } from './kafka-compression.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { createExactlyOnceWriter, type SendRequests } from './kafka-exactly-once.ts';
import { javaCompatiblePartitioner } from './kafka-partitioner.ts';
import { createKafkaMessages, createRecordBytes } from './kafka-records.ts';
import { createTopicNamer } from './kafka-topics.ts';
import { CompressionTypes } from './kafkajs.ts';

/**
 * Most record bytes (keys, values, headers, per-record overhead) in one produce
 * request: under the broker's default message.max.bytes (1048588), which bounds
 * each partition's batch in a request. A single larger record is still sent
 * alone, and the broker's MESSAGE_TOO_LARGE then names the problem.
 */
export const MAX_REQUEST_BYTES = 1_000_000;
const RECORD_OVERHEAD_BYTES = 32;

export function createKafkaSink(config: KafkaSinkConfig, context: SinkContext): Sink {
  const logger = context.logger.child({ sink: config.name, type: 'kafka' });
  const schemasEnable = config.schemas_enable ?? context.schemasEnable;
  const tombstones = config.tombstones_on_delete ?? context.tombstonesOnDelete;
  const topicOf = createTopicNamer(config, context.topicPrefix);
  const kafka = createKafkaClient(config, logger);
  let producer: Producer | null = null;
  /** The last write that failed part-way: the runner retries the same array, and its first `sent` requests are in Kafka. */
  let partial: { events: readonly ChangeEvent[]; sent: number } | null = null;
  const knownTopics = new Set<string>();
  let compression = CompressionTypes.None;

  /** With create_topics on, creates the topics this sink has not written to yet (else the broker's auto-create applies). */
  const ensureTopics = async (topics: Iterable<string>): Promise<void> => {
    const missing = [...topics].filter((t) => !knownTopics.has(t));
    if (missing.length === 0 || !config.create_topics.enabled) return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const toCreate = missing.filter((t) => !existing.has(t));
      if (toCreate.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: toCreate.map((topic) => ({
            topic,
            numPartitions: config.create_topics.partitions,
            replicationFactor: config.create_topics.replication_factor,
            configEntries: Object.entries(config.create_topics.config).map(([name, value]) => ({ name, value: String(value) })),
          })),
        });
        logger.info({ topics: toCreate }, 'created topics');
      }
    } finally {
      await admin.disconnect();
    }
    for (const t of missing) knownTopics.add(t);
  };

  const recordBytes = createRecordBytes();
  const toMessages = createKafkaMessages({ headers: config.headers, schemasEnable, tombstones, recordBytes });

  /**
   * The records of `events` as produce requests of at most MAX_REQUEST_BYTES, in
   * order, each built when the previous one is sent: a write's records are not
   * all held at once (2048 events with schemas are ~9 MB), and the same events
   * always give the same requests. The sender asks for the next request only
   * once the broker acknowledged the last one, and from then on the bytes of
   * the events wholly in it are written again (RecordBytes.release).
   */
  const buildRequests = function* (events: readonly ChangeEvent[]): Generator<TopicMessages[]> {
    let byTopic = new Map<string, Message[]>();
    let requestBytes = 0;
    const one: Message[] = [];
    let sent = false;
    try {
      for (const event of events) {
        const topic = topicOf(event);
        // An event's records may fall into two requests (a delete's tombstone shares its key's bytes).
        const eventStart = recordBytes.position();
        one.length = 0;
        toMessages(event, one);
        for (const message of one) {
          const bytes = messageBytes(message);
          if (requestBytes > 0 && requestBytes + bytes > MAX_REQUEST_BYTES) {
            yield topicMessagesOf(byTopic);
            recordBytes.release(eventStart);
            byTopic = new Map();
            requestBytes = 0;
          }
          let messages = byTopic.get(topic);
          if (!messages) byTopic.set(topic, (messages = []));
          messages.push(message);
          requestBytes += bytes;
        }
      }
      yield topicMessagesOf(byTopic);
      recordBytes.release(recordBytes.position());
      sent = true;
    } finally {
      // A send failed (the sender stopped asking): its records' bytes must stay as they are.
      if (!sent) recordBytes.forget();
    }
  };

  const sendRequests: SendRequests = async (requests, sendBatch) => {
    for (const topicMessages of requests) {
      if (topicMessages.length > 0) await sendBatch({ acks: -1, timeout: config.request_timeout_ms, compression, topicMessages });
    }
  };

  /** Idempotent producer: the runner retries a failed write, and requests already acknowledged are not sent again. */
  const sendAtLeastOnce = async (events: ChangeEvent[]): Promise<void> => {
    const progress = partial?.events === events ? partial : { events, sent: 0 };
    partial = progress;
    const unsent = function* (): Generator<TopicMessages[]> {
      let index = 0;
      for (const request of buildRequests(events)) if (index++ >= progress.sent) yield request;
    };
    await sendRequests(unsent(), async (batch) => {
      await producer!.sendBatch(batch);
      progress.sent++;
    });
    partial = null;
  };

  const producerConfig: ProducerConfig = {
    // As the Java producer does: a metadata request for a topic the broker does not
    // have asks it to create the topic, if its auto.create.topics.enable allows.
    allowAutoTopicCreation: true,
    createPartitioner: javaCompatiblePartitioner,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000 },
  };
  const exactlyOnce = config.exactly_once
    ? createExactlyOnceWriter({
        kafka,
        logger,
        transactionalId: transactionalIdOf(config, context.topicPrefix),
        checkpointTopic: config.checkpoint_topic,
        replicationFactor: config.create_topics.replication_factor,
        transactionTimeoutMs: config.transaction_timeout_ms,
        requestTimeoutMs: config.request_timeout_ms,
        producerConfig,
        classify: (err, what) => classifyKafkaError(err, what),
      })
    : null;

  return {
    name: config.name,
    wholeTransactions: config.exactly_once,
    writesRecords: true,
    async start() {
      compression = await compressionType(config.compression);
      if (exactlyOnce) return exactlyOnce.start();
      producer = kafka.producer({ ...producerConfig, idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
      } catch (err) {
        throw classifyKafkaError(err, `connecting to Kafka ${config.brokers.join(',')}`);
      }
    },
    async write(events, info) {
      if (!producer && !exactlyOnce) throw new Error('kafka sink written before start()');
      const topics = new Set(events.map(topicOf));
      try {
        await ensureTopics(topics);
        if (exactlyOnce) await exactlyOnce.write(events, info, (fresh) => buildRequests(fresh), sendRequests);
        else await sendAtLeastOnce(events);
        for (const t of topics) knownTopics.add(t);
      } catch (err) {
        if (err instanceof SlotlineError) throw err;
        // Name the topics this sink has not written before: the likely missing ones.
        const fresh = [...topics].filter((t) => !knownTopics.has(t));
        throw classifyKafkaError(err, `writing ${events.length} events to Kafka`, {
          topics: fresh.length > 0 ? fresh : [...topics],
          createTopics: config.create_topics.enabled,
        });
      }
    },
    async stop() {
      await exactlyOnce?.stop();
      await producer?.disconnect();
      producer = null;
    },
  };
}

function topicMessagesOf(byTopic: Map<string, Message[]>): TopicMessages[] {
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** A record's share of a produce request, as the broker counts it against message.max.bytes. */
export function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += Buffer.byteLength(name) + byteLength(value as string | Buffer | undefined);
  return bytes;
}

function byteLength(data: string | Buffer | null | undefined): number {
  if (data == null) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
