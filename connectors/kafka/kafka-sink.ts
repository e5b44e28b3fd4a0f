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
 * - write() resolves only after the broker acknowledged every record, which is
 *   what lets the checkpointer pass these changes.
 * - A write is sent as produce requests of at most MAX_REQUEST_BYTES, in order:
 *   the broker refuses a partition's record batch above its message.max.bytes
 *   (1 MiB by default), and kafkajs does not split (the Java producer does), so
 *   2048 typical rows in one request would fail as MESSAGE_TOO_LARGE. When the
 *   runner retries a write after a failure, requests already acknowledged are
 *   not sent again.
 */
import { readFileSync } from 'node:fs';
import { CompressionTypes, Kafka, logLevel, type IHeaders, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { RetryableError } from '../../src/errors.ts';
import { formatLsn } from '../../src/lsn.ts';
import { serializeKey, serializeValue } from '../../src/normalize/json-converter.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';
import type { KafkaSinkConfig } from './kafka-config.ts';
import { classifyKafkaError, rootCause } from './kafka-errors.ts';
import { javaCompatiblePartitioner } from './kafka-partitioner.ts';
import { createTopicNamer } from './kafka-topics.ts';

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
  const kafka = new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl: sslOptions(config.ssl),
    sasl: saslOptions(config.sasl),
    requestTimeout: config.request_timeout_ms,
    connectionTimeout: Math.min(config.request_timeout_ms, 10_000),
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      // kafkajs warns that finite retries "may invalidate EoS guarantees": we want a
      // failed send to surface so the runner can log, back off and retry the same
      // records (at-least-once; consumers de-duplicate on the LSN header).
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      if (level <= logLevel.ERROR) logger.error(extra, `kafkajs: ${message}`);
      else logger.warn(extra, `kafkajs: ${message}`);
    },
  });
  let producer: Producer | null = null;
  /** The last write that failed part-way: the runner retries the same array, and its first `sent` requests are in Kafka. */
  let partial: { events: readonly ChangeEvent[]; sent: number } | null = null;
  const knownTopics = new Set<string>();
  const compression = config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;

  const ensureTopics = async (topics: Iterable<string>): Promise<void> => {
    const missing = [...topics].filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    if (config.create_topics.enabled) {
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
    }
    for (const t of missing) knownTopics.add(t);
  };

  const toMessages = (event: ChangeEvent, out: Message[]): void => {
    const key = serializeKey(event, { schemasEnable });
    const headers: IHeaders | undefined = config.headers ? recordHeaders(event, schemasEnable) : undefined;
    out.push({ key, value: serializeValue(event, { schemasEnable }), headers });
    if (event.op === 'd' && tombstones) out.push({ key, value: null, headers });
  };

  return {
    name: config.name,
    async start() {
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: javaCompatiblePartitioner,
        retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000 },
      });
      try {
        await producer.connect();
      } catch (err) {
        throw classifyKafkaError(err, `connecting to Kafka ${config.brokers.join(',')}`);
      }
    },
    async write(events) {
      if (!producer) throw new Error('kafka sink written before start()');
      const requests: Array<Map<string, Message[]>> = [new Map()];
      let requestBytes = 0;
      const topics = new Set<string>();
      const one: Message[] = [];
      for (const event of events) {
        const topic = topicOf(event);
        topics.add(topic);
        one.length = 0;
        toMessages(event, one);
        for (const message of one) {
          const bytes = messageBytes(message);
          if (requestBytes > 0 && requestBytes + bytes > MAX_REQUEST_BYTES) {
            requests.push(new Map());
            requestBytes = 0;
          }
          const byTopic = requests[requests.length - 1];
          let messages = byTopic.get(topic);
          if (!messages) byTopic.set(topic, (messages = []));
          messages.push(message);
          requestBytes += bytes;
        }
      }
      const progress = partial?.events === events ? partial : { events, sent: 0 };
      partial = progress;
      try {
        await ensureTopics(topics);
        for (; progress.sent < requests.length; progress.sent++) {
          await producer.sendBatch({
            acks: -1,
            timeout: config.request_timeout_ms,
            compression,
            topicMessages: [...requests[progress.sent]].map(([topic, messages]) => ({ topic, messages })),
          });
        }
        partial = null;
      } catch (err) {
        // With create_topics on, an unknown topic is one we have just created and the broker
        // does not list yet: KRaft propagates metadata asynchronously, and kafkajs' createTopics
        // (waitForLeaders) gives up on UNKNOWN_TOPIC_OR_PARTITION. The next attempt finds it.
        if (config.create_topics.enabled && rootCause(err)?.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
          throw new RetryableError(`writing ${events.length} events to Kafka: topic not visible yet after creating it`, { cause: err });
        }
        throw classifyKafkaError(err, `writing ${events.length} events to Kafka`);
      }
    },
    async stop() {
      await producer?.disconnect();
      producer = null;
    },
  };
}

/** A record's share of a produce request, as the broker counts it against message.max.bytes. */
function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += Buffer.byteLength(name) + byteLength(value as string | Buffer | undefined);
  return bytes;
}

function byteLength(data: string | Buffer | null | undefined): number {
  return data == null ? 0 : Buffer.byteLength(data);
}

/** Headers a consumer can use to de-duplicate or trace: the change's LSN and transaction. */
function recordHeaders(event: ChangeEvent, schemasEnable: boolean): IHeaders {
  const headers: IHeaders = { 'slotline.lsn': formatLsn(event.lsn) };
  if (event.source.txId !== null) headers['slotline.txid'] = String(event.source.txId);
  if (event.keyChange) {
    // Debezium's headers on a primary-key change: the d carries the new key, the c the old one.
    const header = event.op === 'd' ? '__debezium.newkey' : '__debezium.oldkey';
    headers[header] = serializeKey({ ...event, key: event.keyChange.key }, { schemasEnable }) ?? '';
  }
  return headers;
}

function sslOptions(ssl: KafkaSinkConfig['ssl']) {
  if (!ssl || ssl === true) return ssl;
  return {
    rejectUnauthorized: ssl.reject_unauthorized,
    ca: ssl.ca ? [readFileSync(ssl.ca, 'utf8')] : undefined,
    cert: ssl.cert ? readFileSync(ssl.cert, 'utf8') : undefined,
    key: ssl.key ? readFileSync(ssl.key, 'utf8') : undefined,
  };
}

function saslOptions(sasl: KafkaSinkConfig['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

