/**
 * Console sink: one JSON line per record (key and value as Kafka would carry
 * them, plus the topic) to stdout or a file. For the demo and for debugging;
 * "durable" here means the write reached the stream.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { serializeKey, serializeValue } from '../../src/normalize/json-converter.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import { createTopicNamer } from '../kafka/kafka-topics.ts';
import type { ConsoleSinkConfig } from './console-config.ts';

export function createConsoleSink(config: ConsoleSinkConfig, context: SinkContext): Sink {
  const schemasEnable = config.schemas_enable ?? context.schemasEnable;
  const tombstones = context.tombstonesOnDelete;
  const topicOf = createTopicNamer({ topic: '{prefix}.{schema}.{table}', message_topic: '{prefix}.message' }, context.topicPrefix);
  let out: NodeJS.WritableStream | WriteStream = process.stdout;

  const line = (topic: string, key: string | null, value: string | null): string => {
    const record = `{"topic":${JSON.stringify(topic)},"key":${key ?? 'null'},"value":${value ?? 'null'}}`;
    return config.pretty ? JSON.stringify(JSON.parse(record), null, 2) + '\n' : record + '\n';
  };

  return {
    name: config.name,
    async start() {
      if (config.output !== 'stdout') out = createWriteStream(config.output, { flags: 'a' });
    },
    async write(events) {
      let text = '';
      for (const event of events) {
        const topic = topicOf(event);
        const key = serializeKey(event, { schemasEnable });
        text += line(topic, key, serializeValue(event, { schemasEnable }));
        if (event.op === 'd' && tombstones) text += line(topic, key, null);
      }
      await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
    },
    async stop() {
      if (out !== process.stdout) await new Promise<void>((resolve) => (out as WriteStream).end(resolve));
    },
  };
}
