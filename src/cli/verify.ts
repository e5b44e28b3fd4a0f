/**
 * `slotline verify --config <file> --sink <name or file> [--tables …]
 * [--json report.json] [--wait <duration>]`: reconciles a sink against the
 * source tables (src/verify/verify-sink.ts) and prints the report. Exit 0
 * when there is no drift, 1 when there is (or on an operator error).
 */
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadSinkFile, type SlotlineConfig } from '../config/load-config.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { OperatorError, UsageError } from '../errors.ts';
import { createLogger } from '../runtime/logger.ts';
import { formatReport } from '../verify/verify-report.ts';
import { verifySink } from '../verify/verify-sink.ts';
import { EXIT_OK, EXIT_FAILURE } from './exit-codes.ts';
import { loadCommandConfig } from './command-config.ts';

export interface VerifyRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  /** A sink name of the config, or a sink file. */
  sink: string;
  tables: string[];
  /** Also write the report as JSON to this file. */
  json?: string;
  /** Longest wait for the sink to reach the consistent point, e.g. `30s`, `2m`. */
  wait?: string;
}

export async function verifyCommand(request: VerifyRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const sink = await resolveSink(config, request.sink, request.configPath);
  const waitTimeoutMs = request.wait === undefined ? undefined : parseDuration(request.wait);
  const logger = createLogger(config.log.level, config.log.format);
  const report = await verifySink({ config, sink, tables: request.tables.length > 0 ? request.tables : undefined, waitTimeoutMs, logger });
  if (request.json !== undefined) await writeFile(request.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report));
  return report.drift ? EXIT_FAILURE : EXIT_OK;
}

/** `--sink`: a sink name of the config first, else a file (the config's own, or a shadow sink file). */
async function resolveSink(config: SlotlineConfig, given: string, configPath: string): Promise<SinkConfig> {
  const byName = config.sinks.find((s) => s.name === given);
  if (byName) return byName;
  const file = path.resolve(given);
  const byFile = config.sinks.find((s) => s.file === file);
  if (byFile) return byFile;
  const exists = await access(file).then(() => true, () => false);
  if (!exists) {
    throw new OperatorError(`no sink named "${given}" in ${configPath}, and no such sink file`, {
      hint: `give a sink name (${config.sinks.map((s) => s.name).join(', ')}) or the path of a sink file`,
    });
  }
  return loadSinkFile(file, { sinkTypes: sinkConfigSchemas() });
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--wait ${JSON.stringify(text)} is not a duration`, { hint: 'e.g. --wait 30s, --wait 2m, --wait 500ms' });
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's']);
}
