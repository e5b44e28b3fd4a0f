/**
 * The start of a worker with snapshots: decide (snapshot.mode), get the slot
 * and the snapshot readers ready, and hand the pipeline the step that reads
 * the tables before streaming.
 *
 * Order matters for "never silently partial": the state row is marked
 * running before the slot is created and marked done only after every sink
 * has written every read row. Streaming starts only after that, so the slot
 * has not moved when a crash interrupts the snapshot, and the next start
 * sees the running row and takes the snapshot again.
 */
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import type { SnapshotConfig } from '../config/snapshot-schema.ts';
import { OperatorError } from '../errors.ts';
import { formatLsn, ZERO_LSN, type Lsn } from '../lsn.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { formatTableName, type Queryable, type TableName } from '../source/pg-catalog.ts';
import { createSlotAdmin, slotMissing } from '../source/slot-admin.ts';
import { watchSlotCreation } from '../source/slot-creation-watch.ts';
import type { TypeCatalog } from '../source/type-catalog.ts';
import { decideSnapshot } from './snapshot-mode.ts';
import { stderrTerminal } from '../runtime/terminal.ts';
import { createSnapshotProgress, type SnapshotProgress } from './snapshot-progress.ts';
import { createSlotWithSnapshot, openSharedSnapshot, SlotExistsError, type SnapshotReaders } from './snapshot-readers.ts';
import { runSnapshot, type SnapshotFeed } from './snapshot-runner.ts';
import type { SnapshotState } from './snapshot-state.ts';
import { listSnapshotTables } from './snapshot-tables.ts';

export interface StartOptions {
  admin: Queryable;
  /** Connection settings for the snapshot readers and the replication connection that creates the slot. */
  connection: ClientConfig;
  slot: string;
  publication: string;
  /** source.create_slot: slotline may create the slot. */
  createSlot: boolean;
  /** source.failover: a slot this start creates is a failover slot (PostgreSQL 17+; preflight refused older servers). */
  failover?: boolean;
  serverMajor: number;
  snapshot: SnapshotConfig;
  /** The snapshot state table (snapshot.state_table). */
  state: SnapshotState;
  /** Whether slotline captures this table (source.tables) and some sink routes it. */
  routed: (table: TableName) => boolean | Promise<boolean>;
  catalog: TypeCatalog;
  normalize: NormalizeOptions;
  logger: Logger;
  /** Called as soon as this start has created the slot, with its consistent point (before anything else can fail). */
  onSlotCreated?: (consistentPoint: Lsn) => void;
}

export interface StartPlan {
  /** Where streaming starts: the slot's consistent point or confirmed position. */
  startLsn: Lsn;
  slotCreated: boolean;
  /** The snapshot step (or, for initial_only with nothing to read, an immediate stop). */
  beforeStreaming?: (feed: SnapshotFeed) => Promise<'stream' | 'stop'>;
  /** Snapshot progress counters, while and after a snapshot runs. */
  progress: SnapshotProgress | null;
  /** Releases the snapshot readers if the snapshot never ran. */
  close(): Promise<void>;
}

