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
 * - A write is sent as produce requests of at most 1 MB, in order, the next
 *   built while the broker has the last (kafka-requests.ts). The runner hands
 *   over the next write while one is in flight (Sink.writesAhead), and its
 *   first request is built while the broker has the last of the write before
 *   (kafka-write-queue.ts). When the runner retries a write after a failure,
 *   requests already acknowledged are not sent again.
 */
import type { Admin, Producer, ProducerConfig } from 'kafkajs';
import { SlotlineError } from '../../src/errors.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import { createKafkaClient } from './kafka-client.ts';
import { transactionalIdOf, type KafkaSinkConfig } from './kafka-config.ts';
import { compressionType } from './kafka-compression.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { createExactlyOnceWriter } from './kafka-exactly-once.ts';
import { javaCompatiblePartitioner } from './kafka-partitioner.ts';
import { createKafkaMessages, createRecordBytes } from './kafka-records.ts';
import { createRequests } from './kafka-requests.ts';
import { createTopicNamer } from './kafka-topics.ts';
import { createWriteQueue } from './kafka-write-queue.ts';
import { CompressionTypes } from './kafkajs.ts';

export function createKafkaSink(config: KafkaSinkConfig, context: SinkContext): Sink {
  const logger = context.logger.child({ sink: config.name, type: 'kafka' });
  const schemasEnable = config.schemas_enable ?? context.schemasEnable;
  const tombstones = config.tombstones_on_delete ?? context.tombstonesOnDelete;
  const topicOf = createTopicNamer(config, context.topicPrefix);
  const kafka = createKafkaClient(config, logger);
  let producer: Producer | null = null;
  const knownTopics = new Set<string>();
  let compression = CompressionTypes.None;

  /** Topics the broker had when this sink started (create_topics on): writing to one needs no admin round trip. */
  const topicsAtStart = new Set<string>();
  /**
   * The admin client that checks and creates topics. start() connects it
   * beside the producer and lists the broker's topics, before the stream
   * starts. Done at the first write instead, connecting and listing took
   * 100-400 ms of a bench drain, each round trip waiting behind the event
   * loop's decoding of the stream. Dropped after a failed check, so that the
   * next one connects afresh.
   */
  let topicAdmin: Promise<Admin> | null = null;
  const connectedAdmin = (): Promise<Admin> => {
    if (topicAdmin === null) {
      const admin = kafka.admin();
      const connecting = admin.connect().then(() => admin);
      topicAdmin = connecting;
      connecting.catch(() => {
        if (topicAdmin === connecting) topicAdmin = null;
      });
    }
    return topicAdmin;
  };
  const dropAdmin = async (): Promise<void> => {
    const admin = topicAdmin;
    topicAdmin = null;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  };

  /** With create_topics on, creates the topics this sink has not written to yet (else the broker's auto-create applies). */
  const ensureTopics = async (topics: Iterable<string>): Promise<void> => {
    const missing = [...topics].filter((t) => !knownTopics.has(t) && !topicsAtStart.has(t));
    if (missing.length === 0 || !config.create_topics.enabled) return;
    const admin = await connectedAdmin();
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
    } catch (err) {
      await dropAdmin();
      throw err;
    }
    for (const t of missing) knownTopics.add(t);
  };

  const recordBytes = createRecordBytes();
  const toMessages = createKafkaMessages({ headers: config.headers, schemasEnable, tombstones, recordBytes });

  const requests = createRequests({
    topicOf,
    toMessages,
    recordBytes,
    batch: () => ({ acks: -1, timeout: config.request_timeout_ms, compression }),
  });

  /** Idempotent producer: writes ahead go out back to back, and a retried write skips what the broker acknowledged. */
  const queue = createWriteQueue(requests, (batch) => producer!.sendBatch(batch));
  /** Topic checks one after another, in write order: a write ahead's topics are created once, after the last write's. */
  let topicsChecked: Promise<unknown> = Promise.resolve();
  const ensureTopicsInOrder = (topics: Set<string>): Promise<void> => {
    const checked = topicsChecked.catch(() => undefined).then(() => ensureTopics(topics));
    topicsChecked = checked;
    return checked;
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
    // A transaction per write (exactly_once) takes one write at a time.
    writesAhead: !config.exactly_once,
    writesRecords: true,
    async start() {
      compression = await compressionType(config.compression);
      const connecting = `connecting to Kafka ${config.brokers.join(',')}`;
      const admin = config.create_topics.enabled ? connectedAdmin() : null;
      try {
        if (exactlyOnce) await exactlyOnce.start();
        else {
          producer = kafka.producer({ ...producerConfig, idempotent: true, maxInFlightRequests: 1 });
          await producer.connect().catch((err: unknown) => {
            throw classifyKafkaError(err, connecting);
          });
        }
        const listed = await admin?.then((a) => a.listTopics()).catch((err: unknown) => {
          throw classifyKafkaError(err, connecting);
        });
        for (const topic of listed ?? []) topicsAtStart.add(topic);
      } catch (err) {
        // A sink that failed to start is not stopped: nothing of it may stay open.
        await dropAdmin();
        await producer?.disconnect().catch(() => undefined);
        producer = null;
        throw err;
      }
    },
    async write(events, info) {
      if (!producer && !exactlyOnce) throw new Error('kafka sink written before start()');
      const topics = new Set(events.map(topicOf));
      try {
        if (exactlyOnce) {
          await ensureTopics(topics);
          await exactlyOnce.write(events, info, requests.build, requests.send);
        } else await queue.write(events, ensureTopicsInOrder(topics));
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
      await dropAdmin();
    },
  };
}

