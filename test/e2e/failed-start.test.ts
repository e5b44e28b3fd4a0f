/**
 * A start that fails must not leave a replication slot behind to pin WAL:
 *
 * - every sink is reached before anything is created on the server, so an
 *   unreachable Kafka, Redis or Elasticsearch stops slotline with a hint and
 *   no slot (nor publication) exists afterwards;
 * - a slot that existed before the start is never dropped;
 * - a slot this start created is dropped when the start fails before any
 *   change was confirmed (here: the first snapshot row is refused by the
 *   index), and kept once changes from it were confirmed;
 * - a sink that cannot even be built leaves no HTTP server and no server
 *   connection open in the process that called startWorker.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/errors.ts';
import { startWorker } from '../../src/runtime/worker.ts';
import { esNode, freshDatabase, slotMade, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { writeRedisConfig } from './redis-support.ts';
import { eventually, readConfig, spawnWorker, writeConfig } from './support.ts';

/** Nothing listens on port 1 here: a connection is refused at once. */
const CLOSED = '127.0.0.1:1';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

async function slotOf(db: FreshDatabase, slot: string): Promise<{ confirmed: string } | null> {
  const rows = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return rows[0] ?? null;
}

async function prepare(name: string): Promise<{ db: FreshDatabase; slot: string; publication: string; prefix: string }> {
  const db = await freshDatabase(name);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n text NOT NULL); INSERT INTO public.items VALUES (1, \'1\'), (2, \'2\')');
  return { db, slot: uniqueName(name), publication: uniqueName('pub'), prefix: uniqueName(name) };
}

describe('a sink that cannot be reached at start', () => {
  const sinks: Array<{ type: string; write: (t: Awaited<ReturnType<typeof prepare>>) => Promise<string>; says: RegExp }> = [
    {
      type: 'kafka',
      write: (t) => writeConfig({ ...t, topicPrefix: t.prefix, tables: ['public.items'], brokers: [CLOSED] }),
      says: /kafka/i,
    },
    {
      type: 'redis',
      write: (t) => writeRedisConfig({ ...t, topicPrefix: t.prefix, tables: ['public.items'] }, `url: redis://${CLOSED}\nrules:\n  - tables: ["public.items"]\n    invalidate: ["item:{id}"]`),
      says: /redis/i,
    },
    {
      type: 'elasticsearch',
      write: (t) => writeEsConfig({ ...t, topicPrefix: t.prefix, tables: ['public.items'], node: `http://${CLOSED}` }),
      says: /elasticsearch/i,
    },
    {
      type: 'redis (something else listens there)',
      write: (t) => writeRedisConfig({ ...t, topicPrefix: t.prefix, tables: ['public.items'] }, `url: redis://127.0.0.1:${t.db.port}\nrules:\n  - tables: ["public.items"]\n    invalidate: ["item:{id}"]`),
      says: /Redis .*closed the connection without a Redis reply/,
    },
  ];

  it.each(sinks)('$type: exit 1 with a hint, and neither a slot nor a publication is left', async ({ type, write, says }) => {
    const target = await prepare(`unreachable_${type}`);
    const worker = spawnWorker(await write(target));
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    expect(await worker.exited, worker.output()).toBe(1);
    const lines = worker.output().trim().split('\n');
    // One line and its hint, not client warnings or retries before them.
    expect(lines, worker.output()).toHaveLength(2);
    const final = lines.slice(-2).join('\n');
    expect(final, worker.output()).toMatch(says);
    expect(final, worker.output()).toMatch(/refused|cannot be reached|ECONNREFUSED|connect/i);
    expect(final, worker.output()).toMatch(/\n  hint: /);
    expect(await slotOf(target.db, target.slot)).toBeNull();
    const [pub] = await target.db.sql('SELECT count(*)::int AS n FROM pg_publication WHERE pubname = $1', [target.publication]);
    expect(pub.n).toBe(0);
  });

  it('console: an output file that cannot be opened is one line and a hint (exit 78), and no slot is left', async () => {
    const target = await prepare('console_output');
    const config = await writeConfig({ ...target, topicPrefix: target.prefix, tables: ['public.items'] });
    await writeFile(join(dirname(config), 'sinks', 'console.yaml'), 'name: console\ntype: console\noutput: /nonexistent-dir/events.jsonl\n');
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    expect(await worker.exited, worker.output()).toBe(78);
    expect(worker.output().trim().split('\n'), worker.output()).toEqual([
      'slotline run: sink "console" (console) cannot open its output file /nonexistent-dir/events.jsonl: ENOENT',
      '  hint: `output` names a file in a directory that does not exist: create the directory, or use another path (or stdout)',
    ]);
    expect(await slotOf(target.db, target.slot)).toBeNull();
  });

  it('a slot that existed before the start is kept, untouched', async () => {
    const target = await prepare('unreachable_existing');
    await target.db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [target.slot]);
    const before = await slotOf(target.db, target.slot);
    const worker = spawnWorker(await writeConfig({ ...target, topicPrefix: target.prefix, tables: ['public.items'], brokers: [CLOSED] }));
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    expect(await worker.exited, worker.output()).toBe(1);
    expect(await slotOf(target.db, target.slot)).toEqual(before);
  });
});