export async function prepareStart(options: StartOptions): Promise<StartPlan> {
  const { admin, logger, slot, snapshot: config } = options;
  const slotAdmin = createSlotAdmin(admin);
  const { state } = options;
  const existing = await slotAdmin.readSlot(slot);
  const initialRow = existing && config.mode !== 'no_data' ? await state.read(slot, 'initial') : null;
  const decision = decideSnapshot(config.mode, {
    slotExists: existing !== null,
    slotLost: existing !== null && (existing.walStatus === 'lost' || existing.invalidationReason !== null),
    initialState: initialRow?.status ?? null,
  });

  if (!decision.snapshot) {
    const watch = existing === null && options.createSlot ? watchSlotCreation({ connection: options.connection, slot, logger }) : null;
    const ensured = await slotAdmin.ensureSlot({ name: slot, create: options.createSlot, failover: options.failover }).finally(() => watch?.stop());
    if (ensured.created && ensured.consistentPoint !== undefined) options.onSlotCreated?.(ensured.consistentPoint);
    if (config.mode !== 'no_data') logger.info({ mode: config.mode, reason: decision.reason }, 'no snapshot');
    return {
      startLsn: ensured.consistentPoint ?? ensured.confirmedFlushLsn ?? ZERO_LSN,
      slotCreated: ensured.created,
      beforeStreaming: decision.stream ? undefined : async () => 'stop',
      progress: null,
      close: async () => undefined,
    };
  }

  // Taking an unfinished snapshot again is worth an operator's attention; a first snapshot is routine.
  const retaken = existing !== null && initialRow?.status === 'running';
  logger[retaken || decision.foreignSlot ? 'warn' : 'info']({ mode: config.mode, reason: decision.reason, startedAt: initialRow?.startedAt }, 'snapshot needed');
  const slotIsNew = existing === null || decision.dropSlot;
  if (slotIsNew && !options.createSlot) throw slotMissing(slot, (await admin.query('SELECT current_database() AS db')).rows[0].db);
  const only = config.tables ? new Set(config.tables) : null;
  const tables = await listSnapshotTables(admin, options.publication, async (t) => (only === null || only.has(`${t.schema}.${t.table}`)) && (await options.routed(t)));
  const readerCount = Math.min(config.max_connections, Math.max(1, tables.length));

  // Marked running before the slot exists: a crash from here on is seen at the next start.
  await state.begin(slot, 'initial', '', { mode: config.mode, tables: tables.map((t) => formatTableName(t)) });
  if (decision.dropSlot) {
    logger.warn({ slot, walStatus: existing?.walStatus, invalidationReason: existing?.invalidationReason }, 'dropping the invalidated slot (snapshot mode when_needed)');
    await admin.query('SELECT pg_drop_replication_slot($1)', [slot]);
  }

  let readers: SnapshotReaders;
  let startLsn: Lsn;
  let versionLsn: Lsn;
  if (slotIsNew) {
    let created;
    try {
      created = await createSlotWithSnapshot({
        connection: options.connection, slot, serverMajor: options.serverMajor, readers: readerCount, failover: options.failover === true, logger,
      });
    } catch (err) {
      if (err instanceof SlotExistsError) {
        throw new OperatorError(`${err.message}; is another slotline using slot "${slot}"?`, {
          hint: 'give each worker its own slot; restart this one once the other has finished creating it',
        });
      }
      throw err;
    }
    options.onSlotCreated?.(created.consistentPoint);
    readers = created.readers;
    startLsn = created.consistentPoint;
    // Every change the new slot streams lies past its restart position: reads carry it as their version.
    versionLsn = (await slotAdmin.readSlot(slot))?.restartLsn ?? startLsn;
  } else {
    const ensured = await slotAdmin.ensureSlot({ name: slot, create: false });
    startLsn = ensured.confirmedFlushLsn ?? ZERO_LSN;
    versionLsn = existing!.restartLsn ?? startLsn;
    readers = await openSharedSnapshot(options.connection, readerCount);
  }
  logger.info(
    { slot, created: slotIsNew, from: formatLsn(startLsn), tables: tables.length, connections: readers.clients.length },
    slotIsNew ? 'created slot with an exported snapshot' : 'snapshot of an existing slot',
  );

  const progress = createSnapshotProgress({
    logger,
    intervalMs: config.progress_interval_ms,
    terminal: stderrTerminal(),
  });
  const beforeStreaming = async (feed: SnapshotFeed): Promise<'stream' | 'stop'> => {
    const started = Date.now();
    let result;
    try {
      result = await runSnapshot({
        readers: readers.clients, tables, sourceLsn: startLsn, versionLsn, fetchSize: config.fetch_size,
        catalog: options.catalog, normalize: options.normalize, feed, progress, logger,
      });
    } finally {
      await readers.close();
    }
    if (result.complete) await feed.drained();
    if (!result.complete || feed.stopped) {
      logger.warn({ rows: result.rows }, 'snapshot interrupted: it is taken again at the next start');
      return 'stop';
    }
    await state.finish(slot, 'initial', '', result.rows);
    logger.info({ rows: result.rows, tables: result.tables, seconds: (Date.now() - started) / 1000 }, 'snapshot done');
    return decision.stream ? 'stream' : 'stop';
  };
  return { startLsn, slotCreated: slotIsNew, beforeStreaming, progress, close: () => readers.close() };
}
