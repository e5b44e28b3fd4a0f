/**
 * The streaming half of a replay, shared by `slotline replay` and `slotline
 * drill`: one sink, started; a slot to copy into a temporary slot per
 * replication session; the worker's own pipeline (decoder, normalizer,
 * router, sink runners, retries, in-flight ceiling) between them; and the
 * counts of what the sink durably accepted.
 *
 *   origin slot ──copy (temporary, in the replication session)──▶ advance to start
 *     ──▶ stream ──▶ window ──▶ pipeline ──▶ the sink
 *
 * The caller has made every check that can fail before anything exists (the
 * window, the sink file); this checks the tables and starts the sink, then
 * asks `origin()` for the slot to copy — so a refused run creates nothing.
 * It runs until `until()` resolves (default: the window is done and the sink
 * has all of it), then stops and waits until the server has dropped every
 * temporary slot.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { normalizeOptionsOf } from '../config/main-schema.ts';
import { describeError, OperatorError } from '../errors.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { createTelemetry } from '../observe/telemetry.ts';
import { createRouter, type Router } from '../route/router.ts';
import { createChangeNormalizer } from '../runtime/change-normalizer.ts';
import { pgClientConfig } from '../runtime/pg-connection.ts';
import { createPipeline } from '../runtime/pipeline.ts';
import type { Terminal } from '../runtime/terminal.ts';
import { createSink, sinkBatching, sinkContextOf, sinkStartError } from '../runtime/sink-set.ts';
import type { SnapshotFeed } from '../snapshot/snapshot-runner.ts';
import { createReplicationStream } from '../source/replication-stream.ts';
import { createTableScope, type TableScope } from '../source/table-scope.ts';
import { createTypeCatalog, type TypeCatalog } from '../source/type-catalog.ts';
import type { Op } from '../types.ts';
import { startReplayProgress } from './replay-progress.ts';
import { countingSink, type ReplaySinkFile, type ReplayTally } from './replay-sink.ts';
import { createReplaySlots } from './replay-slot.ts';
import { checkReplayTables, narrowScope } from './replay-tables.ts';
import { createReplayWindow, type ReplayWindow, type ReplayWindowOptions } from './replay-window.ts';

/** What a run streams from; made once the sink has started. */
export interface StreamOrigin {
  /** The slot each replication session copies into a temporary slot of its own. */
  slot: string;
  /** Where streaming starts. */
  start: Lsn;
  /** The start is a new slot's consistent point: its first transaction has no known previous commit. */
  slotCreated: boolean;
  /** The first session may start where the copy is, past `start` (the origin may have moved since it was read). */
  firstMayStartLater: boolean;
  /** Runs in the pipeline before streaming (a rebuild's consistent read). */
  beforeStreaming?: (feed: SnapshotFeed) => Promise<'stream' | 'stop'>;
  /** Releases what the origin holds; called once the run has ended, however it ended. */
  close(): Promise<void>;
}

/** The run's view of the tables: what slotline captures, narrowed to --tables, and what the sink routes. */
export interface RunTables {
  scope: TableScope;
  router: Router;
  catalog: TypeCatalog;
  normalize: NormalizeOptions;
}

/** A running stream, for `until()`. */
export interface RunningStream {
  readonly window: ReplayWindow;
  /** Where the run counts as caught up: `progressTo`, else the window's end. */
  readonly target: Lsn;
  readonly tally: ReplayTally;
  /** What the sink durably has: every transaction ending at or before this position (as the pipeline would confirm it). */
  confirmed(): Lsn;
  /** Why the run stops early (Ctrl-C, a fatal sink error), or null while it goes on. */
  stopping(): string | null;
}

