/**
 * From a loaded config to a streaming pipeline: preflight, publication and
 * slot, catalog, normalizer, sinks, router. `slotline run`, the demo, the
 * benchmark and the end-to-end tests all start slotline through here.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { sinkPlugin } from '../../connectors/index.ts';
import { normalizeOptionsOf } from '../config/main-schema.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import { createRouter } from '../route/router.ts';
import { runPreflight } from '../source/preflight.ts';
import { createReplicationStream } from '../source/replication-stream.ts';
import { createSlotAdmin } from '../source/slot-admin.ts';
import { createTableDescriber } from '../source/pg-table-describer.ts';
import { createTypeCatalog } from '../source/type-catalog.ts';
import type { Sink } from '../sink.ts';
import { prepareStart, type StartPlan } from '../snapshot/initial-snapshot.ts';
import { createIncrementalSnapshots } from '../snapshot/incremental-snapshot.ts';
import { createSnapshotProgress } from '../snapshot/snapshot-progress.ts';
import { createSnapshotState } from '../snapshot/snapshot-state.ts';
import { parseTableName } from '../source/pg-catalog.ts';
import type { Op } from '../types.ts';
import { HEARTBEAT_PREFIX } from './change-router.ts';
import { createChangeNormalizer } from './change-normalizer.ts';
import { pgClientConfig } from './pg-connection.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';

export interface Worker {
  readonly pipeline: Pipeline;
  /** Streams until stop() (resolves) or a fatal error (rejects). */
  run(): Promise<void>;
  stop(reason?: string): Promise<void>;
}

export interface WorkerOverrides {
  /** Extra sinks built by the caller (tests, benchmark), added to the configured ones. */
  sinks?: Sink[];
  /** Wraps each configured sink (e.g. the benchmark times its acknowledgements). */
  wrapSink?: (sink: Sink) => Sink;
}

export async function startWorker(config: SlotlineConfig, logger: Logger, overrides: WorkerOverrides = {}): Promise<Worker> {
  const source = config.source;
  const connection = pgClientConfig(source);
  const publication = { name: source.publication, create: source.create, tables: source.tables, all: source.tables === undefined };
  const slotSpec = { name: source.slot, create: source.create };

  const preflight = await runPreflight({ connection, slot: slotSpec, slotMayBeLost: config.snapshot.mode === 'when_needed', publication });
  for (const warning of preflight.warnings) logger.warn(warning);

  // A pool (of two) rather than one client: catalog look-ups and heartbeats must
  // survive a dropped connection without restarting the worker.
  const admin = new pg.Pool({ ...pgClientConfig(source, 'slotline-admin'), max: 2 });
  admin.on('error', (err) => logger.warn({ err: err.message }, 'admin connection error'));
  const normalize = normalizeOptionsOf(config, preflight.database);
  const catalog = createTypeCatalog(admin);
  const sinkConfigs = config.sinks;
  // The snapshot state table's own changes never reach a sink, whatever the globs say.
  const stateTable = config.snapshot.state_table;
  const routes = [
    ...sinkConfigs.map((s) => ({ tables: s.tables, exclude_tables: [...s.exclude_tables, stateTable], messages: s.messages })),
    ...(overrides.sinks ?? []).map(() => ({ tables: ['*'], exclude_tables: [stateTable], messages: true })),
  ];
  const router = createRouter(routes);
  const snapshotState = createSnapshotState(admin, parseTableName(stateTable));
  let start: StartPlan;
  try {
    const slotAdmin = createSlotAdmin(admin);
    const pub = await slotAdmin.ensurePublication(publication);
    for (const warning of pub.warnings) logger.warn(warning);
    if (pub.created) logger.info({ publication: source.publication }, 'created publication');
    if (pub.added.length > 0) logger.info({ publication: source.publication, added: pub.added }, 'added tables to publication');
    start = await prepareStart({
      admin,
      connection: pgClientConfig(source, 'slotline-snapshot'),
      slot: source.slot,
      publication: source.publication,
      createSlot: source.create,
      serverMajor: preflight.serverMajor,
      snapshot: config.snapshot,
      state: snapshotState,
      routed: (t) => router.sinksFor(t.schema, t.table).length > 0,
      catalog,
      normalize,
      logger,
    });
    logger.info({ slot: source.slot, created: start.slotCreated, from: formatLsn(start.startLsn), server: preflight.serverVersion }, start.slotCreated ? 'created slot' : 'resuming slot');
  } catch (err) {
    await admin.end().catch(() => undefined);
    throw err;
  }
  const startLsn = start.startLsn;

  const sinkContext = {
    logger,
    topicPrefix: config.topic_prefix,
    normalize,
    schemasEnable: config.schemas_enable,
    tombstonesOnDelete: config.tombstones_on_delete,
    describeTable: createTableDescriber(admin),
  };
  const sinks: Sink[] = [
    ...sinkConfigs.map((s) => {
      const sink = sinkPlugin(s.type).create(s, sinkContext);
      return overrides.wrapSink ? overrides.wrapSink(sink) : sink;
    }),
    ...(overrides.sinks ?? []),
  ];
  const runtime = config.runtime;
  // A sink file may override the global batching (`batch:` in its type's keys).
  type BatchOverride = { max_events?: number; max_bytes?: number; linger_ms?: number };
  const batching = [
    ...sinkConfigs.map((s): BatchOverride => (s as { batch?: BatchOverride }).batch ?? {}),
    ...(overrides.sinks ?? []).map((): BatchOverride => ({})),
  ].map((b) => ({
    maxEvents: b.max_events ?? runtime.batch_max_events,
    maxBytes: b.max_bytes ?? runtime.batch_max_bytes,
    lingerMs: b.linger_ms ?? runtime.linger_ms,
  }));
  let finished = false;
  const incremental = createIncrementalSnapshots({
    admin,
    connection: pgClientConfig(source, 'slotline-snapshot'),
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
    progress: createSnapshotProgress({ logger, intervalMs: config.snapshot.progress_interval_ms, terminal: null }),
    logger,
  });
  const pipeline = createPipeline({
    openStream: (handlers) =>
      createReplicationStream(
        { connection: pgClientConfig(source, 'slotline'), slot: source.slot, publication: source.publication, serverMajor: preflight.serverMajor, logger },
        handlers,
      ),
    sinks,
    batching,
    router,
    normalizer: createChangeNormalizer({ catalog, options: normalize, logger }),
    startLsn,
    skippedOperations: new Set<Op>(config.skipped_operations),
    maxInFlightBytes: runtime.max_in_flight_bytes,
    sinkRetry: runtime.retry,
    reconnect: source.reconnect,
    statusIntervalMs: source.status_interval_ms,
    heartbeat: async () => {
      await admin.query('SELECT pg_logical_emit_message(false, $1, $2)', [HEARTBEAT_PREFIX, '']);
    },
    heartbeatIntervalMs: source.heartbeat_interval_ms,
    shutdownTimeoutMs: runtime.shutdown_timeout_ms,
    logger,
    beforeStreaming: start.beforeStreaming,
    incremental,
  });

  return {
    pipeline,
    async run() {
      try {
        await pipeline.run();
      } finally {
        finished = true;
        await start.close();
        await admin.end().catch(() => undefined);
      }
    },
    stop: (reason) => pipeline.stop(reason),
  };
}
