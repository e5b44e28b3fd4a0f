/**
 * One conformance run: a fresh database with `public.items`, a main file and
 * the adapter's sink file, and the `slotline` processes started for it —
 * workers that can be SIGKILLed, replays. Every process's stdout and stderr
 * join the failure of the test that started it (test/harness/child-process.ts);
 * the console sink reads its records back from their stdout.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { startChild, type RunningChild } from '../harness/child-process.ts';
import { freshDatabase, slotMade, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { perKeyOrder, withRuntime } from '../e2e/failure-support.ts';
import { eventually, REPO, writeConfig } from '../e2e/support.ts';
import type { SinkAdapter, SinkContents } from './adapter.ts';

export interface Run {
  db: FreshDatabase;
  slot: string;
  /** Topic prefix, and the prefix of the run's indexes and keys. */
  prefix: string;
  configPath: string;
  sinkFile: string;
  httpPort: number;
  /** Every slotline process of the run, in start order. */
  processes: RunningChild[];
}

export interface RunOptions {
  /** Keys under `runtime:` (batch_max_events, max_in_flight_bytes, …). */
  runtime?: Record<string, number>;
  /** Sink file lines after the adapter's (on_record_error, …). */
  sinkExtra?: (run: Run) => string;
  /** The sink file's keys instead of the adapter's (and no `prepare`: the operator error's run). */
  sinkYaml?: (run: Run) => string;
  /** Keep a rewind slot (for `slotline replay`). */
  rewind?: boolean;
}

