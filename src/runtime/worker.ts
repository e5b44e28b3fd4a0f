/**
 * From a loaded config to a streaming pipeline: preflight, publication and
 * slot, catalog, normalizer, sinks, router. `slotline run`, the demo, the
 * benchmark and the end-to-end tests all start slotline through here.
 *
 * startWorker takes the whole config; the worker itself (startSourceWorker)
 * takes one source's plan and what it shares with the process
 * (./source-plan.ts), so several sources can each be started the same way.
 */
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { normalizeOptionsOf } from '../config/main-schema.ts';
import { formatRetention } from '../config/retention.ts';
import { attachOperations, startOperations, type Operations } from '../observe/operations.ts';
import type { StatusIdentity } from '../observe/status.ts';
import { createRewindTelemetry, createTelemetry, type Telemetry } from '../observe/telemetry.ts';
import { createRouter } from '../route/router.ts';
import { createIncrementalSnapshots } from '../snapshot/incremental-snapshot.ts';
import { createSnapshotProgress } from '../snapshot/snapshot-progress.ts';
import { createSnapshotState } from '../snapshot/snapshot-state.ts';
import { parseTableName } from '../source/pg-catalog.ts';
import type { PreflightResult } from '../source/preflight.ts';
import { createReplicationStream } from '../source/replication-stream.ts';
import { createRewindKeeper, type RewindKeeper } from '../source/rewind-keeper.ts';
import { createTableScope } from '../source/table-scope.ts';
import { createTypeCatalog } from '../source/type-catalog.ts';
import { version } from '../version.ts';
import { HEARTBEAT_PREFIX } from './change-router.ts';
import { createChangeNormalizer } from './change-normalizer.ts';
import { describeTarget } from './pg-connection.ts';
import type { PrimaryTarget } from './pg-primary.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';
import { batchingOf, buildSinks, sinkContextOf, sinkRoutesOf, sinkTypesOf } from './sink-set.ts';
import { startSinksAndSlot } from './slot-start.ts';
import { connectPrimary, preflightCheck, waitWhileSlotHeld } from './source-connect.ts';
import { sourcePlanOf, workerSharedOf, type SourcePlan, type WorkerOverrides, type WorkerShared } from './source-plan.ts';

export type { WorkerOverrides };

export interface Worker {
  readonly pipeline: Pipeline;
  /** What operators see: the HTTP listener (null with http.listen: false), /status, metrics. */
  readonly operations: Operations;
  /** Streams until stop() (resolves) or a fatal error (rejects). */
  run(): Promise<void>;
  stop(reason?: string): Promise<void>;
}

export async function startWorker(config: SlotlineConfig, logger: Logger, overrides: WorkerOverrides = {}): Promise<Worker> {
  return startSourceWorker(sourcePlanOf(config), workerSharedOf(config, logger, overrides));
}

/** One source's worker: `plan` is all it reads of the config; `shared` is what it has in common with the rest of the process. */
export async function startSourceWorker(plan: SourcePlan, shared: WorkerShared): Promise<Worker> {
  const { source, snapshot, runtime } = plan;
  const { logger, overrides } = shared;
  const primary = await connectPrimary(source, logger);
  const check = preflightCheck(source, snapshot, primary);
  let preflight = await check();

  const sinkTypes = sinkTypesOf(plan.sinks, overrides);
  const telemetry = createTelemetry({ sinks: sinkTypes, inFlightCeiling: runtime.max_in_flight_bytes });
  const observed = { telemetry, identity: identityOf(plan, shared.configFile, preflight), connection: primary.connection('slotline-monitor'), logger };
  const operations = overrides.operations
    ? attachOperations(overrides.operations.hub, overrides.operations.name, observed)
    : await startOperations({ http: shared.http, ...observed });
  try {
    preflight = await waitWhileSlotHeld(preflight, check, { source, primary, telemetry, logger, signal: overrides.signal });
  } catch (err) {
    await operations.stop();
    throw err;
  }
  for (const warning of preflight.warnings) logger.warn(warning);

  // A pool (of two) rather than one client: catalog look-ups and heartbeats must
  // survive a dropped connection without restarting the worker.
  const admin = primary.pool('slotline-admin', 2);
  admin.on('error', (err) => logger.warn({ err: err.message }, 'admin connection error'));
  const normalize = normalizeOptionsOf(plan.format, preflight.database);
  const catalog = createTypeCatalog(admin);
  const scope = createTableScope(admin, source.tables);
  const router = createRouter(sinkRoutesOf(plan.sinks, overrides, snapshot.state_table));
  const snapshotState = createSnapshotState(admin, parseTableName(snapshot.state_table));
  /** Start failed: nothing opened so far may outlive it. */
  const abandon = async (err: unknown): Promise<never> => {
    await admin.end().catch(() => undefined);
    await operations.stop();
    throw err;
  };
  const sinks = await buildSinks(plan.sinks, overrides, telemetry, sinkContextOf({ normalize, format: plan.format, admin, logger })).catch(abandon);
  const { plan: start, cleanUpFailedStart } = await startSinksAndSlot({
    source, snapshot, primary, admin, preflight, sinks, sinkTypes, telemetry,
    state: snapshotState,
    routed: async (t) => router.sinksFor(t.schema, t.table).length > 0 && (await scope.includes(t)),
    catalog,
    normalize,
    logger,
  }).catch(abandon);
  if (start.progress) telemetry.snapshots.push({ kind: 'initial', progress: start.progress });
  const keeper = startRewindKeeper(source, primary, telemetry, logger);

  let finished = false;
  const incrementalProgress = createSnapshotProgress({ logger, intervalMs: snapshot.progress_interval_ms, terminal: null });
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
    chunkSize: snapshot.chunk_size,
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
    batching: batchingOf(plan.sinks, overrides, runtime),
    router,
    scope,
    normalizer: createChangeNormalizer({ catalog, options: normalize, logger }),
    startLsn: start.startLsn,
    slotCreated: start.slotCreated,
    skippedOperations: plan.skippedOperations,
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
        if (failed) await cleanUpFailedStart({ acknowledged: pipeline.checkpointer.watermark(), confirmed: pipeline.checkpointer.confirmable(false) });
        await admin.end().catch(() => undefined);
        await operations.stop();
      }
    },
    stop: (reason) => pipeline.stop(reason),
  };
}

/** With `source.rewind`: keeps the rewind slot `retain` behind the main one (../source/rewind-keeper.ts). */
function startRewindKeeper(source: SourcePlan['source'], primary: PrimaryTarget, telemetry: Telemetry, logger: Logger): RewindKeeper | null {
  if (!source.rewind) return null;
  telemetry.rewind = createRewindTelemetry(source.rewind.slot, formatRetention(source.rewind.retain));
  const keeper = createRewindKeeper({ connection: primary.connection('slotline-rewind'), mainSlot: source.slot, rewind: source.rewind, telemetry: telemetry.rewind, logger });
  void keeper.tick();
  return keeper;
}

/** Who and what this worker is, for /status and slotline_info: names, host and port, never a secret. */
function identityOf(plan: SourcePlan, configFile: string, preflight: Pick<PreflightResult, 'database' | 'serverVersion'>): StatusIdentity {
  const { source } = plan;
  return {
    version: version(),
    config: { main: configFile, sinks: plan.sinks.map((s) => (s as { file?: string }).file ?? s.name) },
    source: {
      server: describeTarget(source).replace(/\/[^/]*$/, ''),
      database: preflight.database,
      serverVersion: preflight.serverVersion,
      slot: source.slot,
      publication: source.publication,
      tables: source.tables ?? null,
    },
  };
}