describe('a failure after this start created the slot', () => {
  /** An index that takes `n` as an integer: a row whose n is not a number is refused (400), and on_record_error: fail stops slotline. */
  async function strictIndexConfig(target: Awaited<ReturnType<typeof prepare>>, mainExtra?: string): Promise<string> {
    const index = `${target.prefix}-items`;
    const es = esClient(esNode());
    cleanup.push(() => es.close());
    await es.indices.create({ index, mappings: { dynamic: 'strict', properties: { id: { type: 'integer' }, n: { type: 'integer' } } } });
    return writeEsConfig({
      ...target, topicPrefix: target.prefix, tables: ['public.items'], node: esNode(), mainExtra,
      sinkExtra: `index: "${index}"\non_record_error: fail`,
    });
  }

  it('drops it when nothing was confirmed yet, and says so', async () => {
    const target = await prepare('failed_first');
    await target.db.sql("INSERT INTO public.items VALUES (3, 'not a number')");
    const worker = spawnWorker(await strictIndexConfig(target));
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    expect(await worker.exited, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/dropped the replication slot this start created/);
    expect(await slotOf(target.db, target.slot)).toBeNull();
  });

  it('with snapshot.mode no_data, keeps it when it holds a change no snapshot would bring back', async () => {
    const target = await prepare('failed_no_data');
    const config = await strictIndexConfig(target, 'snapshot: { mode: no_data }');
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(() => slotMade(target.db, target.slot), 30_000, 'the slot');
    const created = (await slotOf(target.db, target.slot))!.confirmed;
    // WAL without a captured change: the idle worker confirms past it (as it does whenever
    // other databases write), which is no change delivered from the slot.
    await target.db.sql('CREATE TABLE public.other (id int PRIMARY KEY); INSERT INTO public.other VALUES (1)');
    await eventually(async () => (await target.db.sql('SELECT confirmed_flush_lsn > $1::pg_lsn AS moved FROM pg_replication_slots WHERE slot_name = $2', [created, target.slot]))[0].moved, 30_000, 'an idle confirmation');
    await target.db.sql("INSERT INTO public.items VALUES (3, 'not a number')");
    expect(await worker.exited, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/keeping the slot this start created: it holds changes that no snapshot would bring back/);
    // The refused insert is still in the slot for the next start (peeked, not consumed).
    const held = await target.db.sql(
      `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)
        WHERE get_byte(data, 0) = 73 AND position(convert_to('not a number', 'UTF8') IN data) > 0`,
      [target.slot, target.publication],
    );
    expect(held).toEqual([{ n: 1 }]);
  });

  it('keeps it once changes from it were confirmed', async () => {
    const target = await prepare('failed_later');
    const worker = spawnWorker(await strictIndexConfig(target));
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(() => slotMade(target.db, target.slot), 30_000, 'the slot');
    const created = (await slotOf(target.db, target.slot))!.confirmed;
    await target.db.sql("INSERT INTO public.items VALUES (3, '3')");
    await eventually(async () => (await slotOf(target.db, target.slot))!.confirmed !== created, 30_000, 'a confirmed change');
    await target.db.sql("INSERT INTO public.items VALUES (4, 'not a number')");
    expect(await worker.exited, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/Elasticsearch rejected document/);
    expect(worker.output()).not.toMatch(/dropped the replication slot/);
    expect(await slotOf(target.db, target.slot)).not.toBeNull();
  });
});

describe('a sink that cannot be built', () => {
  it('leaves no HTTP server and no connection to PostgreSQL open', async () => {
    const t = await prepare('build_fails');
    const config = await readConfig(await writeConfig({ ...t, topicPrefix: t.prefix, tables: ['public.items'] }));
    const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = servers();
    const refusal = new OperatorError('this sink cannot be built');
    const err = await startWorker(config, pino({ level: 'silent' }), {
      wrapSink: () => {
        throw refusal;
      },
    }).then(() => null, (e: unknown) => e);
    expect(err).toBe(refusal);
    // The worker's /metrics server was listening before the sinks were built: it is closed again.
    expect(servers()).toBe(before);
    // A backend leaves pg_stat_activity as it exits, just after its client has closed.
    const open = async () => t.db.sql("SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'slotline%'");
    await eventually(async () => (await open()).length === 0, 10_000, 'no slotline connection left').catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(await open())}`);
    });
    expect(await slotOf(t.db, t.slot)).toBeNull();
  });
});