export async function newRun(adapter: SinkAdapter, name: string, options: RunOptions = {}): Promise<Run> {
  const db = await freshDatabase(`conf_${adapter.type}_${name}`);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, seq int NOT NULL, payload text NOT NULL)');
  // A delete carries the old row, so its event number is known (before.seq + 1).
  await db.sql('ALTER TABLE public.items REPLICA IDENTITY FULL');
  const [slot, prefix] = [uniqueName(name), uniqueName(`${adapter.type}_${name}`)];
  const configPath = await writeConfig({
    db, slot, publication: uniqueName('pub'), topicPrefix: prefix, tables: ['public.items'],
    mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data }',
    sourceExtra: options.rewind ? 'rewind: { retain: 1h }' : '',
  });
  const httpPort = await freePort();
  await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('listen: "127.0.0.1:0"', `listen: "127.0.0.1:${httpPort}"`));
  if (options.runtime) await withRuntime(configPath, options.runtime);
  const sinks = join(dirname(configPath), 'sinks');
  await rm(join(sinks, 'console.yaml'));
  const run: Run = { db, slot, prefix, configPath, sinkFile: join(sinks, `${adapter.type}.yaml`), httpPort, processes: [] };
  await writeFile(run.sinkFile, `name: ${adapter.type}\ntype: ${adapter.type}\n${(options.sinkYaml ?? adapter.sinkYaml)(run)}\n${options.sinkExtra?.(run) ?? ''}\n`);
  onTestFinished(async () => {
    for (const p of run.processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(run.processes.map((p) => p.exit));
    await adapter.finish?.(run);
    // The shared server keeps serving other files: an inactive slot would hold WAL for them all.
    await eventually(async () => (await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE $1 AND active', [`${slot}%`])).length === 0, 30_000, 'the run\'s slots to be released');
    await db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1', [`${slot}%`]);
  });
  if (!options.sinkYaml) await adapter.prepare?.(run);
  return run;
}

/** `slotline run` as a child process. */
export function spawnWorker(run: Run): RunningChild {
  const worker = startChild('slotline run', process.execPath, [join(REPO, 'bin', 'slotline.js'), 'run', '--config', run.configPath]);
  run.processes.push(worker);
  return worker;
}

/** Starts a worker and waits until it has made the slot (changes from then on are captured). */
export async function startWorker(run: Run): Promise<RunningChild> {
  const worker = spawnWorker(run);
  await eventually(async () => (await slotMade(run.db, run.slot)) || worker.child.exitCode !== null, 60_000, 'the worker to make its slot');
  expect(worker.child.exitCode, 'the worker stopped before making its slot').toBeNull();
  return worker;
}

/** SIGTERM, and a clean exit. */
export async function stopWorker(worker: RunningChild): Promise<void> {
  worker.child.kill('SIGTERM');
  expect((await worker.exit).code, 'the worker exits 0 on SIGTERM').toBe(0);
}

/** SIGKILL, and the slot released by the server (its position is final then). */
export async function killWorker(run: Run, worker: RunningChild): Promise<void> {
  worker.child.kill('SIGKILL');
  expect((await worker.exit).signal).toBe('SIGKILL');
  await eventually(async () => (await run.db.sql('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [run.slot]))[0].active === false, 30_000, 'the slot to be released');
}

/** The worker's GET /status, or null when it does not answer within 2 s. */
export async function workerStatus(run: Run): Promise<any | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${run.httpPort}/status`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

export async function walLsn(run: Run): Promise<bigint> {
  const [{ lsn }] = await run.db.sql('SELECT pg_current_wal_lsn()::text AS lsn');
  return lsnValue(lsn);
}

export async function confirmedLsn(run: Run): Promise<bigint> {
  const [{ lsn }] = await run.db.sql('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [run.slot]);
  return lsnValue(lsn);
}

function lsnValue(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** The table's rows: id → seq. */
export async function tableRows(run: Run): Promise<Map<number, number>> {
  return new Map((await run.db.sql('SELECT id, seq FROM public.items')).map((r) => [r.id as number, r.seq as number]));
}

/** Keys whose row in the sink is not the table's, for failure messages. */
export function rowDiff(sink: ReadonlyMap<number, number>, table: ReadonlyMap<number, number>): string[] {
  const diff: string[] = [];
  for (const [id, seq] of table) if (sink.get(id) !== seq) diff.push(`key ${id}: sink has ${sink.get(id) ?? 'nothing'}, table seq ${seq}`);
  for (const [id, seq] of sink) if (!table.has(id)) diff.push(`key ${id}: sink has ${seq}, the table no row`);
  return diff;
}

/** Waits until the sink holds exactly the table's rows; returns what it holds then. */
export async function converged(adapter: SinkAdapter, run: Run, what: string, timeoutMs = 90_000): Promise<SinkContents> {
  const table = await tableRows(run);
  let contents: SinkContents = { rows: new Map() };
  await eventually(async () => {
    contents = await adapter.read(run).catch(() => contents);
    return rowDiff(contents.rows, table).length === 0;
  }, timeoutMs, what).catch((err: Error) => {
    const diff = rowDiff(contents.rows, table);
    throw new Error(`${err.message}: ${diff.length} keys differ from the table\n${diff.slice(0, 10).join('\n')}`);
  });
  return contents;
}

/**
 * A log sink's history checked against the writer's last event per key:
 * at-least-once with replay from the confirmed position (perKeyOrder in
 * test/e2e/failure-support.ts), or, with `exactlyOnce`, each key's events 1…last once each.
 */
export function historyProblems(history: ReadonlyMap<number, number[]>, lastEvent: ReadonlyMap<number, number>, exactlyOnce = false): string[] {
  if (exactlyOnce) {
    const problems: string[] = [];
    for (const [key, last] of lastEvent) {
      const events = history.get(key) ?? [];
      if (events.length !== last || events.some((e, i) => e !== i + 1)) problems.push(`key ${key}: events ${events.join(',')}, want 1…${last} once each`);
    }
    for (const key of history.keys()) if (!lastEvent.has(key)) problems.push(`key ${key}: in the sink but never written`);
    return problems;
  }
  return perKeyOrder([...history].flatMap(([key, events]) => events.map((event) => ({ key, event, offset: 0, lsn: 0n, op: '' }))), lastEvent);
}

/** Runs `body`; a failure says the seed that replays it. */
export async function withSeed(seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof Error) err.message = `[seed ${seed}; SLOTLINE_FAILURE_SEED=${seed} replays it] ${err.message}`;
    throw err;
  }
}
