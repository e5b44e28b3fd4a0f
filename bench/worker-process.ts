/**
 * One slotline worker in a process of its own, so that its peak RSS is
 * slotline's alone. Started by worker-driver.ts with `fork`, a WorkerSpec as
 * JSON in argv[2]; talks back over the IPC channel (WorkerMessage).
 *
 * The worker is configured the way an operator would: a main YAML file and a
 * sink file (written by run.ts), read by loadConfig. The measured sink is the
 * configured one, wrapped (WorkerOverrides.wrapSink) to time its
 * acknowledgements, or for the null contender a sink that discards.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sinkConfigSchemas } from '../connectors/index.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { limitHeapGrowth } from '../src/runtime/heap-growth.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { startWorker } from '../src/runtime/worker.ts';
import type { Sink } from '../src/sink.ts';
import type { ChangeEvent } from '../src/types.ts';
import { createLatencyHistogram } from './latency-histogram.ts';
import type { WorkerMessage, WorkerResult, WorkerSpec, DriverMessage } from './worker-driver.ts';

const spec = JSON.parse(process.argv[2]) as WorkerSpec;
const send = (message: WorkerMessage, then?: () => void): void => {
  process.send!(message, undefined, {}, () => then?.());
};
const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/** Resident set now (VmRSS) and at its peak (VmHWM), in bytes. */
async function memory(): Promise<{ rss: number; peak: number }> {
  const status = await readFile('/proc/self/status', 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function writeConfigFiles(dir: string): Promise<string> {
  await mkdir(join(dir, 'sinks'));
  const main = join(dir, 'slotline.yaml');
  await writeFile(
    main,
    [
      'source:',
      '  url: ${BENCH_DATABASE_URL}',
      `  slot: ${spec.slot}`,
      `  publication: ${spec.publication}`,
      spec.snapshot ? '  create: true' : '  create: false                 # the benchmark made them, at the workload start',
      `  tables: [${spec.table}]`,
      'topic_prefix: bench',
      spec.snapshot ? 'snapshot: { mode: initial_only }' : 'snapshot: { mode: no_data }      # stream what the workload wrote after the slot',
      'sinks: [sinks/measured.yaml]',
      spec.http ? 'http: { listen: "127.0.0.1:0" }' : 'http: { listen: false }',
      'log: { level: warn }',
      '',
    ].join('\n'),
  );
  // The null contender still needs a valid sink file; it is never built (see main).
  await writeFile(join(dir, 'sinks', 'measured.yaml'), spec.sinkFile ?? 'name: null-sink\ntype: console\noutput: /dev/null\n');
  return main;
}

/** Calls `onHanded` with each batch as it is handed over, `onAck` once `inner` has accepted it (for the null sink: at once). */
function measuredSink(inner: Sink | null, onHanded: (events: ChangeEvent[]) => void, onAck: (events: ChangeEvent[]) => void): Sink {
  return {
    name: inner?.name ?? 'null',
    wholeTransactions: inner?.wholeTransactions,
    writesAhead: inner?.writesAhead,
    start: () => inner?.start() ?? Promise.resolve(),
    async write(events, info) {
      onHanded(events);
      if (inner) await inner.write(events, info);
      onAck(events);
    },
    stop: () => inner?.stop() ?? Promise.resolve(),
  };
}

async function main(): Promise<void> {
  // As the `slotline` command does before any command (src/cli/main.ts).
  limitHeapGrowth();
  const baseline = await memory();
  const dir = await mkdtemp(join(tmpdir(), 'slotline-bench-'));
  const config = await loadConfig(await writeConfigFiles(dir), { sinkTypes: sinkConfigSchemas(), env: { BENCH_DATABASE_URL: spec.url } });
  await rm(dir, { recursive: true, force: true });
  const logger = createLogger(config.log.level);

  const latency = createLatencyHistogram();
  const warmupLatency = spec.warmup ? createLatencyHistogram() : null;
  /** The live phase only: a backlog drain's measured process does no per-event work it does not report. */
  const handedLatency = spec.warmup ? createLatencyHistogram() : null;
  /** With spec.warmup: changes committed from here on (µs since the epoch) are measured; Infinity until the driver says. */
  let measureFromUs = spec.warmup ? Infinity : 0;
  let expected = spec.expectedEvents;
  let acked = 0;
  let firstAckUs = 0;
  let lastAckUs = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const checkDone = (): void => {
    if (expected !== null && acked >= expected) finish();
  };
  const [schema, table] = spec.table.split('.');
  const ofTable = (event: ChangeEvent): boolean => event.table === table && event.schema === schema;
  /** A row change of the workload table (snapshot reads are counted apart). */
  const measuredChange = (event: ChangeEvent): boolean => ofTable(event) && (event.op === 'c' || event.op === 'u' || event.op === 'd');
  const onHanded = (events: ChangeEvent[]): void => {
    if (handedLatency === null) return;
    const at = nowUs();
    for (const event of events) {
      if (!measuredChange(event)) continue;
      const committedUs = Number(event.source.ts_us);
      if (committedUs >= measureFromUs) handedLatency.record(at - committedUs);
    }
  };
  const onAck = (events: ChangeEvent[]): void => {
    const at = nowUs();
    for (const event of events) {
      if (spec.snapshot) {
        // Reads: their ts_us is when the table's read began, not a commit; count them only.
        if (ofTable(event) && event.op === 'r') acked++;
        continue;
      }
      if (!measuredChange(event)) continue;
      acked++;
      const committedUs = Number(event.source.ts_us);
      (committedUs >= measureFromUs ? latency : warmupLatency!).record(at - committedUs);
    }
    if (firstAckUs === 0 && acked > 0) firstAckUs = at;
    lastAckUs = at;
    checkDone();
  };
  process.on('message', (message: DriverMessage) => {
    if (message.type === 'expect') {
      expected = message.events;
      checkDone();
    } else if (message.type === 'measureFrom') {
      measureFromUs = message.epochUs;
    }
  });

  // A configured sink is built by startWorker (with its batching) and wrapped to time it;
  // the null contender replaces the placeholder sink file with a sink that discards.
  const overrides = spec.sinkFile
    ? { wrapSink: (sink: Sink) => measuredSink(sink, onHanded, onAck) }
    : { sinks: [measuredSink(null, onHanded, onAck)] };
  const workerConfig = spec.sinkFile ? config : { ...config, sinks: [] };
  const cpuBefore = process.cpuUsage();
  const startedUs = nowUs();
  const worker = await startWorker(workerConfig, logger, overrides);
  const running = worker.run();
  const runningUs = nowUs();
  const url = worker.operations.http?.url;
  const scraper = url ? setInterval(() => void Promise.all([fetch(`${url}/metrics`), fetch(`${url}/status`)]).then((rs) => Promise.all(rs.map((r) => r.text()))), 1_000) : null;
  send({ type: 'started' });
  // A fatal pipeline error ends the race; finishing stops the worker normally.
  await Promise.race([finished, running]);
  // initial_only: the worker records the snapshot as done and ends by itself; stopping it earlier would interrupt that.
  if (spec.snapshot) await running;
  if (scraper) clearInterval(scraper);
  const cpu = process.cpuUsage(cpuBefore);
  const stats = worker.pipeline.stats();
  await worker.stop('benchmark done');
  await running;

  const result: WorkerResult = {
    events: acked,
    seconds: (lastAckUs - startedUs) / 1e6,
    steadySeconds: (lastAckUs - firstAckUs) / 1e6,
    lastAckEpochUs: lastAckUs,
    startupSeconds: (runningUs - startedUs) / 1e6,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    latency: latency.summary(),
    ...(warmupLatency ? { warmupLatency: warmupLatency.summary() } : {}),
    ...(handedLatency ? { handedLatency: handedLatency.summary() } : {}),
    baselineRssBytes: baseline.rss,
    peakRssBytes: (await memory()).peak,
    peakInFlightBytes: stats.peakInFlightBytes,
    transactions: stats.transactions,
  };
  send({ type: 'done', result }, () => process.exit(0));
}

main().catch((err: unknown) => {
  const error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  send({ type: 'failed', error }, () => process.exit(1));
});
