/**
 * What the `slotline drill` end-to-end tests share: running the command with
 * its JSON report, and the slots a drill must leave as it found them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FreshDatabase } from '../harness/context.ts';
import type { DrillReport } from '../../src/drill/drill.ts';
import { eventually, runSlotline } from './support.ts';

export interface DrillRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The --json report; null when the command wrote none (an operator error). */
  report: (DrillReport & { exitCode: number }) | null;
}

/** `slotline drill --config … --sink … [args] --json <temp file>`. */
export async function runDrill(config: string, sink: string, args: string[] = []): Promise<DrillRun> {
  const dir = await mkdtemp(join(tmpdir(), 'slotline-drill-'));
  try {
    const json = join(dir, 'report.json');
    const result = await runSlotline(['drill', '--config', config, '--sink', sink, '--json', json, ...args], { timeoutMs: 300_000 });
    const text = await readFile(json, 'utf8').catch(() => null);
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, report: text === null ? null : JSON.parse(text) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Slots {
  /** Each slot of the database by name: its confirmed position and the pid of the process streaming from it. */
  [name: string]: { confirmed: string | null; pid: number | null };
}

/** Every slot of the database (a drill's temporary slots are named `<slot>_drill_…` or `<slot>_rewind_replay_…`). */
export async function slotsOf(db: FreshDatabase): Promise<Slots> {
  const rows = await db.sql('SELECT slot_name::text AS name, confirmed_flush_lsn::text AS confirmed, active_pid AS pid FROM pg_replication_slots WHERE database = current_database() ORDER BY 1');
  return Object.fromEntries(rows.map((r) => [r.name, { confirmed: r.confirmed, pid: r.pid }]));
}

/**
 * The slots of the database once no session holds any of them: the server
 * releases a slot when the walsender that streamed it has exited, a moment
 * after the client closed, and applies the client's last confirmation first.
 */
export async function releasedSlotsOf(db: FreshDatabase): Promise<Slots> {
  let slots: Slots = {};
  await eventually(async () => Object.values((slots = await slotsOf(db))).every((s) => s.pid === null), 30_000, 'every slot of the database to be released');
  return slots;
}

/** Writes a shadow sink file next to the config and returns its path. */
export async function writeShadowSink(config: string, file: string, text: string): Promise<string> {
  const path = join(dirname(config), file);
  await writeFile(path, text);
  return path;
}