export interface StreamIntoSinkOptions {
  config: SlotlineConfig;
  logger: Logger;
  /** Catalog look-ups while streaming and the checks before; the caller ends it. */
  admin: pg.Pool;
  server: { database: string; major: number };
  target: ReplaySinkFile;
  tables?: readonly string[];
  window: ReplayWindowOptions;
  /** Temporary slots are named `<stem>_<n>`. */
  stem: string;
  /** The error for a start the origin slot no longer holds. */
  tooOld: (start: Lsn, holdsFrom: Lsn) => OperatorError;
  origin(tables: RunTables): Promise<StreamOrigin>;
  until?: (run: RunningStream) => Promise<void>;
  /** For the progress bar: where "done" is (default the window's end). */
  progressTo?: Lsn;
  /** `replay` or `drill`, for messages. */
  noun: string;
  /** For the error of a run stopped early, e.g. `--to 0/16B3748`. */
  endText: string;
  signal?: AbortSignal;
  terminal?: Terminal | null;
  progressIntervalMs?: number;
}

export interface StreamResult {
  tally: ReplayTally;
  /** Where the first session started. */
  startedAt: Lsn;
  seconds: number;
  temporarySlots: string[];
}

export async function streamIntoSink(options: StreamIntoSinkOptions): Promise<StreamResult> {
  const { config, logger, admin, server, target } = options;
  const source = config.source;
  const sinkConfig = target.config;
  const sourceScope = createTableScope(admin, source.tables);
  const router = createRouter([{ tables: sinkConfig.tables, exclude_tables: [...sinkConfig.exclude_tables, config.snapshot.state_table], messages: sinkConfig.messages && !options.tables?.length }]);
  await checkReplayTables(admin, options.tables ?? [], { publication: source.publication, scope: sourceScope, router, sink: sinkConfig.name, database: server.database });
  const scope = options.tables?.length ? narrowScope(sourceScope, createTableScope(admin, options.tables)) : sourceScope;

  const normalize = normalizeOptionsOf(config, server.database);
  const catalog = createTypeCatalog(admin);
  const telemetry = createTelemetry({ sinks: [{ name: sinkConfig.name, type: sinkConfig.type }], inFlightCeiling: config.runtime.max_in_flight_bytes });
  const { sink, tally } = countingSink(await createSink(sinkConfig, sinkContextOf({ normalize, format: config, admin, logger }), telemetry));
  if (target.production) logger.warn({ sink: target.production }, 'replaying into a production sink (--into-production)');
  await sink.start().catch((err) => {
    throw sinkStartError(sink.name, sinkConfig.type, err, `run the ${options.noun} again`);
  });
  telemetry.sink(sink.name).state = 'ok';
  const tables: RunTables = { scope, router, catalog, normalize };
  let origin: StreamOrigin;
  try {
    origin = await options.origin(tables);
  } catch (err) {
    await sink.stop().catch((e) => logger.warn({ err: describeError(e) }, 'sink did not stop cleanly'));
    throw err;
  }

  const window = createReplayWindow(options.window);
  const slots = createReplaySlots({ rewindSlot: origin.slot, stem: options.stem, firstMayStartLater: origin.firstMayStartLater, tooOld: options.tooOld, logger });
  const pipeline = createPipeline({
    openStream: (handlers) =>
      window.stream(
        createReplicationStream(
          { connection: pgClientConfig(source, 'slotline-replay'), slot: origin.slot, publication: source.publication, serverMajor: server.major, logger, prepareSlot: slots.prepare },
          window.handlers(handlers),
        ),
      ),
    sinks: [sink],
    batching: [sinkBatching(sinkConfig, config.runtime)],
    router,
    scope,
    normalizer: createChangeNormalizer({ catalog, options: normalize, logger }),
    startLsn: origin.start,
    slotCreated: origin.slotCreated,
    beforeStreaming: origin.beforeStreaming,
    skippedOperations: new Set<Op>(config.skipped_operations),
    maxInFlightBytes: config.runtime.max_in_flight_bytes,
    sinkRetry: config.runtime.retry,
    reconnect: source.reconnect,
    statusIntervalMs: source.status_interval_ms,
    heartbeatIntervalMs: 0,
    shutdownTimeoutMs: config.runtime.shutdown_timeout_ms,
    logger,
    telemetry,
  });

  const startedAt = Date.now();
  const progressTo = options.progressTo ?? options.window.to;
  const progress = startReplayProgress({
    read: () => {
      if (slots.startedAt === null) return null;
      const position = window.position < progressTo ? window.position : progressTo;
      return { start: slots.startedAt, to: progressTo, position, events: tally.events, startedAt };
    },
    terminal: options.terminal ?? null,
    logger,
    intervalMs: options.progressIntervalMs ?? 5000,
  });
  let interrupted: string | null = null;
  const onAbort = (): void => {
    interrupted = String(options.signal?.reason ?? 'interrupted');
    void pipeline.stop(interrupted);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const running = pipeline.run();
  const run: RunningStream = {
    window,
    target: progressTo,
    tally,
    confirmed: () => pipeline.stats().confirmedLsn,
    stopping: () => interrupted ?? (telemetry.state === 'failed' ? (telemetry.failure ?? 'the sink failed') : null),
  };
  let complete = false;
  let untilError: unknown = null;
  void (options.until ?? untilWindowDone)(run).then(
    () => {
      complete = run.stopping() === null;
      return pipeline.stop(`reached ${options.endText}`);
    },
    (err) => {
      untilError = err;
      return pipeline.stop('stopping after an error');
    },
  );
  let left: string[] = [];
  try {
    await running;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    progress.stop();
    left = await slots.awaitDropped(admin).catch(() => slots.names.slice());
    for (const name of left) logger.error({ slot: name, hint: `SELECT pg_drop_replication_slot('${name}')` }, 'a temporary slot is still there');
    await origin.close().catch((err) => logger.warn({ err: describeError(err) }, 'the origin did not close cleanly'));
  }
  if (untilError !== null && interrupted === null) throw untilError;
  if (interrupted !== null || !complete) {
    const reads = [...tally.tables.values()].reduce((n, ops) => n + (ops.get('r') ?? 0), 0);
    const reached = `${reads > 0 ? `${reads} rows read and ` : ''}${tally.lastCommitLsn === null ? 'no transaction' : `transactions up to ${formatLsn(tally.lastCommitLsn)}`}`;
    const at = window.position > 0n ? window.position : (slots.startedAt ?? origin.start);
    throw new OperatorError(`${options.noun} stopped (${interrupted ?? 'before the end'}) at ${formatLsn(at)}, before ${options.endText}: the sink holds ${reached} (${tally.transactions} transactions, ${tally.events} events)`, {
      hint: `run the ${options.noun} again to complete it; ${left.length === 0 ? 'the temporary slot is gone' : `drop the temporary slot that is left: SELECT pg_drop_replication_slot('${left[0]}')`}`,
    });
  }
  return { tally, startedAt: slots.startedAt ?? origin.start, seconds: (Date.now() - startedAt) / 1000, temporarySlots: slots.names.slice() };
}

/** Replay's end: every transaction of the window passed on and in the sink. */
async function untilWindowDone(run: RunningStream): Promise<void> {
  await whileRunning(run, run.window.done);
  const last = run.window.lastPassedEnd;
  while (run.stopping() === null && last !== null && run.confirmed() < last) await sleep(20);
  if (run.stopping() !== null) throw new Error(run.stopping()!);
}

/** `work`, unless the run stops first (Ctrl-C, a fatal sink error): then it rejects with why. */
export async function whileRunning<T>(run: RunningStream, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // Polled: the pipeline has no event for it.
  const halted = new Promise<never>((_resolve, reject) => {
    const check = (): void => {
      const why = run.stopping();
      if (why !== null) reject(new Error(why));
      else timer = setTimeout(check, 100);
    };
    check();
  });
  try {
    return await Promise.race([work, halted]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
