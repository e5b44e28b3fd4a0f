/**
 * Extra entries: what a sink holds that no row claims. After the tables were
 * read, each space (index, key pattern, topic) whose tables were all read is
 * listed by the verifier, and entries no row claimed at the consistent point
 * are candidates:
 * - written at or after the consistent point (the sink keeps the LSN): a row
 *   inserted since, in flight;
 * - otherwise re-checked: the space's tables are read again in a new snapshot
 *   (rows claiming a candidate now: in flight), the sink is waited on up to
 *   that snapshot and the candidates read again: gone, or rewritten since,
 *   is in flight; still there is extra.
 * At most `limit` candidates per space are re-checked; past that they are
 * counted as extra without one, and the report says so.
 */
import type { Lsn } from '../lsn.ts';
import type { FingerprintSet } from './fingerprints.ts';
import type { RecheckContext } from './recheck.ts';
import type { Expectation, Unclaimed } from './sink-verifier.ts';
import { createRowReader, rowEvent, type VerifyTable } from './table-rows.ts';
import { count, type TableReport } from './verify-report.ts';

export interface ExtrasOptions extends RecheckContext {
  space: string;
  /** The tables writing into the space, every one verified in this run; extras are counted on the first. */
  tables: readonly VerifyTable[];
  report: TableReport;
  claimed: FingerprintSet;
  /** The consistent point. */
  lsn: Lsn;
  pageSize: number;
  limit: number;
}

export async function findExtras(options: ExtrasOptions): Promise<void> {
  const { verifier, report } = options;
  const candidates = new Map<string, Unclaimed>();
  let unchecked = 0;
  for await (const entry of verifier.unclaimed(options.space, (fp) => options.claimed.has(fp))) {
    if (entry.lsn !== null && entry.lsn >= options.lsn) count(report, 'inFlight', { at: entry.label });
    else if (candidates.size < options.limit) candidates.set(entry.address, entry);
    else {
      unchecked++;
      count(report, 'extra', { at: entry.label });
    }
  }
  if (unchecked > 0) report.notes.push(`${unchecked} extra entries in ${options.space} were counted without a re-check (more than ${options.limit})`);
  if (candidates.size === 0) return;

  // Rows that claim a candidate now were inserted (or re-keyed) after the consistent point.
  const since = await claimNow(options, candidates);
  await options.wait.until(since);
  await verifier.catchUp?.();
  const left = [...candidates.values()];
  const entries: Expectation[] = left.map((c) => ({ address: c.address, label: c.label, space: options.space, required: false }));
  const held = await verifier.read(entries);
  left.forEach((c, i) => {
    const h = held[i];
    if (!h.present || (h.lsn !== null && h.lsn >= since)) count(report, 'inFlight', { at: c.label });
    else count(report, 'extra', { at: c.label });
  });
}

/** Reads the space's tables in a new snapshot, moving candidates some row claims to in flight; returns that snapshot's position. */
async function claimNow(options: ExtrasOptions, candidates: Map<string, Unclaimed>): Promise<Lsn> {
  const snapshot = await options.session.begin();
  try {
    for (const table of options.tables) {
      const reader = createRowReader(table);
      let after: readonly string[] | null = null;
      for (;;) {
        const rows = await reader.page(snapshot.client, after, options.pageSize);
        for (const row of rows) {
          for (const entry of options.verifier.expect(rowEvent(table, row, options.normalize, snapshot.lsn), table.toast)) {
            const candidate = candidates.get(entry.address);
            if (candidate === undefined) continue;
            candidates.delete(entry.address);
            count(options.report, 'inFlight', { at: candidate.label });
          }
        }
        if (rows.length < options.pageSize || candidates.size === 0) break;
        after = rows[rows.length - 1].key;
      }
      if (candidates.size === 0) break;
    }
    return snapshot.lsn;
  } finally {
    await snapshot.close();
  }
}
