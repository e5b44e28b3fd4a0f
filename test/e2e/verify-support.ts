/**
 * What the `slotline verify` end-to-end tests share: running the command and
 * reading its JSON report, the production slot's confirmed position (which
 * verify must never move), and a write load that keeps changing rows while
 * verify reads them.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { FreshDatabase } from '../harness/context.ts';
import type { VerifyReport } from '../../src/verify/verify-report.ts';
import { repeatUntilStopped, runSlotline, type Load } from './support.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

export interface VerifyRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The --json report; null when the command wrote none (an operator error). */
  report: VerifyReport | null;
}

/** `slotline verify --config … --sink … [args] --json <temp file>`. */
export async function runVerify(config: string, sink: string, args: string[] = []): Promise<VerifyRun> {
  const dir = await testTempDir('verify');
  try {
    const json = join(dir, 'report.json');
    const result = await runSlotline(['verify', '--config', config, '--sink', sink, '--json', json, ...args], { timeoutMs: 300_000 });
    const text = await readFile(json, 'utf8').catch(() => null);
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, report: text === null ? null : (JSON.parse(text) as VerifyReport) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function confirmedLsn(db: FreshDatabase, slot: string): Promise<string | null> {
  const rows = await db.sql('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return rows[0]?.lsn ?? null;
}

/**
 * Transactions on `public.items (id int PRIMARY KEY, name text, n int)` until
 * stopped: updates of a few random rows, inserts of new ids above `rows`, and
 * deletes of some of those — rows verify reads while they change.
 */
export function startWriteLoad(db: FreshDatabase, rows: number): Load {
  let nextId = rows + 1;
  const pick = (): number => 1 + Math.floor(Math.random() * rows);
  return repeatUntilStopped(async () => {
    const roll = Math.random();
    if (roll < 0.6) await db.sql("UPDATE public.items SET n = n + 1, name = 'item ' || (n + 1) WHERE id = ANY($1)", [[pick(), pick(), pick()]]);
    else if (roll < 0.85) await db.sql("INSERT INTO public.items (id, name, n) VALUES ($1, 'new', 0)", [nextId++]);
    else await db.sql('DELETE FROM public.items WHERE id = (SELECT max(id) FROM public.items WHERE id > $1)', [rows]);
  });
}

/**
 * Runs verify on public.items while startWriteLoad changes it: the worker
 * keeps up, so nothing may be drift; what differed at the consistent point
 * is in flight.
 */
export async function expectNoDriftUnderLoad(db: FreshDatabase, rows: number, config: string, sink: string): Promise<VerifyRun> {
  const load = startWriteLoad(db, rows);
  let run: VerifyRun;
  try {
    run = await runVerify(config, sink, ['--tables', 'public.items']);
  } finally {
    expect(await load.stop()).toBeGreaterThan(0);
  }
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const [table] = run.report!.tables;
  expect(table).toMatchObject({ missing: 0, stale: 0, extra: 0 });
  expect(table.matched + table.inFlight).toBeGreaterThanOrEqual(table.rows);
  return run;
}
