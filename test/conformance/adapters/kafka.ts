/**
 * Kafka in the conformance suite: a private broker (it is stopped for the
 * outage; topic auto-creation off, so a missing topic is the operator error),
 * one one-partition topic per run read by a real consumer from the beginning.
 */
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import { Kafka, logLevel } from '../../../connectors/kafka/kafkajs.ts';
import { startKafka, type KafkaServer } from '../../harness/kafka.ts';
import { openTopicAdmin } from '../../e2e/failure-support.ts';
import { readTopics, type ConsumedRecord, type TopicReader } from '../../e2e/support.ts';
import { logContents, type SinkAdapter } from '../adapter.ts';
import type { Run } from '../run.ts';

const topicOf = (run: Run): string => `${run.prefix}.public.items`;
/** The bad record's topic takes records up to this size. */
const MAX_MESSAGE_BYTES = 10_000;

export function kafkaAdapter(): SinkAdapter {
  let kafka: KafkaServer;
  /** Per run: its reader, and what it read by offset (a reader opened again after a restart reads it all again). */
  const logs = new Map<Run, { reader: TopicReader; byOffset: Map<number, ConsumedRecord> }>();
  const subscribe = async (run: Run): Promise<void> => {
    const reader = await readTopics(kafka.brokers, new RegExp(`^${topicOf(run).replaceAll('.', '\\.')}$`));
    logs.set(run, { reader, byOffset: logs.get(run)?.byOffset ?? new Map() });
  };
  /** Topic settings of an existing topic (the bad record's run lowers max.message.bytes). */
  const alterTopic = async (topic: string, configEntries: Array<{ name: string; value: string }>): Promise<void> => {
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] }).finally(() => admin.disconnect());
  };

  return {
    type: 'kafka',
    async start() {
      kafka = await startKafka({ properties: { 'auto.create.topics.enable': 'false' } });
    },
    async close() {
      for (const { reader } of logs.values()) await reader.close().catch(() => undefined);
      await kafka?.close();
    },
    sinkYaml: () => `brokers: ${JSON.stringify(kafka.brokers)}\ncreate_topics: { enabled: false }`,
    async prepare(run) {
      // A regex subscription sees only topics that exist: the run's topic is made first.
      const admin = await openTopicAdmin(kafka.brokers);
      await admin.create(topicOf(run)).finally(() => admin.close());
      await subscribe(run);
    },
    async finish(run) {
      await logs.get(run)?.reader.close();
      logs.delete(run);
    },
    async read(run) {
      const log = logs.get(run)!;
      for (const r of log.reader.records) if (r.partition === 0) log.byOffset.set(Number(r.offset), r);
      const records = [...log.byOffset].sort(([a], [b]) => a - b).map(([, r]) => r);
      return logContents(records.map((r) => (r.value === null ? null : JSON.parse(r.value))));
    },
    break: () => kafka.stop(),
    async restore(run) {
      await kafka.start();
      const log = logs.get(run)!;
      await this.read(run);
      await log.reader.close().catch(() => undefined);
      await subscribe(run);
    },
    badRecord: {
      goodPayload: 'fits',
      // Random, so no compression brings it under the limit.
      badPayload: randomBytes(MAX_MESSAGE_BYTES).toString('base64'),
      prepare: (run) => alterTopic(topicOf(run), [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }]),
      // No on_record_error key: a rejected record stops the worker.
      modes: { fail: () => '' },
      fails: { message: /MESSAGE_TOO_LARGE|larger than/i, hint: /max\.message\.bytes/ },
    },
    operatorError: {
      sinkYaml: () => `brokers: ${JSON.stringify(kafka.brokers)}\ncreate_topics: { enabled: false }`,
      message: /the broker has no topic ".*\.public\.items" and did not create it/,
      hint: /create the topic, set create_topics\.enabled: true/,
    },
  };
}
