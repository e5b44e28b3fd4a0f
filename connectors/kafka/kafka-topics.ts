/**
 * Topic names from the sink's templates. Like Debezium's default topic naming
 * strategy, characters Kafka does not allow in a topic name (anything but
 * ASCII letters, digits, '.', '_' and '-') become '_', so a table named
 * `Ünïcode table` still has a topic (`app.public._n_code_table`).
 */
import type { ChangeEvent } from '../../src/types.ts';

export interface TopicTemplates {
  topic: string;
  message_topic: string;
}

const INVALID = /[^A-Za-z0-9._-]/g;

export function sanitizeTopic(name: string): string {
  return name.replace(INVALID, '_').slice(0, 249);
}

export function createTopicNamer(templates: TopicTemplates, prefix: string): (event: ChangeEvent) => string {
  const cache = new Map<string, string>();
  let last: { schema: string; table: string; topic: string } | null = null;
  const messageTopic = sanitizeTopic(templates.message_topic.replaceAll('{prefix}', prefix));
  return (event) => {
    const chosen = event.record?.topic ?? event.destination;
    if (chosen !== undefined) return sanitizeTopic(chosen);
    if (event.op === 'm') return messageTopic;
    // Events come in runs of one table, whose names are the relation's own strings.
    if (last !== null && event.schema === last.schema && event.table === last.table) return last.topic;
    const id = `${event.schema}\u0000${event.table}`;
    let topic = cache.get(id);
    if (topic === undefined) {
      topic = sanitizeTopic(
        templates.topic.replaceAll('{prefix}', prefix).replaceAll('{schema}', event.schema).replaceAll('{table}', event.table),
      );
      cache.set(id, topic);
    }
    last = { schema: event.schema, table: event.table, topic };
    return topic;
  };
}
