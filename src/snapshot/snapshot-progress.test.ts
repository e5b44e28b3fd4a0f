import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createSnapshotProgress, formatBar, rateAndEta, type TableProgress } from './snapshot-progress.ts';

const table = (over: Partial<TableProgress>): TableProgress => ({ table: 'public.orders', rows: 0, estimated: 100_000, startedAt: 0, doneAt: null, ...over });

describe('snapshot progress', () => {
  it('computes rate and ETA from the rows read against the estimate', () => {
    expect(rateAndEta(table({ rows: 25_000 }), 5_000)).toEqual({ rate: 5_000, etaSeconds: 15 });
    expect(rateAndEta(table({ rows: 25_000, estimated: null }), 5_000)).toEqual({ rate: 5_000, etaSeconds: null });
    // Past the estimate (statistics were stale): no negative ETA.
    expect(rateAndEta(table({ rows: 150_000 }), 10_000).etaSeconds).toBe(0);
  });

  it('draws a bar with percentage, counts, rate and ETA', () => {
    expect(formatBar(table({ rows: 35_000 }), 7_000)).toBe('public.orders  [#######.............]  35%  35000/100000  5000 rows/s  ETA 13s');
    expect(formatBar(table({ rows: 120, estimated: null }), 1_000)).toBe('public.orders  [....................]   ?%  120/?  120 rows/s  ETA ?');
    expect(formatBar(table({ rows: 90_000, doneAt: 9_000 }), 20_000)).toBe('public.orders  [####################] 100%  90000/90000  10000 rows/s  done');
  });

  it('keeps counters per table and logs start and end', () => {
    const lines: any[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let now = 0;
    const progress = createSnapshotProgress({ logger, intervalMs: 60_000, terminal: null, now: () => now });
    progress.tableStarted('public.a', 10);
    progress.rowsRead('public.a', 4);
    now = 2_000;
    progress.rowsRead('public.a', 6);
    progress.tableDone('public.a');
    progress.close();
    expect(progress.counters()).toEqual([{ table: 'public.a', rows: 10, estimated: 10, startedAt: 0, doneAt: 2_000 }]);
    expect(lines.map((l) => l.msg)).toEqual(['snapshot of table started', 'snapshot of table done']);
    expect(lines[1]).toMatchObject({ table: 'public.a', rows: 10, rowsPerSecond: 5 });
  });
});
