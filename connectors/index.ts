/**
 * The registry of sink types: the YAML `type` of a sink file is checked
 * against this list. Explicit imports, no registration side effects.
 */
import type { SinkPlugin } from '../src/sink.ts';
import { consoleConfigSchema } from './console/console-config.ts';
import { createConsoleSink } from './console/console-sink.ts';
import { elasticsearchConfigSchema } from './elasticsearch/elasticsearch-config.ts';
import { createElasticsearchSink } from './elasticsearch/elasticsearch-sink.ts';
import { kafkaConfigSchema } from './kafka/kafka-config.ts';
import { createKafkaSink } from './kafka/kafka-sink.ts';
import { redisConfigSchema } from './redis/redis-config.ts';
import { createRedisSink } from './redis/redis-sink.ts';

export const sinkPlugins: readonly SinkPlugin<any>[] = [
  {
    type: 'kafka',
    description: 'Debezium-compatible records to Apache Kafka (kafkajs), one topic per table.',
    configSchema: kafkaConfigSchema,
    create: createKafkaSink,
  },
  {
    type: 'redis',
    description: 'Cache invalidation, write-through and notifications in Redis (ioredis), one atomic step per transaction, LSN-fenced.',
    configSchema: redisConfigSchema,
    create: createRedisSink,
  },
  {
    type: 'elasticsearch',
    description: 'One document per row in Elasticsearch (Bulk API), versioned by LSN so replays never regress a document.',
    configSchema: elasticsearchConfigSchema,
    create: createElasticsearchSink,
  },
  {
    type: 'console',
    description: 'JSON lines (topic, key, value) to stdout or a file, for demos and debugging.',
    configSchema: consoleConfigSchema,
    create: createConsoleSink,
  },
];

export function sinkPlugin(type: string): SinkPlugin<any> {
  const plugin = sinkPlugins.find((p) => p.type === type);
  if (!plugin) throw new Error(`unknown sink type "${type}" (known: ${sinkPlugins.map((p) => p.type).join(', ')})`);
  return plugin;
}

/** The per-type config schemas, for src/config (which must not import the sinks themselves). */
export function sinkConfigSchemas(): Record<string, SinkPlugin['configSchema']> {
  return Object.fromEntries(sinkPlugins.map((p) => [p.type, p.configSchema]));
}
