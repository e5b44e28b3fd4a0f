/**
 * Reads a Kafka sink back for `slotline verify`: each table's topic (the
 * sink's topic template) from the beginning to its high watermark, keeping
 * per key what log compaction would keep — the latest record; a tombstone or
 * a delete event (`op: d`) means deleted. A row must be the `after` of its
 * key's latest record, as the sink's JsonConverter writes it.
 *
 * Memory: per key a fingerprint of the key, of the `after` and the record's
 * LSN header (kafka headers on), about 50 bytes; the record's text is kept
 * only when it may hold the unchanged-TOAST placeholder (Debezium's form of
 * an update that did not send a column), so such fields can be left out of
 * the comparison. Keys of extra records are found by reading the topic again.
 */
import type { KafkaMessage } from 'kafkajs';
import { parseLsn } from '../../src/lsn.ts';
import { placeholderBytes } from '../../src/normalize/binary.ts';
import { javaNameUuidFromBytes } from '../../src/normalize/java-compat.ts';
import { writeValue } from '../../src/normalize/json-converter.ts';
import type { TableSchemas } from '../../src/types.ts';
import { createFingerprintMap, fingerprint } from '../../src/verify/fingerprints.ts';
import type { Held, Json, SinkVerifier, Unclaimed, VerifierContext } from '../../src/verify/sink-verifier.ts';
import { createKafkaClient } from './kafka-client.ts';
import type { KafkaSinkConfig } from './kafka-config.ts';
import { classifyKafkaError } from './kafka-errors.ts';
import { readTopicLog, type TopicLog } from './kafka-topic-log.ts';
import { createTopicNamer } from './kafka-topics.ts';

const SEP = '\u0000';
/** Value fingerprint of a deleted key (fingerprints are never 0). */
const DELETED = 0;
const CATCH_UP_MS = 300_000;

