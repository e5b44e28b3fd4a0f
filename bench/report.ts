/**
 * Figures of a benchmark run: the JSON written to bench/results/ and the
 * table printed at the end. With several runs, the table shows medians.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkloadCounts } from './workload.ts';
import type { WorkerResult } from './worker-driver.ts';

export type ContenderName = 'pg_recvlogical' | `slotline→${string}`;

export interface ContenderResult {
  contender: ContenderName;
  rowChanges: number;
  seconds: number;
  rowsPerSec: number;
  /** The slotline worker's own figures; absent for pg_recvlogical. */
  worker?: WorkerResult;
}

export interface PhaseResult {
  /** small: backlog of small transactions; large: backlog of one large transaction; live: paced workload while streaming. */
  phase: 'small' | 'large' | 'live' | 'snapshot';
  run: number;
  workload: WorkloadCounts;
  /** Bytes of WAL the workload wrote (backlog phases). */
  walBytes?: number;
  /** Seconds the generator took to write it. */
  generateSeconds: number;
  contenders: ContenderResult[];
}

export interface BenchReport {
  startedAt: string;
  options: Record<string, unknown>;
  environment: Record<string, unknown>;
  phases: PhaseResult[];
}

export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const PHASE_TITLES = { small: 'backlog, small tx', large: 'backlog, one large tx', live: 'live, paced', snapshot: 'initial snapshot' } as const;

/**
 * One row per phase and contender, medians over runs. Latency is printed for
 * the live phase only: draining a backlog, commit → ack measures the backlog's age.
 */
export function formatTable(report: BenchReport): string {
  const header = ['phase', 'contender', 'rows', 'seconds', 'rows/s', 'vs recvlogical', 'p50 ms', 'p99 ms', 'RSS base MiB', 'RSS peak MiB', 'CPU s', 'CPU µs/row'];
  const rows: string[][] = [header];
  for (const phase of ['small', 'large', 'live', 'snapshot'] as const) {
    const runs = report.phases.filter((p) => p.phase === phase);
    if (runs.length === 0) continue;
    const names = [...new Set(runs.flatMap((r) => r.contenders.map((c) => c.contender)))];
    for (const name of names) {
      const results = runs.flatMap((r) => r.contenders.filter((c) => c.contender === name));
      const ratios = runs.flatMap((r) => {
        const own = r.contenders.find((c) => c.contender === name);
        const base = r.contenders.find((c) => c.contender === 'pg_recvlogical');
        return own && base ? [own.rowsPerSec / base.rowsPerSec] : [];
      });
      const workers = results.flatMap((c) => (c.worker ? [c.worker] : []));
      const latencies = workers.flatMap((w) => (w.latency ? [w.latency] : []));
      const med = (values: number[], digits: number): string => (values.length === 0 ? '—' : median(values).toFixed(digits));
      rows.push([
        PHASE_TITLES[phase],
        name,
        med(results.map((c) => c.rowChanges), 0),
        med(results.map((c) => c.seconds), 2),
        med(results.map((c) => c.rowsPerSec), 0),
        phase === 'live' || phase === 'snapshot' ? '—' : med(ratios, 2),
        phase === 'live' ? med(latencies.map((l) => l.p50Ms), 1) : '—',
        phase === 'live' ? med(latencies.map((l) => l.p99Ms), 1) : '—',
        med(workers.map((w) => w.baselineRssBytes / 2 ** 20), 0),
        med(workers.map((w) => w.peakRssBytes / 2 ** 20), 0),
        med(workers.map((w) => w.cpuSeconds), 2),
        med(workers.map((w) => (w.cpuSeconds * 1e6) / w.events), 1),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
