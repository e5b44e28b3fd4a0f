/**
 * One table against the sink at the consistent point: rows in key order a
 * page at a time, each page's expected entries read from the sink in one
 * batch, while the next page is read from PostgreSQL and the previous one
 * judged (two pages of rows and entries in memory). Differences wait in a
 * bounded list and are re-checked (recheck.ts) whenever it fills.
 */
import { judge } from './compare.ts';
import type { Expectation, Held } from './sink-verifier.ts';
import type { Snapshot } from './consistent-point.ts';
import { fingerprint, type FingerprintSet } from './fingerprints.ts';
import { recheckRows, type Difference, type RecheckContext } from './recheck.ts';
import { createRowReader, rowEvent, type TableRow, type VerifyTable } from './table-rows.ts';
import type { TableReport } from './verify-report.ts';

export interface TableCheckOptions extends RecheckContext {
  table: VerifyTable;
  /** The consistent point's snapshot. */
  snapshot: Snapshot;
  /** Every address a row claims goes here, for the extras scan. */
  claimed: FingerprintSet;
  pageSize: number;
  /** Re-check the differences once this many are waiting. */
  recheckEvery: number;
  report: TableReport;
  /** Rows read so far, for progress. */
  onRows(rows: number): void;
}

export async function checkTable(options: TableCheckOptions): Promise<void> {
  const { table, snapshot, verifier, report, pageSize } = options;
  const reader = createRowReader(table);
  let differences: Difference[] = [];
  let cached = 0;
  let placeholders = 0;

  /** Judges a page whose sink read was started earlier. */
  const settle = async (page: ReadPage): Promise<void> => {
    const held = await page.held;
    let at = 0;
    for (const { row, entries } of page.perRow) {
      const judgement = judge(entries, held.slice(at, at + entries.length), true);
      at += entries.length;
      cached += judgement.cached;
      placeholders += judgement.placeholders;
      if (judgement.outcome === 'match') report.matched++;
      else differences.push({ row, judgement });
    }
    report.rows += page.perRow.length;
    options.onRows(page.perRow.length);
    if (differences.length >= options.recheckEvery) {
      await recheckRows(table, reader, differences, report, options);
      differences = [];
    }
  };

  // Three things overlap: PostgreSQL reads page n+2, the sink reads page n+1, this process judges page n.
  let next: Promise<TableRow[]> = reader.page(snapshot.client, null, pageSize);
  let previous: ReadPage | null = null;
  for (;;) {
    const rows = await next;
    if (rows.length === 0) break;
    next = rows.length < pageSize ? Promise.resolve([]) : reader.page(snapshot.client, rows[rows.length - 1].key, pageSize);
    next.catch(() => undefined); // awaited on a later turn; a failure meanwhile must not go unhandled
    const perRow = rows.map((row) => {
      const entries = verifier.expect(rowEvent(table, row, options.normalize, snapshot.lsn), table.toast);
      for (const entry of entries) options.claimed.add(fingerprint(entry.address));
      return { row, entries };
    });
    const held = verifier.read(perRow.flatMap((r) => r.entries));
    held.catch(() => undefined);
    if (previous !== null) await settle(previous);
    previous = { perRow, held };
  }
  if (previous !== null) await settle(previous);
  await recheckRows(table, reader, differences, report, options);
  if (cached > 0) report.notes.push(`${cached} cache entries of invalidation rules exist; their content is the application's and is not compared`);
  if (placeholders > 0) report.notes.push(`${placeholders} fields hold the unchanged-TOAST placeholder (an update that did not send them) and were not compared`);
}

interface ReadPage {
  perRow: Array<{ row: TableRow; entries: Expectation[] }>;
  held: Promise<Held[]>;
}