export function createKafkaVerifier(config: KafkaSinkConfig, context: VerifierContext): SinkVerifier {
  const logger = context.logger;
  const kafka = createKafkaClient(config, logger);
  const topicOf = createTopicNamer(config, context.topicPrefix);
  const topicName = (t: { schema: string; table: string }): string => topicOf({ op: 'r', schema: t.schema, table: t.table } as Parameters<typeof topicOf>[0]);
  const mayHoldPlaceholder = placeholderNeedles(context.normalize.unavailableValuePlaceholder);
  /** fingerprint(address) → [after fingerprint or DELETED, LSN or -1, topic index]. */
  const latest = createFingerprintMap(3);
  /** The `after` text of keys whose latest record may hold the placeholder. */
  const texts = new Map<number, string>();
  const placeholderCache = new WeakMap<TableSchemas, Record<string, Json>>();
  let topics: string[] = [];
  let log: TopicLog | null = null;
  let missingTopics: string[] = [];

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw classifyKafkaError(err, what);
    }
  };

  const onMessage = (topic: string, message: KafkaMessage): void => {
    if (message.key === null) return;
    const key = payloadOf(message.key.toString());
    if (key === undefined) return;
    const fp = fingerprint(`${topic}${SEP}${JSON.stringify(key)}`);
    const header = message.headers?.['slotline.lsn'];
    const lsn = header === undefined ? -1 : Number(parseLsn(String(header)));
    const envelope = message.value === null ? null : (payloadOf(message.value.toString()) as { op?: string; after?: Json } | undefined);
    const after = envelope && envelope.op !== 'd' && envelope.after !== undefined && envelope.after !== null ? JSON.stringify(envelope.after) : null;
    latest.set(fp, after === null ? DELETED : fingerprint(after), lsn, topics.indexOf(topic));
    if (after !== null && mayHoldPlaceholder(after)) texts.set(fp, after);
    else texts.delete(fp);
  };

  return {
    async start(tables) {
      const wanted = [...new Set(tables.map(topicName))];
      const admin = kafka.admin();
      await call(`connecting to Kafka ${config.brokers.join(',')}`, async () => {
        await admin.connect();
        try {
          const existing = new Set(await admin.listTopics());
          topics = wanted.filter((t) => existing.has(t));
          missingTopics = wanted.filter((t) => !existing.has(t));
        } finally {
          await admin.disconnect();
        }
      });
      log = await call(`reading topics ${topics.join(', ')}`, () => readTopicLog(kafka, topics, onMessage));
    },
    spaces: (table) => [topicName(table)],
    async catchUp() {
      await call('reading the topics to their end', () => log!.catchUp(CATCH_UP_MS));
    },
    expect(row, toast) {
      const topic = topicName(row);
      const key = JSON.parse(writeValue(row.schemas.key!, row.key)) as Json;
      let placeholders = placeholderCache.get(row.schemas);
      if (placeholders === undefined) placeholderCache.set(row.schemas, (placeholders = JSON.parse(writeValue(row.schemas.value, toast)) as Record<string, Json>));
      const label = `${topic} ${JSON.stringify(key)}`;
      return [{ address: `${topic}${SEP}${JSON.stringify(key)}`, label, space: topic, value: JSON.parse(writeValue(row.schemas.value, row.after)) as Json, required: true, placeholders }];
    },
    async read(entries) {
      return entries.map((entry): Held => {
        const fp = fingerprint(entry.address);
        const value = latest.get(fp, 0);
        if (value === undefined || value === DELETED) return { present: false, lsn: null };
        const lsn = latest.get(fp, 1)!;
        const text = texts.get(fp);
        const held: Held = { present: true, lsn: lsn < 0 ? null : BigInt(lsn) };
        if (text !== undefined) held.value = JSON.parse(text) as Json;
        else if (entry.value !== undefined) held.differs = value !== fingerprint(JSON.stringify(entry.value));
        return held;
      });
    },
    async *unclaimed(space, claimed): AsyncIterable<Unclaimed> {
      const index = topics.indexOf(space);
      if (index < 0) return;
      const wanted = new Map<number, number>();
      latest.forEach((fp, value) => {
        if (value(2) === index && value(0) !== DELETED && !claimed(fp)) wanted.set(fp, value(1));
      });
      if (wanted.size === 0) return;
      // Only fingerprints are kept: read the topic again for these keys' text.
      const found = new Map<number, string>();
      const again = await call(`reading topic ${space} again`, () =>
        readTopicLog(kafka, [space], (topic, message) => {
          const key = message.key === null ? undefined : payloadOf(message.key.toString());
          if (key === undefined) return;
          const address = `${topic}${SEP}${JSON.stringify(key)}`;
          if (wanted.has(fingerprint(address))) found.set(fingerprint(address), address);
        }),
      );
      try {
        await call(`reading topic ${space} again`, () => again.catchUp(CATCH_UP_MS));
      } finally {
        await again.stop();
      }
      for (const [fp, address] of found) {
        const lsn = wanted.get(fp)!;
        yield { address, label: address.replace(SEP, ' '), lsn: lsn < 0 ? null : BigInt(lsn) };
      }
    },
    notes: () => (missingTopics.length > 0 ? [`topics not in Kafka (every row of their tables is missing): ${missingTopics.join(', ')}`] : []),
    async stop() {
      await log?.stop();
      log = null;
    },
  };
}

/** The JSON of a record key or value: the `payload` of the schemas-on form, else the whole. */
function payloadOf(text: string): Json | undefined {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'schema' in parsed && 'payload' in parsed && Object.keys(parsed).length === 2) return parsed.payload;
  return parsed;
}

/** Whether an `after` text may hold the unchanged-TOAST placeholder in any form a column type gives it. */
function placeholderNeedles(placeholder: string): (text: string) => boolean {
  const bytes = placeholderBytes(placeholder);
  const signed = [...bytes.subarray(0, 4)].map((b) => (b > 127 ? b - 256 : b)).join(',');
  const needles = [placeholder, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), javaNameUuidFromBytes(bytes), signed].filter((n) => n !== '');
  return (text) => needles.some((n) => text.includes(n));
}
