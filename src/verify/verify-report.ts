/**
 * What `slotline verify` found, per table and in total, as data (the --json
 * file, and what `slotline drill` builds on) and as text for people.
 */
import type { WaitResult } from './consistent-point.ts';

export type Kind = 'missing' | 'stale' | 'extra' | 'inFlight';
export const KINDS: readonly Kind[] = ['missing', 'stale', 'extra', 'inFlight'];

export interface Example {
  /** The row's key (one value, or a JSON array for several key columns); absent for an extra entry no row claims. */
  key?: string;
  /** Where in the sink: `index/id`, a Redis key, a Kafka key. */
  at: string;
  /** Fields that differ (stale). */
  fields?: string[];
}

export interface TableReport {
  table: string;
  /** Rows in PostgreSQL at the consistent point. */
  rows: number;
  /** Rows whose entries the sink holds as they should be. */
  matched: number;
  /** Rows with an entry the sink lacks. */
  missing: number;
  /** Rows with an entry whose content differs. */
  stale: number;
  /** Entries the sink holds for rows that do not exist. */
  extra: number;
  /** Differences explained by changes after the consistent point (the sink had or got the newer state). */
  inFlight: number;
  /** The first few keys of each kind. */
  examples: Record<Kind, Example[]>;
  /** Whether extra entries were looked for (every table writing to the same index, pattern or topic was verified). */
  extrasChecked: boolean;
  notes: string[];
}

export interface VerifyReport {
  sink: { name: string; type: string; file: string };
  database: string;
  /** The LSN of the snapshot the tables were read in. */
  consistentPoint: string;
  startedAt: string;
  /** How verify knew the sink had caught up with the consistent point. */
  sinkWait: { method: string } & WaitResult;
  tables: TableReport[];
  totals: Pick<TableReport, 'rows' | 'matched' | 'missing' | 'stale' | 'extra' | 'inFlight'>;
  /** Any missing, stale or extra entry. */
  drift: boolean;
  notes: string[];
  seconds: number;
  rowsPerSecond: number;
}

export const MAX_EXAMPLES = 5;

export function emptyTableReport(table: string): TableReport {
  return { table, rows: 0, matched: 0, missing: 0, stale: 0, extra: 0, inFlight: 0, examples: { missing: [], stale: [], extra: [], inFlight: [] }, extrasChecked: false, notes: [] };
}

/** Counts one difference of `kind` and keeps it as an example while there are few. */
export function count(report: TableReport, kind: Kind, example: Example, n = 1): void {
  report[kind] += n;
  if (report.examples[kind].length < MAX_EXAMPLES) report.examples[kind].push(example);
}

export function totalsOf(tables: readonly TableReport[]): VerifyReport['totals'] {
  const totals = { rows: 0, matched: 0, missing: 0, stale: 0, extra: 0, inFlight: 0 };
  for (const t of tables) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += t[k];
  return totals;
}

const LABELS: Record<Kind, string> = { missing: 'missing', stale: 'stale', extra: 'extra', inFlight: 'in flight' };

export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  const wait = report.sinkWait;
  lines.push(`verify sink ${report.sink.name} (${report.sink.type}) against database ${report.database} at ${report.consistentPoint}`);
  const waited = wait.caughtUp === null ? 'not waited on' : wait.caughtUp ? `caught up (waited ${(wait.waitedMs / 1000).toFixed(1)} s)` : `NOT caught up: ${wait.note}`;
  lines.push(`  sink position: ${wait.method}: ${waited}`);
  const header = ['table', 'rows', 'matched', 'missing', 'stale', 'extra', 'in flight'];
  const rows = report.tables.map((t) => [t.table, t.rows, t.matched, t.missing, t.stale, t.extrasChecked ? t.extra : '-', t.inFlight].map(String));
  rows.push(['total', ...(['rows', 'matched', 'missing', 'stale', 'extra', 'inFlight'] as const).map((k) => String(report.totals[k]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  lines.push(line(header), ...rows.map(line));
  for (const t of report.tables) {
    for (const kind of KINDS) {
      if (t.examples[kind].length === 0) continue;
      const shown = t.examples[kind].map((e) => `${e.key ?? e.at}${e.key !== undefined && e.at !== e.key ? ` (${e.at})` : ''}${e.fields ? ` [${e.fields.join(', ')}]` : ''}`);
      const more = t[kind] > shown.length ? `, … ${t[kind] - shown.length} more` : '';
      lines.push(`  ${t.table} ${LABELS[kind]}: ${shown.join(', ')}${more}`);
    }
    for (const note of t.notes) lines.push(`  ${t.table}: ${note}`);
  }
  for (const note of report.notes) lines.push(`  note: ${note}`);
  lines.push(
    `${report.drift ? 'DRIFT' : 'no drift'}: ${report.totals.rows} rows in ${report.seconds.toFixed(1)} s (${Math.round(report.rowsPerSecond)} rows/s)` +
      (report.drift ? ` — ${report.totals.missing} missing, ${report.totals.stale} stale, ${report.totals.extra} extra` : ''),
  );
  return lines.join('\n');
}
