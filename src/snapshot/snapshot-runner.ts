/**
 * Reads tables inside a shared snapshot and feeds their rows to the sinks as
 * `op: r` events, table by table, up to one table per reader connection.
 *
 * Memory stays bounded: a table is read through a cursor `fetchSize` rows at
 * a time, and every row waits until the pipeline's in-flight budget has room,
 * so the ceiling is passed by at most one row's events (a fetch's rows wait
 * as raw text, outside the budget). Each fetch ends with a chunk mark, so sinks that write whole
 * transactions (Redis) write chunk by chunk.
 *
 * `source.snapshot` follows Debezium: `first` on the very first row,
 * `first_in_data_collection` on the first row of each later table,
 * `last_in_data_collection` on a table's last row, `last` on the very last row,
 * `true` elsewhere. To know which row is last, each table's final row is held
 * back until another table yields a row (one row in memory).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Lsn } from '../lsn.ts';
import { clockNs, normalizeRead, type SnapshotMarker } from '../normalize/change-events.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { TableModel } from '../normalize/table-model.ts';
import { loadTableModel } from '../runtime/change-normalizer.ts';
import { formatTableName, quoteQualified } from '../source/pg-catalog.ts';
import type { TypeCatalog } from '../source/type-catalog.ts';
import type { ChangeEvent, Tuple } from '../types.ts';
import type { SnapshotProgress } from './snapshot-progress.ts';
import { TEXT_TYPES } from './snapshot-readers.ts';
import type { SnapshotTable } from './snapshot-tables.ts';

/** How snapshot events reach the sinks; the pipeline implements it. */
export interface SnapshotFeed {
  /** Queues an event on every sink that routes its table. */
  push(event: ChangeEvent): void;
  /** Ends a chunk: sinks may write (and whole-transaction sinks must write) what came before. */
  endChunk(lsn: Lsn): void;
  /** The in-flight ceiling is reached: push nothing more before room() resolves. */
  readonly full: boolean;
  /** Resolves when the in-flight budget has room again (at once when it has). */
  room(): Promise<void>;
  /** Resolves when every sink has written everything pushed so far. */
  drained(): Promise<void>;
  /** The pipeline is stopping (SIGTERM or a fatal sink error): read no further. */
  readonly stopped: boolean;
}

export interface SnapshotRunOptions {
  readers: readonly pg.Client[];
  tables: readonly SnapshotTable[];
  /** `source.lsn` of every read: the position the snapshot stands for. */
  sourceLsn: Lsn;
  /** The events' `lsn`: below every change the stream delivers afterwards (see normalizeRead). */
  versionLsn: Lsn;
  fetchSize: number;
  catalog: TypeCatalog;
  normalize: NormalizeOptions;
  feed: SnapshotFeed;
  progress: SnapshotProgress;
  logger: Logger;
}

export interface SnapshotResult {
  /** False when the pipeline stopped before every table was read. */
  complete: boolean;
  rows: number;
  tables: number;
}


export async function runSnapshot(options: SnapshotRunOptions): Promise<SnapshotResult> {
  const { feed, progress } = options;
  const queue = [...options.tables];
  let emitted = 0;
  let heldLast: HeldRow | null = null;
  let failure: unknown = null;

  const emit = (model: TableModel, tuple: Tuple, ctx: Ctx, marker: SnapshotMarker): void => {
    const final = emitted === 0 ? 'first' : marker;
    feed.push(normalizeRead(model, tuple, options.normalize, ctx, final, options.versionLsn));
    emitted++;
  };

  /** Another table has a row, so the held row is not the last of all. A table's only row counts as its first (Debezium's precedence). */
  const releaseHeld = (): void => {
    if (heldLast === null) return;
    emit(heldLast.model, heldLast.tuple, heldLast.ctx, heldLast.onlyRow ? 'first_in_data_collection' : 'last_in_data_collection');
    heldLast = null;
  };

  const readTable = async (client: pg.Client, table: SnapshotTable, cursor: string): Promise<void> => {
    const name = formatTableName(table);
    const model = await loadTableModel(options.catalog, table.relation, options.normalize);
    const startedUs = clockNs() / 1000n;
    const ctx: Ctx = {
      tx: { xid: null, commitTimeUs: startedUs, finalLsn: options.versionLsn, lastCommitLsn: null, origin: null },
      lsn: options.sourceLsn,
    };
    progress.tableStarted(name, table.estimatedRows);
    const columns = table.relation.columns.map((c) => pg.escapeIdentifier(c.name)).join(', ');
    const select = columns === '' ? 'SELECT' : `SELECT ${columns}`;
    await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select} FROM ${table.withChildren ? '' : 'ONLY '}${quoteQualified(table)}`);
    let previous: Tuple | null = null;
    let first = true;
    for (;;) {
      await feed.room();
      if (feed.stopped) return;
      const { rows } = await client.query<Tuple>({ text: `FETCH ${options.fetchSize} FROM ${cursor}`, rowMode: 'array', types: TEXT_TYPES } as pg.QueryConfig);
      if (rows.length === 0) break;
      for (const tuple of rows) {
        if (feed.full) await feed.room();
        if (feed.stopped) return;
        if (previous === null) releaseHeld(); // a row exists after the held one: it is not the last of all
        if (previous !== null) {
          emit(model, previous, ctx, first ? 'first_in_data_collection' : 'true');
          first = false;
        }
        previous = tuple;
      }
      progress.rowsRead(name, rows.length);
      feed.endChunk(options.versionLsn);
    }
    await client.query(`CLOSE ${cursor}`);
    if (previous !== null) {
      // This table's last row waits for the next table to finish: only then is it known whether it is the last of all.
      releaseHeld();
      heldLast = { model, tuple: previous, ctx, onlyRow: first };
      feed.endChunk(options.versionLsn);
    }
    progress.tableDone(name);
  };

  const reader = async (client: pg.Client, index: number): Promise<void> => {
    for (let n = 0; queue.length > 0 && failure === null && !feed.stopped; n++) {
      const table = queue.shift()!;
      try {
        await readTable(client, table, `slotline_snapshot_${index}_${n}`);
      } catch (err) {
        failure ??= err;
      }
    }
  };

  try {
    await Promise.all(options.readers.map((client, i) => reader(client, i)));
  } finally {
    progress.close();
  }
  if (failure !== null) throw failure;
  if (feed.stopped) return { complete: false, rows: emitted, tables: options.tables.length };
  const held = heldLast as HeldRow | null; // assigned inside the readers
  if (held !== null) {
    emit(held.model, held.tuple, held.ctx, 'last');
    feed.endChunk(options.versionLsn);
  }
  return { complete: true, rows: emitted, tables: options.tables.length };
}

interface HeldRow {
  model: TableModel;
  tuple: Tuple;
  ctx: Ctx;
  /** The table had this one row. */
  onlyRow: boolean;
}

interface Ctx {
  tx: { xid: null; commitTimeUs: bigint; finalLsn: Lsn; lastCommitLsn: null; origin: null };
  lsn: Lsn;
}
