/**
 * What one source's worker is given: its part of the loaded config and
 * nothing else. startWorker builds it once (sourcePlanOf); each stage then
 * takes only its own piece — the connection its source settings, the sinks
 * their files and the event format, the runners their batching.
 *
 * What is not the source's own — the logger, the HTTP settings, the main
 * file's path for /status, and a caller's overrides — comes beside it as
 * WorkerShared, so several sources in one process can share them.
 */
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { EVENT_FORMAT_KEYS, type EventFormatConfig } from '../config/main-schema.ts';
import type { HttpConfig } from '../config/http-schema.ts';
import type { OperationsHub } from '../observe/operations-hub.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import type { SnapshotConfig } from '../config/snapshot-schema.ts';
import type { SourceConfig } from '../config/source-schema.ts';
import type { Sink } from '../sink.ts';
import type { Op } from '../types.ts';

export type RuntimeConfig = SlotlineConfig['runtime'];

export interface SourcePlan {
  /** Connection, slot, publication, tables, reconnect, heartbeats, standby, rewind. */
  source: SourceConfig;
  snapshot: SnapshotConfig;
  /** How events are named and encoded (topic prefix, type modes, envelope defaults). */
  format: EventFormatConfig;
  /** The sink files, in load order. */
  sinks: readonly SinkConfig[];
  /** Batching defaults, in-flight ceiling, retries, shutdown timeout. */
  runtime: RuntimeConfig;
  skippedOperations: ReadonlySet<Op>;
}

export interface WorkerOverrides {
  /** Extra sinks built by the caller (tests, benchmark), added to the configured ones. */
  sinks?: Sink[];
  /** Wraps each configured sink (e.g. the benchmark times its acknowledgements). */
  wrapSink?: (sink: Sink) => Sink;
  /** Ends a hot standby's wait: startWorker then rejects with StoppedWhileStandby. */
  signal?: AbortSignal;
  /** One source of several (`sources:`): it shows on this shared hub under its name, instead of a listener of its own. */
  operations?: { hub: OperationsHub; name: string };
}

/** What a source's worker shares with the rest of the process. */
export interface WorkerShared {
  logger: Logger;
  /** The HTTP listener's settings (/status, metrics, probes). */
  http: HttpConfig;
  /** The main config file's path, shown in /status. */
  configFile: string;
  overrides: WorkerOverrides;
}

export function sourcePlanOf(config: SlotlineConfig): SourcePlan {
  return {
    source: config.source,
    snapshot: config.snapshot,
    format: Object.fromEntries(EVENT_FORMAT_KEYS.map((key) => [key, config[key]])) as EventFormatConfig,
    sinks: config.sinks,
    runtime: config.runtime,
    skippedOperations: new Set<Op>(config.skipped_operations),
  };
}

export function workerSharedOf(config: SlotlineConfig, logger: Logger, overrides: WorkerOverrides): WorkerShared {
  return { logger, http: config.http, configFile: config.file, overrides };
}
