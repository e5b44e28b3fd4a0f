/**
 * `slotline replay` against real servers: a worker with a rewind slot wrote
 * history into a console file and stopped; replays re-send windows of it —
 * by LSN, by time, from the rewind slot's start — into shadow sinks (a console
 * file, a Kafka topic prefix, an Elasticsearch index), and exactly the changes
 * of the window arrive, in order. The production slot, the rewind slot and the
 * production file are as they were after every replay, whatever its outcome,
 * and no temporary slot is left behind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { esNode, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { esClient, readIndex } from './elasticsearch-support.ts';
import { consoleRecords, essence, expectUntouched, recordHistory, recordLsns, writeSinkFile, type History } from './replay-support.ts';
import { readTopics, runSlotline } from './support.ts';

let history: History;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  history = await recordHistory('replay');
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

const replay = (...args: string[]) => runSlotline(['replay', '--config', history.configPath, ...args], { timeoutMs: 120_000 });

describe('into a shadow sink', () => {
  it('--from LSN --to LSN: exactly the transactions that committed in the window, in order, into a console file', async () => {
    const shadow = await writeSinkFile(history, 'shadow-console.yaml', `name: shadow\ntype: console\noutput: ${JSON.stringify(join(history.dir, 'shadow.jsonl'))}\n`);
    const result = await replay('--sink', shadow, '--from', history.l1, '--to', history.l2);
    expect(result.code, result.stderr).toBe(0);
    const [l1, l2] = [parseLsn(history.l1), parseLsn(history.l2)];
    const lsns = recordLsns(history.production);
    const expected = history.production.filter((_, i) => lsns[i] >= l1 && lsns[i] < l2).map((r) => essence(r));
    // B: update 2, delete 1 (and its tombstone); insert items 4, other 2, the message.
    expect(expected).toHaveLength(6);
    expect((await consoleRecords(join(history.dir, 'shadow.jsonl'))).map((r) => essence(r))).toEqual(expected);
    expect(result.stdout).toMatch(/^replayed 2 transactions, 5 events in [\d.]+ s \(\d+ events\/s\) into sink "shadow" \(console, /m);
    expect(result.stdout).toMatch(/public\.items +1 +1 +1 +0 +3\n/); // c u d m events
    expect(result.stdout).toMatch(/temporary slot \S+_replay_\S+ dropped/);
    await expectUntouched(history);
  });

  it('--tables: only those tables\' changes of the window', async () => {
    const shadow = await writeSinkFile(history, 'shadow-other.yaml', `name: shadow-other\ntype: console\noutput: ${JSON.stringify(join(history.dir, 'other.jsonl'))}\n`);
    const result = await replay('--sink', shadow, '--from', history.l1, '--to', history.l2, '--tables', 'public.other');
    expect(result.code, result.stderr).toBe(0);
    const records = await consoleRecords(join(history.dir, 'other.jsonl'));
    expect(records.map((r) => [r.topic, r.value.payload.op, r.value.payload.after])).toEqual([[`${history.topicPrefix}.public.other`, 'c', { id: 2 }]]);
    await expectUntouched(history);
  });

  it('--from rewind --to now: everything the rewind slot holds, into a Kafka topic prefix, in order per topic', async () => {
    const prefix = `${uniqueName('shadow')}.`;
    const shadow = await writeSinkFile(
      history,
      'shadow-kafka.yaml',
      `name: shadow-kafka\ntype: kafka\nbrokers: ${JSON.stringify(kafkaBrokers())}\ntopic: "${prefix}{prefix}.{schema}.{table}"\nmessage_topic: "${prefix}{prefix}.message"\ncreate_topics: { enabled: true }\n`,
    );
    const result = await replay('--sink', shadow, '--from', 'rewind', '--to', 'now');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^replayed 4 transactions, 10 events/m);
    const reader = await readTopics(kafkaBrokers(), new RegExp(`^${prefix.replaceAll('.', '\\.')}`));
    cleanup.push(() => reader.close());
    const records = await reader.waitFor((r) => r.length >= history.production.length, 60_000);
    const byTopic = (list: Array<{ topic: string; key: string | null; value: string | null }>, drop = '') => {
      const topics = new Map<string, string[]>();
      for (const r of list) {
        const record = { topic: r.topic, key: r.key === null ? null : JSON.parse(r.key), value: r.value === null ? null : JSON.parse(r.value) };
        const line = essence(record, drop);
        topics.set(record.topic.slice(drop.length), [...(topics.get(record.topic.slice(drop.length)) ?? []), line]);
      }
      return topics;
    };
    const production = history.production.map((r) => ({ topic: r.topic, key: r.key === null ? null : JSON.stringify(r.key), value: r.value === null ? null : JSON.stringify(r.value) }));
    expect(byTopic(records, prefix)).toEqual(byTopic(production));
    await expectUntouched(history);
  });

  it('--from <ISO time>: the transactions committed since, into an Elasticsearch index', async () => {
    const index = `${uniqueName('shadow')}-items`;
    const shadow = await writeSinkFile(history, 'shadow-es.yaml', `name: shadow-es\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "${index}"\ntables: ["public.items"]\nmessages: false\ncreate_index: true\n`);
    const result = await replay('--sink', shadow, '--from', history.afterA);
    expect(result.code, result.stderr).toBe(0);
    // B and C: update 2, delete 1 (a document that never was), insert 4, insert 5.
    expect(result.stdout).toMatch(/^replayed 3 transactions, 4 events/m);
    const client = esClient(esNode());
    cleanup.push(() => client.close());
    const docs = await readIndex(client, index);
    expect(Object.fromEntries([...docs].sort(([a], [b]) => Number(a) - Number(b)))).toEqual({
      2: { id: 2, n: 'TWO' },
      4: { id: 4, n: 'four' },
      5: { id: 5, n: 'five' },
    });
    await expectUntouched(history);
  });

  it('writes nothing into the production file, and prints a JSON summary on request', async () => {
    const before = await readFile(join(history.dir, 'console.jsonl'), 'utf8');
    const shadow = await writeSinkFile(history, 'shadow-json.yaml', `name: shadow-json\ntype: console\noutput: ${JSON.stringify(join(history.dir, 'json.jsonl'))}\n`);
    const result = await replay('--sink', shadow, '--from', history.l1, '--to', history.l2, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      sink: { name: 'shadow-json', type: 'console', production: null },
      from: { requested: history.l1, lsn: history.l1 },
      to: { requested: history.l2, lsn: history.l2 },
      transactions: 2,
      events: 5,
      tables: [
        { table: '', events: 1, ops: { m: 1 } },
        { table: 'public.items', events: 3, ops: { c: 1, u: 1, d: 1 } },
        { table: 'public.other', events: 1, ops: { c: 1 } },
      ],
    });
    expect(await readFile(join(history.dir, 'console.jsonl'), 'utf8')).toBe(before);
    await expectUntouched(history);
  });
});

describe('a sink that fails during the replay', () => {
  it('exits 1 with the sink\'s error; the temporary slot is gone and the production slot untouched', async () => {
    const index = `${uniqueName('strict')}-items`;
    const client = esClient(esNode());
    cleanup.push(() => client.close());
    // n must be an integer: the first document is refused (400), and on_record_error: fail stops the replay.
    await client.indices.create({ index, mappings: { dynamic: 'strict', properties: { id: { type: 'integer' }, n: { type: 'integer' } } } });
    const shadow = await writeSinkFile(history, 'shadow-strict.yaml', `name: shadow-strict\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "${index}"\ntables: ["public.items"]\nmessages: false\non_record_error: fail\n`);
    const result = await replay('--sink', shadow);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/Elasticsearch rejected document/);
    await expectUntouched(history);
  });
});
