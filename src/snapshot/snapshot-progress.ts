/**
 * Snapshot progress for people and for metrics: per table, rows read against
 * the planner's estimate, rate and ETA. On a terminal (stderr is a TTY) it
 * draws one live bar per table; otherwise it writes a structured log line per
 * running table every `intervalMs`. `counters()` is what a metrics endpoint reads.
 */
import type { Logger } from 'pino';
import type { Terminal } from '../runtime/terminal.ts';

export interface TableProgress {
  table: string;
  rows: number;
  /** reltuples at the start; null when unknown (never analyzed). */
  estimated: number | null;
  startedAt: number;
  doneAt: number | null;
}

export interface SnapshotProgress {
  tableStarted(table: string, estimated: number | null): void;
  rowsRead(table: string, rows: number): void;
  tableDone(table: string): void;
  /** Stops drawing/logging; the counters stay readable. */
  close(): void;
  counters(): readonly TableProgress[];
}

export interface ProgressOptions {
  logger: Logger;
  intervalMs: number;
  /** A terminal to draw bars on (below the log lines), or null for progress log lines. */
  terminal: Terminal | null;
  now?: () => number;
  /** What is reading the tables, for the log lines: `snapshot` (default), `verify`. */
  noun?: string;
}

/** `rows/s` and seconds left, from what was read so far. */
export function rateAndEta(p: TableProgress, now: number): { rate: number; etaSeconds: number | null } {
  const seconds = Math.max(((p.doneAt ?? now) - p.startedAt) / 1000, 1e-3);
  const rate = p.rows / seconds;
  if (p.estimated === null || rate === 0 || p.doneAt !== null) return { rate, etaSeconds: p.doneAt !== null ? 0 : null };
  return { rate, etaSeconds: Math.max(0, (p.estimated - p.rows) / rate) };
}

/** One bar line, e.g. `public.orders  [#######.............]  35%  35000/100000  12400 rows/s  ETA 5s`. */
export function formatBar(p: TableProgress, now: number, width = 20): string {
  const { rate, etaSeconds } = rateAndEta(p, now);
  const total = p.doneAt !== null ? p.rows : p.estimated;
  const fraction = total === null || total === 0 ? (p.doneAt !== null ? 1 : 0) : Math.min(1, p.rows / total);
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const percent = total === null ? '  ?%' : `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const tail = p.doneAt !== null ? 'done' : etaSeconds === null ? 'ETA ?' : `ETA ${Math.ceil(etaSeconds)}s`;
  return `${p.table}  ${bar} ${percent}  ${p.rows}/${total ?? '?'}  ${Math.round(rate)} rows/s  ${tail}`;
}

export function createSnapshotProgress(options: ProgressOptions): SnapshotProgress {
  const now = options.now ?? Date.now;
  const noun = options.noun ?? 'snapshot';
  const tables = new Map<string, TableProgress>();
  let timer: NodeJS.Timeout | null = null;

  const bars = (): string[] => [...tables.values()].map((p) => formatBar(p, now()));
  const draw = (): void => options.terminal!.setStatus(bars());

  const log = (): void => {
    for (const p of tables.values()) {
      if (p.doneAt !== null) continue;
      const { rate, etaSeconds } = rateAndEta(p, now());
      options.logger.info(
        { table: p.table, rows: p.rows, estimated: p.estimated, rowsPerSecond: Math.round(rate), etaSeconds: etaSeconds === null ? null : Math.ceil(etaSeconds) },
        `${noun} progress`,
      );
    }
  };

  const tick = options.terminal ? draw : log;
  const ensureTimer = (): void => {
    if (timer === null) timer = setInterval(tick, options.terminal ? 250 : options.intervalMs).unref();
  };

  return {
    tableStarted(table, estimated) {
      tables.set(table, { table, rows: 0, estimated, startedAt: now(), doneAt: null });
      options.logger.info({ table, estimated }, `${noun} of table started`);
      ensureTimer();
    },
    rowsRead(table, rows) {
      const p = tables.get(table);
      if (p) p.rows += rows;
    },
    tableDone(table) {
      const p = tables.get(table);
      if (!p) return;
      p.doneAt = now();
      const { rate } = rateAndEta(p, p.doneAt);
      options.logger.info({ table, rows: p.rows, seconds: (p.doneAt - p.startedAt) / 1000, rowsPerSecond: Math.round(rate) }, `${noun} of table done`);
    },
    close() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      if (options.terminal && tables.size > 0) {
        // The finished bars stay on screen as ordinary lines; the live block is gone.
        const final = bars();
        options.terminal.setStatus([]);
        options.terminal.write(final.map((line) => `${line}\n`).join(''));
      }
    },
    counters: () => [...tables.values()].map((p) => ({ ...p })),
  };
}
