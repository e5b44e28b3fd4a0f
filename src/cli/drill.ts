/**
 * `slotline drill --config <file> --sink <shadow sink file> [--from <LSN |
 * ISO time | rewind>] [--tables …] [--json <report.json>] [--wait <duration>]`:
 * rebuilds a shadow sink (from nothing, or from the rewind slot onto a
 * restored backup), verifies it, and prints one drill report. Exit 0 when
 * verify finds no drift, 1 when it does or the drill could not finish (one
 * line and a hint; 78 for a configuration error). SIGINT/SIGTERM stop it,
 * its temporary slots dropped.
 */
import { writeFile } from 'node:fs/promises';
import { drill, type DrillReport } from '../drill/drill.ts';
import { formatLsn } from '../lsn.ts';
import { createLogger } from '../runtime/logger.ts';
import { stderrTerminal } from '../runtime/terminal.ts';
import { formatReport } from '../verify/verify-report.ts';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { abortOnSignals, tableOpsLines } from './replay.ts';
import { parseDuration } from './verify.ts';
import { loadCommandConfig } from './command-config.ts';

export interface DrillRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  sink: string;
  from?: string;
  tables: string[];
  json?: string;
  wait?: string;
}

export async function drillCommand(request: DrillRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const waitTimeoutMs = request.wait === undefined ? undefined : parseDuration(request.wait);
  const logger = createLogger(config.log.level, config.log.format);
  const interrupts = abortOnSignals(logger, 'drill');
  try {
    const report = await drill({
      config,
      sink: request.sink,
      from: request.from,
      tables: request.tables,
      waitTimeoutMs,
      logger,
      signal: interrupts.signal,
      terminal: stderrTerminal(),
      progressIntervalMs: config.snapshot.progress_interval_ms,
    });
    if (request.json !== undefined) await writeFile(request.json, `${JSON.stringify({ ...report, exitCode: exitCodeOf(report) }, (_k, v) => (typeof v === 'bigint' ? formatLsn(v) : v), 2)}\n`);
    console.log(formatDrillReport(report));
    return exitCodeOf(report);
  } finally {
    interrupts.release();
  }
}

function exitCodeOf(report: DrillReport): number {
  return report.drift ? EXIT_FAILURE : EXIT_OK;
}

export function formatDrillReport(r: DrillReport): string {
  const how = r.mode === 'rebuild' ? 'rebuilt from nothing' : `replayed from the rewind slot (--from ${r.stream.from.requested}, ${formatLsn(r.stream.from.lsn)})`;
  const lines = [`drill into sink "${r.sink.name}" (${r.sink.type}, ${r.sink.file}): ${how} up to the live position ${r.target} in ${r.rebuildSeconds.toFixed(1)} s`];
  if (r.snapshot) lines.push(`  read: ${r.snapshot.rows} rows of ${r.snapshot.tables} table${r.snapshot.tables === 1 ? '' : 's'} in the temporary slot's snapshot at ${r.snapshot.consistentPoint} (${r.snapshot.seconds.toFixed(1)} s)`);
  const commits = r.stream.firstCommitLsn === null ? '' : `, commits ${formatLsn(r.stream.firstCommitLsn)} … ${formatLsn(r.stream.lastCommitLsn!)}`;
  lines.push(`  streamed: ${r.stream.transactions} transaction${r.stream.transactions === 1 ? '' : 's'} from ${formatLsn(r.stream.from.lsn)} until verify was done${commits}`);
  lines.push(...tableOpsLines(r.stream.tables));
  lines.push(`  temporary slot${r.temporarySlots.length === 1 ? '' : 's'} ${r.temporarySlots.join(', ')} dropped`);
  lines.push(formatReport(r.verify));
  const drift = `${r.verify.totals.missing} missing, ${r.verify.totals.stale} stale, ${r.verify.totals.extra} extra`;
  lines.push(
    r.drift
      ? `drill FAILED in ${r.seconds.toFixed(1)} s: the rebuilt sink differs from the tables (${drift}); exit ${EXIT_FAILURE}`
      : `drill passed in ${r.seconds.toFixed(1)} s: the rebuilt sink matches the tables (${r.verify.totals.rows} rows, no drift); exit ${EXIT_OK}`,
  );
  return lines.join('\n');
}
