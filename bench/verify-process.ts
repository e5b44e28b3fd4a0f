/**
 * One `verifySink` run in a process of its own, so that its peak RSS is
 * verify's alone. Started by bench/verify.ts with `fork`: argv[2] is the main
 * config file, argv[3] the database URL; sends back the report's figures.
 */
import { readFile } from 'node:fs/promises';
import { sinkConfigSchemas } from '../connectors/index.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { noWait } from '../src/verify/consistent-point.ts';
import { verifySink } from '../src/verify/verify-sink.ts';

export interface VerifyRunResult {
  rows: number;
  matched: number;
  missing: number;
  drift: boolean;
  seconds: number;
  rowsPerSecond: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

async function main(): Promise<void> {
  const config = await loadConfig(process.argv[2], { sinkTypes: sinkConfigSchemas(), env: { BENCH_DATABASE_URL: process.argv[3] } });
  const cpu = process.cpuUsage();
  // Nothing writes to the table meanwhile: no slot to wait on.
  const report = await verifySink({ config, sink: config.sinks[0], wait: noWait, progress: 'none', logger: createLogger('warn') });
  const used = process.cpuUsage(cpu);
  const status = await readFile('/proc/self/status', 'utf8');
  const result: VerifyRunResult = {
    rows: report.totals.rows,
    matched: report.totals.matched,
    missing: report.totals.missing,
    drift: report.drift,
    seconds: report.seconds,
    rowsPerSecond: report.rowsPerSecond,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssBytes: Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024,
  };
  process.send!(result, undefined, {}, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
