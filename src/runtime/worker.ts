/**
 * From a loaded config to a streaming pipeline: preflight, publication and
 * slot, catalog, normalizer, sinks, router. `slotline run`, the demo, the
 * benchmark and the end-to-end tests all start slotline through here.
 */
import { createTransformChain } from '../route/transforms/transform.ts';
import { withTransforms } from './transformed-sink.ts';
import type { Logger } from 'pino';
import { sinkPlugin } from '../../connectors/index.ts';
import { normalizeOptionsOf } from '../config/main-schema.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { Queryable } from '../source/pg-catalog.ts';
import { describeError, errorKind, OperatorError } from '../errors.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import { createRouter } from '../route/router.ts';
import { runPreflight } from '../source/preflight.ts';
import { createReplicationStream } from '../source/replication-stream.ts';
import { createSlotAdmin } from '../source/slot-admin.ts';
import { createTableDescriber } from '../source/pg-table-describer.ts';
import { createTypeCatalog } from '../source/type-catalog.ts';
import type { Sink, SinkContext } from '../sink.ts';
import { dropRewindSlotCreatedByFailedStart, dropSlotCreatedByFailedStart } from '../source/slot-cleanup.ts';
import { ensureRewindSlot } from '../source/rewind-slot.ts';
import { createRewindKeeper, type RewindKeeper } from '../source/rewind-keeper.ts';
import { formatRetention } from '../config/retention.ts';
import { startOperations, type Operations } from '../observe/operations.ts';
import type { StatusIdentity } from '../observe/status.ts';
import { createRewindTelemetry, createTelemetry, type Telemetry } from '../observe/telemetry.ts';
import { version } from '../version.ts';
import { createTableScope } from '../source/table-scope.ts';
import { prepareStart, type StartPlan } from '../snapshot/initial-snapshot.ts';
import { createIncrementalSnapshots } from '../snapshot/incremental-snapshot.ts';
import { createSnapshotProgress } from '../snapshot/snapshot-progress.ts';
import { createSnapshotState } from '../snapshot/snapshot-state.ts';
import { parseTableName } from '../source/pg-catalog.ts';
import type { Op } from '../types.ts';
import { HEARTBEAT_PREFIX } from './change-router.ts';
import { createChangeNormalizer } from './change-normalizer.ts';
import { describeTarget } from './pg-connection.ts';
import { createPrimaryTarget } from './pg-primary.ts';
import { enableSlotFailover } from '../source/failover-checks.ts';
import { waitForSlot } from './standby.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';

export interface Worker {
  readonly pipeline: Pipeline;
  /** What operators see: the HTTP listener (null with http.listen: false), /status, metrics. */
  readonly operations: Operations;
  /** Streams until stop() (resolves) or a fatal error (rejects). */
  run(): Promise<void>;
  stop(reason?: string): Promise<void>;
}

export interface WorkerOverrides {
  /** Extra sinks built by the caller (tests, benchmark), added to the configured ones. */
  sinks?: Sink[];
  /** Wraps each configured sink (e.g. the benchmark times its acknowledgements). */
  wrapSink?: (sink: Sink) => Sink;
  /** Ends a hot standby's wait: startWorker then rejects with StoppedWhileStandby. */
  signal?: AbortSignal;
}

