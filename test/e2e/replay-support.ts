/**
 * What the replay end-to-end tests share: a worker with a rewind slot that
 * streamed three batches of history (A, then B between two LSNs, then C)
 * into a console file and stopped; reading console files and Kafka records
 * back in a form that two deliveries of one change share; and the state of
 * the slots, which a replay must leave as it found them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, runInProcess, writeConfig } from './support.ts';

export interface History {
  db: FreshDatabase;
  slot: string;
  topicPrefix: string;
  configPath: string;
  dir: string;
  /** B's transactions commit in [l1, l2); A's before l1, C's after l2. */
  l1: string;
  l2: string;
  /** A server time after A committed and before B began (ISO, UTC). */
  afterA: string;
  /** The production console file's records. */
  production: ConsoleRecord[];
  /** The slots as the worker left them. */
  slots: SlotState;
}

export interface SlotState {
  main: string | null;
  rewind: string | null;
  /** Temporary replay slots still there. */
  temporary: string[];
}

export interface ConsoleRecord {
  topic: string;
  key: unknown;
  value: any;
}

export async function slotState(db: FreshDatabase, slot: string): Promise<SlotState> {
  const rows = await db.sql('SELECT slot_name::text AS name, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name LIKE $1', [`${slot}%`]);
  return {
    main: rows.find((r) => r.name === slot)?.confirmed ?? null,
    rewind: rows.find((r) => r.name === `${slot}_rewind`)?.confirmed ?? null,
    temporary: rows.filter((r) => r.name.includes('_replay_')).map((r) => r.name),
  };
}

/** A replay (of any outcome) left the production slot, the rewind slot and no temporary slot behind. */
export async function expectUntouched(history: History): Promise<void> {
  // The server drops a temporary slot once its session ended; replay waits for that before it exits.
  expect(await slotState(history.db, history.slot)).toEqual(history.slots);
}

/**
 * Tables items and other, a worker whose slot has a rewind slot, and history:
 * A (items 1-3, other 1), B (update 2, delete 1; insert items 4 and other 2
 * with a logical decoding message), C (items 5); the worker confirms it all and stops.
 */
export async function recordHistory(name: string, options: { rewind?: string } = {}): Promise<History> {
  const db = await freshDatabase(name);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n text NOT NULL); CREATE TABLE public.other (id int PRIMARY KEY)');
  const slot = uniqueName(name);
  const topicPrefix = uniqueName(name);
  const configPath = await writeConfig({
    db, slot, publication: uniqueName('pub'), topicPrefix, tables: ['public.items', 'public.other'],
    sourceExtra: `rewind: { retain: ${options.rewind ?? '1h'} }`,
  });
  const dir = dirname(configPath);
  const worker = await runInProcess(configPath);
  try {
    // The rewind slot must hold the whole history: it sits before the first change.
    const [{ historyStart }] = await db.sql('SELECT pg_current_wal_lsn()::text AS "historyStart"');
    const created = await slotState(db, slot);
    expect(created.rewind !== null && parseLsn(created.rewind) <= parseLsn(historyStart), `rewind slot at ${created.rewind}, history from ${historyStart}`).toBe(true);
    await db.sql("INSERT INTO public.items VALUES (1, 'one'), (2, 'two'), (3, 'three'); INSERT INTO public.other VALUES (1)");
    const [{ afterA, l1 }] = await db.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS \"afterA\", pg_current_wal_lsn()::text AS l1");
    await db.sql("BEGIN; UPDATE public.items SET n = 'TWO' WHERE id = 2; DELETE FROM public.items WHERE id = 1; COMMIT");
    await db.sql("BEGIN; INSERT INTO public.items VALUES (4, 'four'); INSERT INTO public.other VALUES (2); SELECT pg_logical_emit_message(true, 'drill', 'b'); COMMIT");
    const [{ l2 }] = await db.sql('SELECT pg_current_wal_lsn()::text AS l2');
    await db.sql("INSERT INTO public.items VALUES (5, 'five')");
    const [{ end }] = await db.sql('SELECT pg_current_wal_lsn()::text AS end');
    await eventually(async () => {
      const state = await slotState(db, slot);
      return state.main !== null && parseLsn(state.main) >= parseLsn(end);
    }, 60_000, 'the worker to confirm the history');
    await worker.stop();
    // The positions are final once the server has released the slots (it applies the last confirmation first).
    await eventually(async () => (await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE $1 AND active', [`${slot}%`])).length === 0, 30_000, 'the slots to be released');
    const production = await consoleRecords(join(dir, 'console.jsonl'));
    const slots = await slotState(db, slot);
    if (!options.rewind) expect(slots.rewind, 'a rewind slot retaining 1h stays where it was made').toBe(created.rewind);
    return { db, slot, topicPrefix, configPath, dir, l1, l2, afterA, production, slots };
  } catch (err) {
    await worker.stop().catch(() => undefined);
    throw err;
  }
}

export async function consoleRecords(file: string): Promise<ConsoleRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/**
 * What two deliveries of one change share: topic, key, and the envelope but
 * for the processing times (ts_ms, ts_us, ts_ns) and `source.sequence`, whose
 * first LSN (the previous commit) a replay that starts mid-way cannot know.
 */
export function essence(record: ConsoleRecord, topicPrefixToDrop = ''): string {
  const topic = record.topic.startsWith(topicPrefixToDrop) ? record.topic.slice(topicPrefixToDrop.length) : record.topic;
  if (record.value === null) return `${topic} ${JSON.stringify(record.key)} tombstone`;
  const { ts_ms: _ms, ts_us: _us, ts_ns: _ns, source, ...rest } = record.value.payload;
  const { sequence: _sequence, ...stable } = source;
  return `${topic} ${JSON.stringify(record.key)} ${JSON.stringify({ ...rest, source: stable })}`;
}

/** The change LSN of a record (a tombstone: that of the delete before it). */
export function recordLsns(records: ConsoleRecord[]): bigint[] {
  let last = 0n;
  return records.map((r) => (r.value === null ? last : (last = BigInt(r.value.payload.source.lsn))));
}

/** Writes a sink file next to the history's config and returns its path. */
export async function writeSinkFile(history: History, file: string, text: string): Promise<string> {
  const path = join(history.dir, file);
  await writeFile(path, text);
  return path;
}
