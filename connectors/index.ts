/**
 * The registry of sink types: the YAML `type` of a sink file is checked
 * against this list. Explicit imports, no registration side effects.
 *
 * Only the config schemas load with the registry. A sink's code and its client
 * library (kafkajs, ioredis, @elastic/elasticsearch: 20-40 MiB of resident
 * memory each once loaded) are imported when a sink of that type is built, so
 * a worker pays only for the sinks its config names.
 */
import type { SinkConfig } from '../src/config/sink-schema.ts';
import type { SharingProblem, SinkPlugin } from '../src/sink.ts';
import { consoleConfigSchema } from './console/console-config.ts';
import { elasticsearchConfigSchema } from './elasticsearch/elasticsearch-config.ts';
import { kafkaConfigSchema, transactionalIdOf } from './kafka/kafka-config.ts';
import { checkpointKeyOf, redisConfigSchema, redisSharingProblems } from './redis/redis-config.ts';

export const sinkPlugins: readonly SinkPlugin<any>[] = [
  {
    type: 'kafka',
    description: 'Debezium-compatible records to Apache Kafka (kafkajs), one topic per table.',
    configSchema: kafkaConfigSchema,
    create: async (config, context) => (await import('./kafka/kafka-sink.ts')).createKafkaSink(config, context),
    verifier: async (config, context) => (await import('./kafka/kafka-verify.ts')).createKafkaVerifier(config, context),
    checkpointNote: 'no stored checkpoint: every record carries its slotline.lsn header',
    // The transactional id alone: a second producer with it fences the first on whichever cluster they meet.
    checkpointLocation: (config, topicPrefix) => (config.exactly_once ? `kafka transactional.id ${transactionalIdOf(config, topicPrefix)}` : null),
    // The default transactional.id names the topic prefix; a written one would be one producer for two sources.
    sharingProblems: (config) => (config.exactly_once && config.transactional_id !== undefined
      ? [{ path: ['transactional_id'], message: 'leave transactional_id out (it defaults to slotline.<topic_prefix>.<sink name>): each source needs its own producer' }]
      : []),
  },
  {
    type: 'redis',
    description: 'Cache invalidation, write-through and notifications in Redis (ioredis), one atomic step per transaction, LSN-fenced.',
    configSchema: redisConfigSchema,
    create: async (config, context) => (await import('./redis/redis-sink.ts')).createRedisSink(config, context),
    readCheckpoint: async (config, topicPrefix) => (await import('./redis/redis-checkpoint.ts')).readRedisCheckpoint(config, topicPrefix),
    // The key alone, whatever the server: one server can be named by several URLs.
    checkpointLocation: (config, topicPrefix) => `redis key ${checkpointKeyOf(config, topicPrefix)}`,
    sharingProblems: redisSharingProblems,
    verifier: async (config, context) => (await import('./redis/redis-verify.ts')).createRedisVerifier(config, context),
  },
  {
    type: 'elasticsearch',
    description: 'One document per row in Elasticsearch (Bulk API), versioned by LSN so replays never regress a document.',
    configSchema: elasticsearchConfigSchema,
    create: async (config, context) => (await import('./elasticsearch/elasticsearch-sink.ts')).createElasticsearchSink(config, context),
    verifier: async (config, context) => (await import('./elasticsearch/elasticsearch-verify.ts')).createElasticsearchVerifier(config, context),
    checkpointNote: 'no stored checkpoint: each document carries the LSN of its last change as its version',
    // Versions are LSNs of one source: two sources' documents must never meet in one index.
    sharingProblems: (config) => (config.index.includes('{prefix}') ? [] : [{ path: ['index'], message: 'put `{prefix}` in index (e.g. `{prefix}.{schema}.{table}`): sources must not write the same index' }]),
  },
  {
    type: 'console',
    description: 'JSON lines (topic, key, value) to stdout or a file, for demos and debugging.',
    configSchema: consoleConfigSchema,
    create: async (config, context) => (await import('./console/console-sink.ts')).createConsoleSink(config, context),
    checkpointNote: 'no stored checkpoint',
  },
];

export function sinkPlugin(type: string): SinkPlugin<any> {
  const plugin = sinkPlugins.find((p) => p.type === type);
  if (!plugin) throw new Error(`unknown sink type "${type}" (known: ${sinkPlugins.map((p) => p.type).join(', ')})`);
  return plugin;
}

/** What a sink file must change to serve several sources (`sources:` in the main file), for loadConfig. */
export function sinkSharingProblems(sink: SinkConfig): SharingProblem[] {
  return sinkPlugins.find((p) => p.type === sink.type)?.sharingProblems?.(sink) ?? [];
}

/** The per-type config schemas, for src/config (which must not import the sinks themselves). */
export function sinkConfigSchemas(): Record<string, SinkPlugin['configSchema']> {
  return Object.fromEntries(sinkPlugins.map((p) => [p.type, p.configSchema]));
}
