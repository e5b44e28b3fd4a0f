/**
 * Several sources in one process (`sources:`, issue 13 §2): two databases on
 * the shared server and one on a private server, one worker process, one
 * Kafka sink file and one Redis sink file serving all three. Each source's
 * changes reach its own topics and keys, each keeps its own checkpoint, an
 * outage of one server leaves the others flowing, and a SIGKILL loses nothing
 * in any of them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseLsn } from '../../src/lsn.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, pgServer, redisUrl, slotStreaming, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { testTempDir } from '../harness/temp-dirs.ts';
import { openTopicAdmin, type TopicAdmin } from './failure-support.ts';
import { eventually, httpAddress, readTopics, repeatUntilStopped, runSlotline, spawnWorker, type TopicReader, type WorkerProcess } from './support.ts';

interface Source {
  name: string;
  prefix: string;
  slot: string;
  db: FreshDatabase;
  /** The next id to insert: ids are 1..next-1 once committed. */
  next: number;
  /** Each row's v is id * 10 + this: the shared Redis sink's keys (item:{v}) never meet. */
  tag: number;
}

const KEYS = uniqueName('multi');

describe('several sources in one process', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let sources: Source[];
  let privateServer: PgServer;
  let admin: TopicAdmin;
  let reader: TopicReader;
  let redis: Redis;
  let configPath: string;
  let worker: WorkerProcess | null = null;

  const topicOf = (s: Source) => `${s.prefix}.public.items`;
  const idsIn = (s: Source): Set<number> =>
    new Set(reader.records.filter((r) => r.topic === topicOf(s) && r.value !== null).map((r) => JSON.parse(r.key!).id as number));
  const insert = async (s: Source, rows: number): Promise<void> => {
    const ids = Array.from({ length: rows }, () => s.next++);
    await s.db.sql(`INSERT INTO public.items (id, v) SELECT i, i * 10 + $2 FROM unnest($1::int[]) AS i`, [ids, s.tag]);
  };
  const delivered = (s: Source, timeoutMs = 60_000) =>
    eventually(() => idsIn(s).size === s.next - 1, timeoutMs, `source ${s.name}: ${s.next - 1} rows in ${topicOf(s)} (have ${idsIn(s).size})`);
  const slotActive = (s: Source): Promise<boolean> => slotStreaming(s.db, s.slot);
  const slotConfirmed = async (s: Source): Promise<bigint> => {
    const [row] = await s.db.sql('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [s.slot]);
    return row ? parseLsn(row.lsn) : 0n;
  };

  beforeAll(async () => {
    privateServer = await startPostgres({ major: 17 });
    cleanup.push(() => privateServer.stop());
    const privateDbName = 'multi_b';
    await privateServer.createDatabase(privateDbName);
    const privateDb: FreshDatabase = {
      ...privateServer, database: privateDbName, databaseUrl: privateServer.url(privateDbName),
      sql: (sql, params) => privateServer.query(sql, params, privateDbName),
    };
    const make = (name: string, db: FreshDatabase, tag: number): Source => ({ name, prefix: uniqueName(`multi_${name}`), slot: uniqueName(`multi_${name}`), db, next: 1, tag });
    sources = [make('a', await freshDatabase('multi_a'), 1), make('b', privateDb, 2), make('c', await freshDatabase('multi_c'), 3)];
    for (const s of sources) await s.db.sql('CREATE TABLE public.items (id int PRIMARY KEY, v int)');
    cleanup.push(async () => {
      for (const s of sources) await s.db.sql('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [s.slot]).catch(() => undefined);
    });

    const brokers = kafkaBrokers();
    admin = await openTopicAdmin(brokers);
    cleanup.push(() => admin.close());
    for (const s of sources) await admin.create(topicOf(s));
    reader = await readTopics(brokers, new RegExp(`^(${sources.map((s) => s.prefix).join('|')})\\.public\\.items$`));
    cleanup.push(() => reader.close());
    redis = new Redis(redisUrl());
    cleanup.push(() => redis.quit());
    configPath = await writeMultiConfig(sources, brokers);
  });

  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    if (worker) await worker.exited;
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('streams each database to its own topics and keys, with a checkpoint of its own, and names the source in its logs', async () => {
    worker = spawnWorker(configPath);
    // snapshot.mode no_data: only what is committed after each slot exists is streamed.
    for (const s of sources) await eventually(() => slotActive(s), 60_000, `slot of source ${s.name} streaming`);
    for (const s of sources) await insert(s, 5);
    for (const s of sources) await delivered(s);
    // The shared Redis sink: each source's rows, each source's own checkpoint key.
    for (const s of sources) {
      const key = `${KEYS}:item:${30 + s.tag}`;
      await eventually(async () => (await redis.get(key)) !== null, 30_000, `row 3 of source ${s.name} in Redis`);
      expect(JSON.parse((await redis.get(key))!), s.name).toMatchObject({ id: 3, v: 30 + s.tag });
      await eventually(async () => (await redis.get(`${KEYS}:${s.prefix}:ckpt`)) !== null, 30_000, `the checkpoint key of source ${s.name}`);
    }
    const checkpoints = await Promise.all(sources.map((s) => redis.get(`${KEYS}:${s.prefix}:ckpt`)));
    expect(new Set(checkpoints).size, `one checkpoint per source: ${checkpoints.join(', ')}`).toBe(3);
    // Each slot is confirmed past its own database's last change, independently.
    for (const s of sources) {
      const [{ lsn }] = await s.db.sql('SELECT pg_current_wal_lsn()::text AS lsn');
      await eventually(async () => (await slotConfirmed(s)) >= parseLsn(lsn), 30_000, `slot of source ${s.name} confirmed past ${lsn}`);
    }
    for (const s of sources) expect(worker.output()).toMatch(new RegExp(`"source":"${s.name}"[^\\n]*"msg":"created slot"|"msg":"created slot"[^\\n]*"source":"${s.name}"`));

    // One listener for the process: every metric names its source, /status and /readyz answer per source.
    const address = httpAddress(worker.output());
    expect(address, worker.output()).not.toBeNull();
    const metrics = await (await fetch(`${address}/metrics`)).text();
    for (const s of sources) {
      expect(metrics).toMatch(new RegExp(`slotline_transactions_written_total\\{source="${s.name}",sink="kafka"\\} [1-9]`));
      expect(metrics).toContain(`slotline_info{source="${s.name}",`);
    }
    const b = await (await fetch(`${address}/status?source=b`)).json();
    expect(b).toMatchObject({ name: 'b', source: { database: sources[1].db.database, slot: sources[1].slot } });
    await eventually(async () => (await fetch(`${address}/readyz`)).status === 200, 30_000, 'every source ready');
    expect((await fetch(`${address}/readyz?source=nope`)).status).toBe(404);
    // slotline status about one source reads that source's part of the running worker.
    const status = await runSlotline(['status', '--config', configPath, '--source', 'c', '--url', address!, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).worker.status).toMatchObject({ name: 'c', source: { slot: sources[2].slot } });
  }, 240_000);

  it('keeps the other sources flowing while one source\'s server is down, and catches that one up after', async () => {
    const [a, b, c] = sources;
    await privateServer.restart(async () => {
      await insert(a, 20);
      await insert(c, 20);
      await delivered(a);
      await delivered(c);
      expect(worker!.child.exitCode, worker!.output()).toBeNull();
    });
    await insert(b, 20);
    for (const s of sources) await delivered(s);
    // Only b lost its connection; a and c never noticed.
    const lost = worker!.output().split('\n').filter((line) => line.includes('replication connection lost; reconnecting'));
    expect(lost.length, worker!.output()).toBeGreaterThan(0);
    expect(lost.every((line) => line.includes('"source":"b"')), lost.join('\n')).toBe(true);
  }, 240_000);

  it('loses nothing in any source across SIGKILL under a write load', async () => {
    const loads = sources.map((s) => repeatUntilStopped(() => insert(s, 3)));
    // Kill once every source has written during this load.
    const before = sources.map((s) => idsIn(s).size);
    await eventually(() => sources.every((s, i) => idsIn(s).size > before[i] + 10), 60_000, 'every source writing under load');
    worker!.child.kill('SIGKILL');
    expect(await worker!.exited).toBe('SIGKILL');
    for (const s of sources) await eventually(async () => !(await slotActive(s)), 20_000, `slot of ${s.name} released`);
    worker = spawnWorker(configPath);
    await Promise.all(loads.map((l) => l.stop()));
    for (const s of sources) await delivered(s, 90_000);
    for (const s of sources) {
      const ids = idsIn(s);
      const missing = Array.from({ length: s.next - 1 }, (_, i) => i + 1).filter((id) => !ids.has(id));
      expect(missing, `source ${s.name}`).toEqual([]);
    }
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    worker = null;
  }, 300_000);

  it('starts the sources it can, and a source whose database is missing once the database exists', async () => {
    const server = pgServer();
    const missing = uniqueName('multi_later');
    const later: FreshDatabase = { ...server, database: missing, databaseUrl: server.url(missing), sql: (sql, params) => server.query(sql, params, missing) };
    const fresh = (name: string, db: FreshDatabase, tag: number): Source => ({ name, prefix: uniqueName(`multi_${name}`), slot: uniqueName(`multi_${name}`), db, next: 1, tag });
    const [a, x] = [fresh('a', await freshDatabase('multi_a2'), 1), fresh('x', later, 4)];
    await a.db.sql('CREATE TABLE public.items (id int PRIMARY KEY, v int)');
    for (const s of [a, x]) await admin.create(topicOf(s));
    const laterReader = await readTopics(kafkaBrokers(), new RegExp(`^(${a.prefix}|${x.prefix})\\.public\\.items$`));
    cleanup.push(() => laterReader.close());
    const saved = reader;
    reader = laterReader;
    try {
      worker = spawnWorker(await writeMultiConfig([a, x], kafkaBrokers()));
      await eventually(() => slotActive(a), 60_000, 'slot of source a streaming');
      await insert(a, 5);
      await delivered(a);
      await eventually(() => worker!.output().includes('"source":"x"') && worker!.output().includes('source stopped; starting it again'), 30_000, 'source x retrying its start');
      expect(worker.output()).toContain(`database \\"${missing}\\" does not exist`);

      await server.createDatabase(missing);
      await later.sql('CREATE TABLE public.items (id int PRIMARY KEY, v int)');
      await eventually(() => slotActive(x), 60_000, 'slot of source x streaming once its database exists');
      await insert(x, 5);
      await insert(a, 5);
      await delivered(x);
      await delivered(a);
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toBe(0);
      worker = null;
    } finally {
      reader = saved;
      for (const s of [a, x]) await s.db.sql('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [s.slot]).catch(() => undefined);
    }
  }, 240_000);
});

async function writeMultiConfig(sources: Source[], brokers: string[]): Promise<string> {
  const dir = await testTempDir('multi');
  await mkdir(join(dir, 'sinks'));
  const entries = sources.map((s) => `  - name: ${s.name}
    topic_prefix: ${s.prefix}
    url: ${JSON.stringify(s.db.databaseUrl)}
    slot: ${s.slot}
    publication: ${s.slot}
    tables: [public.items]
    status_interval_ms: 1000
    heartbeat_interval_ms: 0
    reconnect: { initial_delay_ms: 200, max_delay_ms: 1000 }
`).join('');
  await writeFile(join(dir, 'slotline.yaml'), `sources:
${entries}sinks: sinks/
schemas_enable: false
snapshot: { mode: no_data }
runtime:
  retry: { initial_delay_ms: 100, max_delay_ms: 1000 }
http:
  listen: "127.0.0.1:0"
log:
  level: info
  format: json
`);
  await writeFile(join(dir, 'sinks', 'kafka.yaml'), `name: kafka\ntype: kafka\nbrokers: [${brokers.map((b) => JSON.stringify(b)).join(', ')}]\n`);
  await writeFile(join(dir, 'sinks', 'cache.yaml'), `name: cache
type: redis
url: ${redisUrl()}
checkpoint_key: "${KEYS}:{prefix}:ckpt"
fence_prefix: "${KEYS}:fence:{prefix}:"
rules:
  - tables: [public.items]
    refresh: { key: "${KEYS}:item:{v}" }
`);
  return join(dir, 'slotline.yaml');
}

