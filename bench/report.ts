/**
 * Figures of a benchmark run: the JSON written to bench/results/ and the
 * table printed at the end. With several runs, the table shows medians.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformCost } from './transforms.ts';
import type { WorkloadCounts } from './workload.ts';
import type { WorkerResult } from './worker-driver.ts';

export type ContenderName = 'pg_recvlogical' | `slotline→${string}` | `debezium${string}`;

export interface ContenderResult {
  contender: ContenderName;
  rowChanges: number;
  /** From process start (Debezium: the JVM's spawn; slotline: the startWorker() call) to the last record. */
  seconds: number;
  rowsPerSec: number;
  /** Row changes ÷ the time from the first record to the last (absent for pg_recvlogical). */
  steadyRowsPerSec?: number;
  /** The slotline worker's own figures; absent for pg_recvlogical and Debezium. */
  worker?: WorkerResult;
  /** Debezium's JVM: its peak resident set and CPU time. */
  process?: { peakRssBytes: number; cpuSeconds: number };
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
  /** CPU per row of an unwrap + mask pair (./transforms.ts). */
  transforms?: TransformCost;
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

/** Per run, `pick(a) / pick(b)` of two contenders of the same phase run (runs without either are left out). */
function ratios(runs: PhaseResult[], a: ContenderName, b: ContenderName, pick: (c: ContenderResult) => number | undefined): number[] {
  return runs.flatMap((r) => {
    const [x, y] = [r.contenders.find((c) => c.contender === a), r.contenders.find((c) => c.contender === b)];
    const [px, py] = [x && pick(x), y && pick(y)];
    return px !== undefined && py !== undefined && py > 0 ? [px / py] : [];
  });
}

/** A contender's process: slotline's worker figures, or Debezium's JVM. */
function usage(c: ContenderResult): { peakRssBytes: number; cpuSeconds: number; rows: number } | null {
  const p = c.worker ?? c.process;
  return p ? { peakRssBytes: p.peakRssBytes, cpuSeconds: p.cpuSeconds, rows: c.rowChanges } : null;
}

const med = (values: number[], digits: number): string => (values.length === 0 ? '—' : median(values).toFixed(digits));

/**
 * One row per phase and contender, medians over runs. Latency is printed for
 * the live phase only: draining a backlog, commit → ack measures the backlog's age.
 */
