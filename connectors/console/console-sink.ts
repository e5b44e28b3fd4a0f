/**
 * Console sink: one JSON line per record (key and value as Kafka would carry
 * them, plus the topic) to stdout or a file. For the demo and for debugging;
 * "durable" here means the write reached the stream.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { OperatorError } from '../../src/errors.ts';
import { serializeRecords } from '../../src/normalize/json-converter.ts';
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
    writesRecords: true,
    async start() {
      if (config.output === 'stdout') return;
      const file = createWriteStream(config.output, { flags: 'a' });
      // Opened now, so that a path that cannot be written stops the start with a hint, before the slot exists.
      await once(file, 'open').catch((err: NodeJS.ErrnoException) => {
        throw new OperatorError(`sink "${config.name}" (console) cannot open its output file ${config.output}: ${err.code ?? err.message}`, {
          hint: outputHint(err.code),
          cause: err,
          permanent: err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EISDIR' || err.code === 'ENOTDIR',
        });
      });
      // A later failure (disk full) fails the write in progress, which is retried; the stream must not throw it.
      file.on('error', () => undefined);
      out = file;
    },
    async write(events) {
      let text = '';
      for (const event of events) {
        const topic = topicOf(event);
        for (const { key, value } of serializeRecords(event, { schemasEnable }, tombstones)) text += line(topic, key, value);
      }
      await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
    },
    async stop() {
      if (out !== process.stdout) await new Promise<void>((resolve) => (out as WriteStream).end(resolve));
    },
  };
}

function outputHint(code: string | undefined): string {
  if (code === 'ENOENT' || code === 'ENOTDIR') return '`output` names a file in a directory that does not exist: create the directory, or use another path (or stdout)';
  if (code === 'EISDIR') return '`output` names a directory: give a file path in it (appended to), or stdout';
  if (code === 'EACCES' || code === 'EPERM') return 'the user slotline runs as may not write there: change the permissions or the path (or use stdout)';
  return 'check `output` in the sink file: a file path slotline may append to, or stdout';
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