export async function startWorker(config: SlotlineConfig, logger: Logger, overrides: WorkerOverrides = {}): Promise<Worker> {
  const source = config.source;
  // With several hosts, every connection goes to the one that is the writable primary (./pg-primary.ts).
  const primary = await createPrimaryTarget(source, logger).catch((err) => {
    throw new OperatorError(describeError(err), { hint: (err as { hint?: string }).hint, cause: err });
  });
  const connection = primary.connection();
  const publication = { name: source.publication, create: source.create_publication, tables: source.tables, all: source.tables === undefined };
  const slotSpec = { name: source.slot, create: source.create_slot, failover: source.failover };

  const check = () =>
    runPreflight({
      connection, slot: slotSpec, slotMayBeLost: config.snapshot.mode === 'when_needed', publication,
      // no_data never takes an initial snapshot; a re-snapshot request (slotline snapshot) creates the table itself.
      stateTable: config.snapshot.mode === 'no_data' ? undefined : parseTableName(config.snapshot.state_table),
      slotInUse: source.standby.enabled ? 'report' : 'fail',
    });
  let preflight = await check();

  const sinkTypes = [...config.sinks.map((s) => ({ name: s.name, type: s.type })), ...(overrides.sinks ?? []).map((s) => ({ name: s.name, type: 'extra' }))];
  const telemetry = createTelemetry({ sinks: sinkTypes, inFlightCeiling: config.runtime.max_in_flight_bytes });
  const operations = await startOperations({
    http: config.http,
    telemetry,
    identity: identityOf(config, preflight),
    connection: primary.connection('slotline-monitor'),
    logger,
  });
  try {
    // A hot standby waits here, alive and not ready, until the slot is free; then it checks everything again.
    while (preflight.slotHolder !== null) {
      await waitForSlot(preflight.slotHolder, {
        connection: primary.connection('slotline-standby'), slot: source.slot, pollIntervalMs: source.standby.poll_interval_ms, telemetry, logger, signal: overrides.signal,
        // After a failover while waiting, the slot to wait on is the new primary's.
        beforeConnect: () => primary.locate(),
      });
      preflight = await check();
    }
  } catch (err) {
    await operations.stop();
    throw err;
  }
  for (const warning of preflight.warnings) logger.warn(warning);

  // A pool (of two) rather than one client: catalog look-ups and heartbeats must
  // survive a dropped connection without restarting the worker.
  const admin = primary.pool('slotline-admin', 2);
  admin.on('error', (err) => logger.warn({ err: err.message }, 'admin connection error'));
  const normalize = normalizeOptionsOf(config, preflight.database);
  const catalog = createTypeCatalog(admin);
  const scope = createTableScope(admin, source.tables);
  const sinkConfigs = config.sinks;
  // The snapshot state table's own changes never reach a sink, whatever the globs say.
  const stateTable = config.snapshot.state_table;
  const routes = [
    ...sinkConfigs.map((s) => ({ tables: s.tables, exclude_tables: [...s.exclude_tables, stateTable], messages: s.messages })),
    ...(overrides.sinks ?? []).map(() => ({ tables: ['*'], exclude_tables: [stateTable], messages: true })),
  ];
  const router = createRouter(routes);
  const snapshotState = createSnapshotState(admin, parseTableName(stateTable));
  const sinks = await buildSinks(config, overrides, telemetry, sinkContextOf(config, normalize, admin, logger));
  /** Set once this start has created the slot: if it fails before confirming anything, the slot goes again. */
  let createdAt: Lsn | null = null;
  /** The same for the rewind slot, with the main slot's position when it was made. */
  let rewindCreated: { at: Lsn; mainAt: Lsn } | null = null;
  const cleanUpFailedStart = async (): Promise<void> => {
    if (rewindCreated !== null && source.rewind) {
      await dropRewindSlotCreatedByFailedStart(admin, { slot: source.rewind.slot, createdAt: rewindCreated.at, mainSlot: source.slot, mainStartedAt: rewindCreated.mainAt }, logger);
    }
    if (createdAt === null) return;
    await dropSlotCreatedByFailedStart(admin, {
      slot: source.slot, createdAt, publication: source.publication, keepIfItHoldsChanges: config.snapshot.mode === 'no_data',
    }, logger);
  };

  let start: StartPlan;
  const started: Sink[] = [];
  try {
    // Every sink is reached before anything is created on the server: a sink
    // that cannot start must not leave a slot behind that pins WAL.
    for (const [i, sink] of sinks.entries()) {
      await sink.start().catch((err) => {
        throw sinkStartError(sink.name, config.sinks[i]?.type ?? 'extra', err);
      });
      started.push(sink);
      telemetry.sink(sink.name).state = 'ok';
    }
    const slotAdmin = createSlotAdmin(admin);
    const pub = await slotAdmin.ensurePublication(publication);
    // Preflight logged what differs already; ensurePublication finds the same.
    for (const warning of pub.warnings) if (!preflight.warnings.includes(warning)) logger.warn(warning);
    if (pub.created) logger.info({ publication: source.publication }, 'created publication');
    if (pub.added.length > 0) logger.info({ publication: source.publication, added: pub.added }, 'added tables to publication');
    start = await prepareStart({
      admin,
      connection: primary.connection('slotline-snapshot'),
      slot: source.slot,
      publication: source.publication,
      createSlot: source.create_slot,
      failover: source.failover,
      serverMajor: preflight.serverMajor,
      snapshot: config.snapshot,
      state: snapshotState,
      routed: async (t) => router.sinksFor(t.schema, t.table).length > 0 && (await scope.includes(t)),
      catalog,
      normalize,
      logger,
      onSlotCreated: (lsn) => (createdAt = lsn),
    });
    logger.info({ slot: source.slot, created: start.slotCreated, from: formatLsn(start.startLsn), server: preflight.serverVersion }, start.slotCreated ? 'created slot' : 'resuming slot');
    if (source.failover && !start.slotCreated) {
      const slot = await createSlotAdmin(admin).readSlot(source.slot);
      if (slot) await enableSlotFailover(primary.connection('slotline-admin'), slot, logger);
    }
    if (source.rewind) {
      const rewind = await ensureRewindSlot(admin, { main: source.slot, rewind: source.rewind.slot, mainCreated: start.slotCreated }, logger);
      if (rewind.createdAt !== undefined) rewindCreated = { at: rewind.createdAt, mainAt: start.startLsn };
    }
  } catch (err) {
    await cleanUpFailedStart();
    await stopSinks(started, logger);
    await admin.end().catch(() => undefined);
    await operations.stop();
    throw err;
  }
  if (start.progress) telemetry.snapshots.push({ kind: 'initial', progress: start.progress });
  let keeper: RewindKeeper | null = null;
  if (source.rewind) {
    telemetry.rewind = createRewindTelemetry(source.rewind.slot, formatRetention(source.rewind.retain));
    keeper = createRewindKeeper({ connection: primary.connection('slotline-rewind'), mainSlot: source.slot, rewind: source.rewind, telemetry: telemetry.rewind, logger });
    void keeper.tick();
  }
  const startLsn = start.startLsn;
  const runtime = config.runtime;
  let finished = false;
  const incrementalProgress = createSnapshotProgress({ logger, intervalMs: config.snapshot.progress_interval_ms, terminal: null });
  telemetry.snapshots.push({ kind: 'incremental', progress: incrementalProgress });
  const incremental = createIncrementalSnapshots({
    admin,
    connection: primary.connection('slotline-snapshot'),
    slot: source.slot,
    publication: source.publication,
    state: snapshotState,
    catalog,
    normalize,
    routes: (t) => router.sinksFor(t.schema, t.table),
    sinkNames: sinks.map((s) => s.name),
    chunkSize: config.snapshot.chunk_size,
    // A chunk's progress is recorded only once every sink has written it.
    ackedThrough: async (lsn) => {
      while (pipeline.checkpointer.watermark() < lsn && !finished) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    progress: incrementalProgress,
    logger,
  });
  const pipeline = createPipeline({
    // Each (re)connect looks for the primary again: after a promotion the stream goes on from the new one's synced slot.
    openStream: async (handlers) => {
      await primary.locate();
      return createReplicationStream(
        { connection: primary.replication(), slot: source.slot, publication: source.publication, serverMajor: preflight.serverMajor, logger },
        handlers,
      );
    },
    sinks,
    batching: batchingOf(config, overrides),
    router,
    scope,
    normalizer: createChangeNormalizer({ catalog, options: normalize, logger }),
    startLsn,
    slotCreated: start.slotCreated,
    skippedOperations: new Set<Op>(config.skipped_operations),
    maxInFlightBytes: runtime.max_in_flight_bytes,
    sinkRetry: runtime.retry,
    reconnect: source.reconnect,
    statusIntervalMs: source.status_interval_ms,
    heartbeat: async () => {
      await admin.query('SELECT pg_logical_emit_message(false, $1, $2)', [HEARTBEAT_PREFIX, '']);
      telemetry.heartbeats++;
      telemetry.lastHeartbeatAt = Date.now();
    },
    heartbeatIntervalMs: source.heartbeat_interval_ms,
    shutdownTimeoutMs: runtime.shutdown_timeout_ms,
    logger,
    beforeStreaming: start.beforeStreaming,
    incremental,
    telemetry,
    onCommit: keeper ? (endLsn, commitTimeUs) => keeper.observeCommit(endLsn, commitTimeUs) : undefined,
  });

  return {
    pipeline,
    operations,
    async run() {
      let failed = false;
      try {
        await pipeline.run();
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        finished = true;
        await keeper?.stop();
        await start.close();
        if (failed) await cleanUpFailedStart();
        await admin.end().catch(() => undefined);
        await operations.stop();
      }
    },
    stop: (reason) => pipeline.stop(reason),
  };
}

/** The configured sinks (each wrapped if asked), then the caller's extra ones. */
async function buildSinks(config: SlotlineConfig, overrides: WorkerOverrides, telemetry: Telemetry, context: SinkContext): Promise<Sink[]> {
  const configured: Sink[] = [];
  for (const s of config.sinks) {
    const sink = await createSink(s, context, telemetry);
    configured.push(overrides.wrapSink ? overrides.wrapSink(sink) : sink);
  }
  return [...configured, ...(overrides.sinks ?? [])];
}

/** What every sink is made with: the config's naming and normalization, and catalog look-ups on `admin`. */
export function sinkContextOf(config: SlotlineConfig, normalize: NormalizeOptions, admin: Queryable, logger: Logger): SinkContext {
  return {
    logger,
    topicPrefix: config.topic_prefix,
    normalize,
    schemasEnable: config.schemas_enable,
    tombstonesOnDelete: config.tombstones_on_delete,
    describeTable: createTableDescriber(admin),
  };
}

/** A sink from its file, its dead letters counted in the telemetry. */
export async function createSink(sink: SinkConfig, context: SinkContext, telemetry: Telemetry): Promise<Sink> {
  const created = await sinkPlugin(sink.type).create(sink, { ...context, deadLettered: (n) => void (telemetry.sink(sink.name).deadLettered += n) });
  const transform = createTransformChain(sink.transforms ?? [], { logger: context.logger, sink: sink.name, topicPrefix: context.topicPrefix });
  return withTransforms(created, transform, context);
}

/** Who and what this worker is, for /status and slotline_info: names, host and port, never a secret. */
function identityOf(config: SlotlineConfig, preflight: { database: string; serverVersion: string }): StatusIdentity {
  return {
    version: version(),
    config: { main: config.file, sinks: config.sinks.map((s) => (s as { file?: string }).file ?? s.name) },
    source: {
      server: describeTarget(config.source).replace(/\/[^/]*$/, ''),
      database: preflight.database,
      serverVersion: preflight.serverVersion,
      slot: config.source.slot,
      publication: config.source.publication,
      tables: config.source.tables ?? null,
    },
  };
}

/** Per-sink batching, index-aligned with buildSinks: a sink file may override the global settings (`batch:`). */
function batchingOf(config: SlotlineConfig, overrides: WorkerOverrides): SinkBatching[] {
  return [
    ...config.sinks.map((s) => sinkBatching(s, config.runtime)),
    ...(overrides.sinks ?? []).map(() => sinkBatching({}, config.runtime)),
  ];
}

export interface SinkBatching {
  maxEvents: number;
  maxBytes: number;
  lingerMs: number;
}

/** One sink file's batching: its `batch:` overrides over the global runtime settings. */
export function sinkBatching(sink: object, runtime: SlotlineConfig['runtime']): SinkBatching {
  const b = (sink as { batch?: { max_events?: number; max_bytes?: number; linger_ms?: number } }).batch ?? {};
  return {
    maxEvents: b.max_events ?? runtime.batch_max_events,
    maxBytes: b.max_bytes ?? runtime.batch_max_bytes,
    lingerMs: b.linger_ms ?? runtime.linger_ms,
  };
}

/**
 * A sink's own operator errors carry their hint. Anything else at start (the
 * server refused or timed out) would be retried later in a running pipeline;
 * at start it stops slotline — as an unreachable PostgreSQL does — with a
 * hint, before the slot exists. `again`: what the operator runs again
 * (a replay or a drill is not a start of slotline).
 */
export function sinkStartError(name: string, type: string, err: unknown, again = 'start slotline again'): unknown {
  if (errorKind(err) === 'operator') return err;
  return new OperatorError(`sink "${name}" (${type}) cannot be reached at start: ${describeError(err)}`, {
    hint: `check that ${type} is running and that the address in the sink file is right; nothing was created in PostgreSQL, so ${again} once it is reachable`,
    cause: err,
  });
}

async function stopSinks(sinks: readonly Sink[], logger: Logger): Promise<void> {
  for (const sink of sinks) {
    await sink.stop().catch((err) => logger.warn({ sink: sink.name, err: describeError(err) }, 'sink did not stop cleanly'));
  }
}
