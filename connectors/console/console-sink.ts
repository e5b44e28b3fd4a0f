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
    return (config.pretty ? indentJson(record) : record) + '\n';
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

/**
 * Re-indents JSON text without parsing it: JSON.parse would round int64 values
 * above 2^53 (ts_ns, big ids), and the console must show what Kafka would get.
 */
export function indentJson(text: string, unit = '  '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i];
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      if (text[i + 1] === close) {
        out += ch + close;
        i++;
      } else out += ch + '\n' + unit.repeat(++depth);
    } else if (ch === '}' || ch === ']') out += '\n' + unit.repeat(--depth) + ch;
    else if (ch === ',') out += ',\n' + unit.repeat(depth);
    else if (ch === ':') out += ': ';
    else out += ch;
  }
  return out;
}
