/**
 * Keys of a `type: kafka` sink file. The defaults give Debezium's topics and
 * records, so a Debezium consumer works unchanged (DESIGN.md, compatibility).
 * The type's description lives in the registry (connectors/index.ts); topic
 * templates are expanded by kafka-topics.ts.
 */
import { z } from 'zod';
import { count, durationMs, flag, listOrCommaString, overrideOf, tlsSchema } from '../../src/config/schema-parts.ts';
import { byteSize } from '../../src/config/sizes.ts';
import type { SinkConfig } from '../../src/config/sink-schema.ts';

/** Record batch codecs, as the Java producer's `compression.type` (kafka-compression.ts registers them with the client). */
export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

const broker = z.string().superRefine((text, ctx) => {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    ctx.addIssue({ code: 'custom', input: text, message: `invalid broker ${JSON.stringify(text)}: expected host:port` });
  }
});

const TOPIC_CHAR = /^[A-Za-z0-9._-]$/;

/** Problems of a topic template: unknown placeholders, braces, characters Kafka refuses. */
export function topicTemplateProblems(template: string, placeholders: readonly string[]): string[] {
  const problems: string[] = [];
  const allowed = placeholders.map((p) => `{${p}}`).join(', ');
  for (const [, name] of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!placeholders.includes(name)) problems.push(`unknown placeholder "{${name}}" in topic template (allowed: ${allowed})`);
  }
  const literal = template.replace(/\{[^{}]*\}/g, '');
  if (/[{}]/.test(literal)) problems.push(`unbalanced "{" or "}" in topic template ${JSON.stringify(template)}`);
  const bad = [...literal].find((ch) => ch !== '{' && ch !== '}' && !TOPIC_CHAR.test(ch));
  if (bad !== undefined) problems.push(`character ${JSON.stringify(bad)} is not allowed in a Kafka topic name (use letters, digits, ".", "_", "-")`);
  if (template === '') problems.push('topic template is empty');
  return problems;
}

function topicTemplate(placeholders: readonly string[], defaultTemplate: string, description: string) {
  return z
    .string()
    .superRefine((template, ctx) => {
      for (const message of topicTemplateProblems(template, placeholders)) ctx.addIssue({ code: 'custom', input: template, message });
    })
    .default(defaultTemplate)
    .meta({ description, docType: 'topic template' });
}

export const kafkaConfigSchema = z
  .strictObject({
    brokers: listOrCommaString(broker)
      .refine((list) => list.length > 0, { error: 'list at least one broker' })
      .meta({ description: 'Bootstrap brokers, `host:port`; a list, or one comma-separated string.', docType: 'list of host:port' }),
    client_id: z.string().min(1).default('slotline').describe('Kafka client id.'),
    topic: topicTemplate(
      ['prefix', 'schema', 'table'],
      '{prefix}.{schema}.{table}',
      'Topic of a table\'s change events. Placeholders: `{prefix}` (topic_prefix), `{schema}`, `{table}`. The default is Debezium\'s.',
    ),
    message_topic: topicTemplate(['prefix'], '{prefix}.message', 'Topic of logical decoding messages. Placeholder: `{prefix}`. The default is Debezium\'s.'),
    schemas_enable: overrideOf(z.boolean(), 'schemas_enable', 'Override of the global `schemas_enable` for this sink.'),
    tombstones_on_delete: overrideOf(z.boolean(), 'tombstones_on_delete', 'Override of the global `tombstones_on_delete` for this sink.'),
    compression: z.enum(COMPRESSIONS).default('none').describe('Record batch compression, as the Java producer\'s `compression.type`.'),
    batch: z
      .strictObject({
        max_events: overrideOf(z.int().min(1), 'runtime.batch_max_events', 'Most events in one produce call.'),
        max_bytes: overrideOf(byteSize(), 'runtime.batch_max_bytes', 'Most event bytes in one produce call.', 'size'),
        linger_ms: overrideOf(z.int().min(0), 'runtime.linger_ms', 'How long a partial batch waits for more events.', 'integer (ms)'),
      })
      .prefault({})
      .describe('Batching overrides for this sink.'),
    headers: flag(true, 'Add the change\'s LSN and transaction id as record headers.'),
    create_topics: z
      .strictObject({
        enabled: flag(false, 'Create missing topics before the first write (else the broker\'s auto-create, if any, applies).'),
        partitions: count(1, 'Partitions of a created topic.'),
        replication_factor: count(1, 'Replication factor of a created topic.'),
        config: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
          .prefault({})
          .meta({ description: 'Topic configs of a created topic, e.g. `cleanup.policy: compact`.', docType: 'map of string' }),
      })
      .prefault({})
      .describe('Topic creation.'),
    request_timeout_ms: durationMs(30_000, 'Timeout of one request to a broker.', 1),
    exactly_once: flag(
      false,
      'A transactional producer: each write\'s records and this sink\'s checkpoint (the end LSN of its last Postgres transaction) commit in one Kafka transaction, so a `read_committed` consumer sees every change exactly once, across crashes. Costs throughput: see docs/benchmark.md.',
    ),
    transactional_id: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'The producer\'s `transactional.id` with `exactly_once`: one running producer per id (a new one fences the old). Also the key of this sink\'s checkpoint.', docDefault: 'slotline.<topic_prefix>.<sink name>' }),
    checkpoint_topic: z
      .string()
      .min(1)
      .default('slotline.checkpoints')
      .describe('Compacted topic of the `exactly_once` checkpoints (created if missing, one partition, `create_topics.replication_factor` replicas).'),
    transaction_timeout_ms: durationMs(60_000, 'With `exactly_once`, how long the broker lets a transaction stay open before aborting it (at most the broker\'s transaction.max.timeout.ms).', 1000),
    sasl: z
      .strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism.'),
        username: z.string().min(1).describe('SASL user name.'),
        password: z.string().describe('SASL password; prefer `${KAFKA_PASSWORD}` over writing it here.'),
      })
      .optional()
      .meta({ description: 'SASL authentication.', docDefault: 'none' }),
    ssl: tlsSchema('TLS to the brokers.'),
  });

export type KafkaSinkConfig = SinkConfig<typeof kafkaConfigSchema>;

/** The producer's transactional.id with exactly_once (also the key of the sink's checkpoint). */
export function transactionalIdOf(config: Pick<KafkaSinkConfig, 'transactional_id' | 'name'>, topicPrefix: string): string {
  return config.transactional_id ?? `slotline.${topicPrefix}.${config.name}`;
}
