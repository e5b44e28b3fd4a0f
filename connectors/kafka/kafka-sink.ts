/**
 * Kafka sink: Debezium-compatible records through kafkajs.
 *
 * - Topic `<prefix>.<schema>.<table>` (template), key = Debezium key, value = the
 *   envelope, a null-value tombstone after each delete when enabled.
 * - Partitioning with kafkajs' DefaultPartitioner, which is the Java client's
 *   murmur2 of the key bytes: our keys are the same bytes as Debezium's, so a
 *   key lands on the same partition.
 * - acks=all and the idempotent producer with one request in flight per
 *   broker: retries can neither reorder nor duplicate within a session.
 * - write() resolves only after the broker acknowledged every record, which is
 *   what lets the checkpointer pass these changes.
 */
import { readFileSync } from 'node:fs';
import { CompressionTypes, Kafka, Partitioners, logLevel, type IHeaders, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { formatLsn } from '../../src/lsn.ts';
import { serializeKey, serializeValue } from '../../src/normalize/json-converter.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';
import type { KafkaSinkConfig } from './kafka-config.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { createTopicNamer } from './kafka-topics.ts';

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
      if (level <= logLevel.ERROR) logger.error(extra, `kafkajs: ${message}`);
      else logger.warn(extra, `kafkajs: ${message}`);
    },
  });
  let producer: Producer | null = null;
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
        createPartitioner: Partitioners.DefaultPartitioner,
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
      const byTopic = new Map<string, Message[]>();
      for (const event of events) {
        const topic = topicOf(event);
        let messages = byTopic.get(topic);
        if (!messages) byTopic.set(topic, (messages = []));
        toMessages(event, messages);
      }
      try {
        await ensureTopics(byTopic.keys());
        await producer.sendBatch({
          acks: -1,
          timeout: config.request_timeout_ms,
          compression,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      } catch (err) {
        throw classifyKafkaError(err, `writing ${events.length} events to Kafka`);
      }
    },
    async stop() {
      await producer?.disconnect();
      producer = null;
    },
  };
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