export function formatTable(report: BenchReport): string {
  const header = ['phase', 'contender', 'rows', 'seconds', 'rows/s', 'steady rows/s', 'vs recvlogical', 'p50 ms', 'p99 ms', 'RSS base MiB', 'RSS peak MiB', 'CPU s', 'CPU µs/row'];
  const rows: string[][] = [header];
  for (const phase of ['small', 'large', 'live', 'snapshot'] as const) {
    const runs = report.phases.filter((p) => p.phase === phase);
    if (runs.length === 0) continue;
    const names = [...new Set(runs.flatMap((r) => r.contenders.map((c) => c.contender)))];
    for (const name of names) {
      const results = runs.flatMap((r) => r.contenders.filter((c) => c.contender === name));
      const workers = results.flatMap((c) => (c.worker ? [c.worker] : []));
      const processes = results.flatMap((c) => usage(c) ?? []);
      const latencies = workers.flatMap((w) => (w.latency ? [w.latency] : []));
      rows.push([
        PHASE_TITLES[phase],
        name,
        med(results.map((c) => c.rowChanges), 0),
        med(results.map((c) => c.seconds), 2),
        med(results.map((c) => c.rowsPerSec), 0),
        phase === 'live' ? '—' : med(results.flatMap((c) => c.steadyRowsPerSec ?? []), 0),
        phase === 'live' || phase === 'snapshot' ? '—' : med(ratios(runs, name, 'pg_recvlogical', (c) => c.rowsPerSec), 2),
        phase === 'live' ? med(latencies.map((l) => l.p50Ms), 1) : '—',
        phase === 'live' ? med(latencies.map((l) => l.p99Ms), 1) : '—',
        med(workers.map((w) => w.baselineRssBytes / 2 ** 20), 0),
        med(processes.map((p) => p.peakRssBytes / 2 ** 20), 0),
        med(processes.map((p) => p.cpuSeconds), 2),
        med(processes.map((p) => (p.cpuSeconds * 1e6) / p.rows), 1),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * The Kafka sink's targets (issue 11), as medians of per-run ratios within
 * one run: rates against pg_recvlogical (start to last record) and against
 * Debezium (steady rates), peak RSS on the large transaction, live p99.
 */
export function formatKafkaTargets(report: BenchReport): string {
  const lines: string[] = [];
  const of = (phase: PhaseResult['phase']) => report.phases.filter((p) => p.phase === phase);
  const ratio = (phase: PhaseResult['phase'], a: ContenderName, b: ContenderName, pick: (c: ContenderResult) => number | undefined) => {
    const values = ratios(of(phase), a, b, pick);
    return values.length === 0 ? '—' : `${median(values).toFixed(2)}× (runs: ${values.map((v) => v.toFixed(2)).join(', ')})`;
  };
  const rate = (c: ContenderResult) => c.rowsPerSec;
  const steady = (c: ContenderResult) => c.steadyRowsPerSec;
  for (const phase of ['small', 'large'] as const) {
    if (of(phase).length === 0) continue;
    lines.push(`${PHASE_TITLES[phase]}:`);
    lines.push(`  slotline→kafka vs pg_recvlogical             ${ratio(phase, 'slotline→kafka', 'pg_recvlogical', rate)}   (target ≥ 0.25)`);
    lines.push(`  slotline→kafka-noschema vs pg_recvlogical    ${ratio(phase, 'slotline→kafka-noschema', 'pg_recvlogical', rate)}   (target ≥ 0.5)`);
    lines.push(`  slotline→kafka vs debezium, steady           ${ratio(phase, 'slotline→kafka', 'debezium', steady)}   (target ≥ 5)`);
    lines.push(`  slotline→kafka vs debezium-tuned, steady     ${ratio(phase, 'slotline→kafka', 'debezium-tuned', steady)}   (target ≥ 3)`);
  }
  for (const phase of ['small', 'large'] as const) {
    if (of(phase).length > 0) lines.push(`exactly_once cost, ${PHASE_TITLES[phase]}: slotline→kafka-eos vs slotline→kafka, steady ${ratio(phase, 'slotline→kafka-eos', 'slotline→kafka', steady)}`);
  }
  const large = of('large').flatMap((r) => r.contenders.filter((c) => c.contender === 'slotline→kafka' && c.worker));
  if (large.length > 0) lines.push(`peak RSS, slotline→kafka, one large tx: ${med(large.map((c) => c.worker!.peakRssBytes / 2 ** 20), 0)} MiB   (target ≤ 200)`);
  const live = of('live').flatMap((r) => r.contenders.filter((c) => c.contender === 'slotline→kafka' && c.worker?.latency));
  if (live.length > 0) {
    const warmups = live.flatMap((c) => (c.worker!.warmupLatency ? [c.worker!.warmupLatency] : []));
    const apart = warmups.length > 0 ? `; the warm-up apart: p99 ${med(warmups.map((l) => l.p99Ms), 1)} ms, max ${med(warmups.map((l) => l.maxMs), 1)} ms` : '';
    lines.push(`live p99, slotline→kafka, at ${med(live.map((c) => c.rowsPerSec), 0)} rows/s: ${med(live.map((c) => c.worker!.latency!.p99Ms), 1)} ms   (target ≤ 50 at 5 000 rows/s)${apart}`);
  }
  return lines.join('\n');
}

/**
 * What the HTTP listener and its metrics cost (issue 9): the null sink with the
 * listener on and scraped every second against the same without it, as medians
 * of per-run ratios — throughput and CPU per row change.
 */
export function formatHttpCost(report: BenchReport): string {
  const lines: string[] = [];
  for (const phase of ['small', 'large'] as const) {
    const runs = report.phases.filter((p) => p.phase === phase);
    const rates = ratios(runs, 'slotline→null-http', 'slotline→null', (c) => c.rowsPerSec);
    const cpu = ratios(runs, 'slotline→null-http', 'slotline→null', (c) => (c.worker ? c.worker.cpuSeconds / c.rowChanges : undefined));
    if (rates.length === 0) continue;
    const show = (values: number[]) => `${median(values).toFixed(3)}× (runs: ${values.map((v) => v.toFixed(3)).join(', ')})`;
    lines.push(`HTTP listener, scraped every second, ${PHASE_TITLES[phase]}: rows/s ${show(rates)} (target ≥ 0.97); CPU per row ${show(cpu)}`);
  }
  return lines.join('\n');
}
