/**
 * The benchmark's side of worker-process.ts: forks it, tells it how many row
 * changes to wait for, and collects its figures.
 */
import { fork } from 'node:child_process';
import type { LatencySummary } from './latency-histogram.ts';

export interface WorkerSpec {
  /** postgres:// URL of the benchmark database. */
  url: string;
  slot: string;
  publication: string;
  /** `schema.table` of the workload. */
  table: string;
  /** YAML text of the measured sink's file (kafka, redis, elasticsearch…); null: a null sink that discards every event. */
  sinkFile: string | null;
  /** Initial snapshot instead of streaming: the worker creates the slot, reads `table` (op r) and counts reads. */
  snapshot?: boolean;
  /** Row changes to wait for; null until the driver sends `expect` (the live phase). */
  expectedEvents: number | null;
}

export interface WorkerResult {
  /** Row changes of the workload table acknowledged by the measured sink. */
  events: number;
  /** From the startWorker() call to the acknowledgement of the last expected event. */
  seconds: number;
  /** From the startWorker() call to run() (preflight, slot and publication checks). */
  startupSeconds: number;
  /** CPU time (user + system) of the process over `seconds`. */
  cpuSeconds: number;
  /** Commit (`source.ts_us`) → sink acknowledgement, per event. */
  latency: LatencySummary | null;
  /** VmRSS after loading the code, before startWorker(). */
  baselineRssBytes: number;
  /** VmHWM: the process's peak resident set. */
  peakRssBytes: number;
  peakInFlightBytes: number;
  transactions: number;
}

export type WorkerMessage = { type: 'started' } | { type: 'done'; result: WorkerResult } | { type: 'failed'; error: string };
export type DriverMessage = { type: 'expect'; events: number };

export interface WorkerHandle {
  /** Resolves once the worker streams (its run() was called). */
  started: Promise<void>;
  /** Resolves with the figures once `expectedEvents` row changes were acknowledged. */
  result: Promise<WorkerResult>;
  expect(events: number): void;
  /** SIGKILL; for cleaning up after a failure elsewhere. */
  kill(): void;
}

const WORKER_FILE = new URL('./worker-process.ts', import.meta.url);

export function startWorkerProcess(spec: WorkerSpec): WorkerHandle {
  const child = fork(WORKER_FILE, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.env.SLOTLINE_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.SLOTLINE_BENCH_PROF] : [] });
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = new Promise<WorkerResult>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'started') onStarted();
      else if (message.type === 'done') {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(new Error(`slotline worker failed: ${message.error}`));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`slotline worker exited with ${signal ?? `code ${code}`} before finishing`));
    });
  });
  // A worker that fails before starting must not leave `started` waiting.
  const startedOrFailed = Promise.race([started, result.then(() => undefined)]);
  // Whoever awaits these sees the failure; until then it must not crash the process as unhandled.
  result.catch(() => undefined);
  startedOrFailed.catch(() => undefined);
  return {
    started: startedOrFailed,
    result,
    expect: (events) => child.send({ type: 'expect', events } satisfies DriverMessage),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
