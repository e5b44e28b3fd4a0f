/**
 * The benchmark's side of worker-process.ts: forks it, tells it how many row
 * changes to wait for, and collects its figures.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  /**
   * The HTTP listener on, with /metrics and /status read every second meanwhile
   * (a Prometheus scrape plus an open status page, faster than either polls);
   * off otherwise, so its cost shows as the difference.
   */
  http?: boolean;
  /** Initial snapshot instead of streaming: the worker creates the slot, reads `table` (op r) and counts reads. */
  snapshot?: boolean;
  /** Row changes to wait for; null until the driver sends `expect` (the live phase). */
  expectedEvents: number | null;
  /**
   * The live phase: latencies go to `warmupLatency` until the driver sends
   * `measureFrom`, and from then on those of changes committed before it.
   */
  warmup?: boolean;
}

export interface WorkerResult {
  /** Row changes of the workload table acknowledged by the measured sink. */
  events: number;
  /** From the startWorker() call to the acknowledgement of the last expected event. */
  seconds: number;
  /** From the first acknowledged row change to the last: the steady rate's interval. */
  steadySeconds: number;
  /** When the last expected row change was acknowledged, µs since the epoch (the driver adds the process start to it). */
  lastAckEpochUs: number;
  /** From the fork of the worker process (Node starting, loading the code) to the last acknowledgement. */
  processSeconds?: number;
  /** From the startWorker() call to run() (preflight, slot and publication checks). */
  startupSeconds: number;
  /** CPU time (user + system) of the process over `seconds`. */
  cpuSeconds: number;
  /** Commit (`source.ts_us`) → sink acknowledgement, per event (with `warmup`: per event committed after `measureFrom`). */
  latency: LatencySummary | null;
  /** With `warmup`: the same for the changes committed before `measureFrom`, the worker's first seconds included. */
  warmupLatency?: LatencySummary | null;
  /**
   * With `warmup`: commit → the sink's write() called with the event, measured as `latency`:
   * what the server, the decoding, the batching and the wait for the write before
   * took. `latency` less this is the sink's own time (for Kafka, the broker's answer).
   */
  handedLatency?: LatencySummary | null;
  /** VmRSS after loading the code, before startWorker(). */
  baselineRssBytes: number;
  /** VmHWM: the process's peak resident set. */
  peakRssBytes: number;
  peakInFlightBytes: number;
  transactions: number;
}

export type WorkerMessage = { type: 'started' } | { type: 'done'; result: WorkerResult } | { type: 'failed'; error: string };
export type DriverMessage = { type: 'expect'; events: number } | { type: 'measureFrom'; epochUs: number };

export interface WorkerHandle {
  /** Resolves once the worker streams (its run() was called). */
  started: Promise<void>;
  /** Resolves with the figures once `expectedEvents` row changes were acknowledged. */
  result: Promise<WorkerResult>;
  expect(events: number): void;
  /** With `warmup`: count the latency of changes committed from now on. */
  measureFromNow(): void;
  /** SIGKILL; for cleaning up after a failure elsewhere. */
  kill(): void;
}

let compiledWorker: URL | null = null;

/**
 * worker-process.ts and what it imports, compiled to JavaScript (once per
 * bench process, into .tmp/bench-worker): the image and the npm package run
 * compiled code, and running the sources instead would add Node's type
 * stripping, ~26 MiB of resident memory that no deployment carries.
 */
function workerFile(): URL {
  if (!compiledWorker) {
    const tsc = new URL('../node_modules/.bin/tsc', import.meta.url).pathname;
    execFileSync(tsc, ['-p', new URL('./tsconfig.worker.json', import.meta.url).pathname], { stdio: 'inherit' });
    compiledWorker = new URL('../.tmp/bench-worker/bench/worker-process.js', import.meta.url);
  }
  return compiledWorker;
}

/**
 * The Node options the container image runs slotline with (`ENV NODE_OPTIONS=`
 * in the Dockerfile): the worker is measured as it is shipped.
 * SLOTLINE_BENCH_NODE_OPTIONS replaces them, to measure others ('' for Node's defaults).
 */
export function workerNodeOptions(): string[] {
  const chosen = process.env.SLOTLINE_BENCH_NODE_OPTIONS;
  return chosen === undefined ? imageNodeOptions() : chosen.split(/\s+/).filter(Boolean);
}

/** The options of the Dockerfile's `ENV NODE_OPTIONS=` line. */
function imageNodeOptions(): string[] {
  const line = /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'));
  return line ? line[1].split(/\s+/).filter(Boolean) : [];
}

export function startWorkerProcess(spec: WorkerSpec): WorkerHandle {
  const forkedAtUs = (performance.timeOrigin + performance.now()) * 1000;
  const child = fork(workerFile(), [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...workerNodeOptions(), ...(process.env.SLOTLINE_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.SLOTLINE_BENCH_PROF] : [])] });
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = new Promise<WorkerResult>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'started') onStarted();
      else if (message.type === 'done') {
        settled = true;
        resolve({ ...message.result, processSeconds: (message.result.lastAckEpochUs - forkedAtUs) / 1e6 });
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
    measureFromNow: () => child.send({ type: 'measureFrom', epochUs: (performance.timeOrigin + performance.now()) * 1000 } satisfies DriverMessage),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
