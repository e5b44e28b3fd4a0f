/**
 * Re-checks of the rows that differed at the consistent point, so that a
 * change made while verify runs is not called drift.
 *
 * Every row has a *known* version: the one it had at the last position the
 * sink is known to have reached (at first the consistent point, once the
 * sink caught up with it). A round reads the rows now (a new snapshot A, with
 * its position); only when some row's version in A is not its known one does
 * it wait until the sink has reached A (then A's versions become the known
 * ones). Then it reads the sink, in one batch, and reads the rows once more
 * (snapshot B). For each row:
 * - the sink matches A: the difference was a change in flight;
 * - else, if the row is the same tuple version in A and B (same xmin, or
 *   absent in both), it stood as in A from its known position until after
 *   the sink read, and the sink had everything up to that position: the
 *   difference is drift;
 * - else the row changed again meanwhile: another round, B standing for A.
 * A row still changing after the last round is counted in flight.
 *
 * So rows that differ and do not change (a flushed cache, a lost index) are
 * judged in one round with no wait: waiting for a fresh position costs up to
 * the worker's next keepalive confirmation when the slot is idle (about 7 s
 * a round in the runbook drill), and proves nothing more for them.
 */
import type { NormalizeOptions } from '../normalize/options.ts';
import { judge, type Judgement } from './compare.ts';
import type { SinkWait, SnapshotSession } from './consistent-point.ts';
import type { SinkVerifier } from './sink-verifier.ts';
import { keyText, rowEvent, type RowReader, type TableRow, type VerifyTable } from './table-rows.ts';
import { count, type TableReport } from './verify-report.ts';

export interface RecheckContext {
  verifier: SinkVerifier;
  wait: SinkWait;
  normalize: NormalizeOptions;
  /** New snapshots for re-checks (not the one the tables are read in). */
  session: SnapshotSession;
  rounds: number;
  /**
   * The first wait did not fail (the sink reached the consistent point, or
   * there is nothing to wait on): a row unchanged since then needs no further
   * wait. False: every round waits, as for a row that changed.
   */
  caughtUp: boolean;
}

export interface Difference {
  /** The row as the consistent point saw it. */
  row: TableRow;
  judgement: Judgement;
}

interface Pending {
  key: string[];
  /** Its last version seen (for the entries of a row gone since). */
  last: TableRow;
  /** Its version at the last position the sink is known to have reached; undefined: none yet. */
  known: TableRow | null | undefined;
}

export async function recheckRows(table: VerifyTable, reader: RowReader, differences: readonly Difference[], report: TableReport, ctx: RecheckContext): Promise<void> {
  if (differences.length === 0) return;
  let pending = differences.map((d): Pending => ({ key: d.row.key, last: d.row, known: ctx.caughtUp ? d.row : undefined }));
  let now = await readNow(reader, pending.map((p) => p.key), ctx.session);
  for (let round = 0; round < ctx.rounds && pending.length > 0; round++) {
    const currentOf = (p: Pending) => now.rows.get(keyText(p.key)) ?? null;
    if (pending.some((p) => p.known === undefined || !sameVersion(p.known, currentOf(p)))) {
      // A wait that does not get there still goes on, as the first one does: the report says NOT caught up.
      await ctx.wait.until(now.lsn);
      await ctx.verifier.catchUp?.();
      for (const p of pending) p.known = currentOf(p);
    }
    const perRow = pending.map((p) => {
      const current = currentOf(p);
      // A row gone since: its last known entries must be gone too.
      return { p, current, entries: ctx.verifier.expect(rowEvent(table, current ?? p.last, ctx.normalize, now.lsn), table.toast) };
    });
    const held = await ctx.verifier.read(perRow.flatMap((r) => r.entries));
    const after = await readNow(reader, pending.map((p) => p.key), ctx.session);
    const next: Pending[] = [];
    let at = 0;
    for (const { p, current, entries } of perRow) {
      const judgement = judge(entries, held.slice(at, at + entries.length), current !== null);
      at += entries.length;
      const key = keyText(p.key);
      const later = after.rows.get(key) ?? null;
      if (judgement.outcome === 'match') {
        count(report, 'inFlight', { key, at: entries[0]?.label ?? key });
      } else if (sameVersion(current, later)) {
        count(report, judgement.outcome, { key, at: judgement.at ?? key, ...(judgement.fields ? { fields: judgement.fields } : {}) });
      } else {
        next.push({ key: p.key, last: current ?? p.last, known: p.known });
      }
    }
    pending = next;
    now = after;
  }
  for (const p of pending) count(report, 'inFlight', { key: keyText(p.key), at: keyText(p.key) });
}

function sameVersion(a: TableRow | null, b: TableRow | null): boolean {
  return a === null ? b === null : b !== null && a.xmin === b.xmin;
}

async function readNow(reader: RowReader, keys: ReadonlyArray<readonly string[]>, session: SnapshotSession) {
  const snapshot = await session.begin();
  try {
    return { lsn: snapshot.lsn, rows: await reader.byKeys(snapshot.client, keys) };
  } finally {
    await snapshot.close();
  }
}
