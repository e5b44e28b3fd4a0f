/**
 * `slotline replay --config <file> --sink <sink file> [--from <LSN | ISO time |
 * rewind>] [--to <LSN | now>] [--tables …] [--into-production] [--json]`:
 * re-sends a window of history from the rewind slot into one sink (usually a
 * shadow sink), then prints what reached it. SIGINT/SIGTERM stop it (exit 1,
 * the temporary slot dropped); a second signal exits at once, and the server
 * drops the temporary slot when it sees the connection close.
 */
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadSinkFile } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import type { Logger } from 'pino';
import { createLogger } from '../runtime/logger.ts';
import { stderrTerminal } from '../runtime/terminal.ts';
import { replay, type ReplaySummary } from '../replay/replay.ts';
import { EXIT_OK, EXIT_FAILURE } from './exit-codes.ts';
import { loadCommandConfig } from './command-config.ts';

export interface ReplayRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  sink: string;
  from?: string;
  to?: string;
  tables: string[];
  intoProduction: boolean;
  json: boolean;
}

export async function replayCommand(request: ReplayRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const logger = createLogger(config.log.level, config.log.format);
  const interrupts = abortOnSignals(logger, 'replay');
  try {
    const summary = await replay({
      config,
      sink: request.sink,
      from: request.from,
      to: request.to,
      tables: request.tables,
      intoProduction: request.intoProduction,
      logger,
      signal: interrupts.signal,
      terminal: stderrTerminal(),
      progressIntervalMs: config.snapshot.progress_interval_ms,
    });
    const text = request.json ? JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? formatLsn(v) : v), 2) : formatSummary(summary);
    // A console sink on stdout has that stream: the summary goes to stderr then.
    const sinkOnStdout = summary.sink.type === 'console' && (await loadSinkFile(summary.sink.file, { sinkTypes: sinkConfigSchemas() })).output === 'stdout';
    (sinkOnStdout ? process.stderr : process.stdout).write(`${text}\n`);
    return EXIT_OK;
  } finally {
    interrupts.release();
  }
}

/**
 * SIGINT/SIGTERM abort the signal (the command stops cleanly, dropping its
 * temporary slot); a second signal exits at once, and the server drops the
 * temporary slot when it sees the connection closed.
 */
export function abortOnSignals(logger: Logger, noun: string): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now; the server drops the temporary slot once it sees the connection closed');
      process.exit(EXIT_FAILURE);
    }
    logger.info({ signal }, `stopping the ${noun}`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function formatSummary(s: ReplaySummary): string {
  const lines = [
    `replayed ${s.transactions} transaction${s.transactions === 1 ? '' : 's'}, ${s.events} event${s.events === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s (${Math.round(s.eventsPerSecond)} events/s) into sink "${s.sink.name}" (${s.sink.type}, ${s.sink.file})${s.sink.production ? ' — production' : ''}`,
    `  window: from ${formatLsn(s.from.lsn)} (--from ${s.from.requested}) to ${formatLsn(s.to.lsn)} (--to ${s.to.requested})`,
  ];
  if (s.firstCommitLsn !== null) lines.push(`  commits: ${formatLsn(s.firstCommitLsn)} … ${formatLsn(s.lastCommitLsn!)}`);
  lines.push(...tableOpsLines(s.tables));
  lines.push(`  temporary slot${s.temporarySlots.length === 1 ? '' : 's'} ${s.temporarySlots.join(', ')} dropped`);
  return lines.join('\n');
}

/** Events per table by op, as a table (nothing when there are none). */
export function tableOpsLines(tables: ReplaySummary['tables']): string[] {
  if (tables.length === 0) return [];
  const ops = ['r', 'c', 'u', 'd', 't', 'm'].filter((op) => tables.some((t) => t.ops[op as keyof typeof t.ops]));
  const width = Math.max(5, ...tables.map((t) => (t.table || '(messages)').length));
  const lines = [`  ${'table'.padEnd(width)}  ${ops.map((op) => op.padStart(8)).join('')}  ${'events'.padStart(8)}`];
  for (const t of tables) {
    lines.push(`  ${(t.table || '(messages)').padEnd(width)}  ${ops.map((op) => String(t.ops[op as keyof typeof t.ops] ?? 0).padStart(8)).join('')}  ${String(t.events).padStart(8)}`);
  }
  return lines;
}
