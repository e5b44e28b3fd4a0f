/**
 * Re-snapshots of tables while the stream flows (`slotline snapshot`): the
 * coordinator that walks a table in key order, chunk by chunk, between WAL
 * marks (see incremental-windows.ts for why that is safe), and records each
 * finished chunk in the state table, so a restarted worker continues after
 * the last chunk every sink has written.
 *
 * Requests are rows of the state table (kind 'incremental', status running),
 * written by `slotline snapshot`, which also writes a signal message into the
 * WAL so that a running worker starts at once; a worker that starts finds
 * unfinished requests itself.
 */
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { describeError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { loadTableModel } from '../runtime/change-normalizer.ts';
import { parseTableName, quoteQualified, type Queryable, type TableName } from '../source/pg-catalog.ts';
import type { TypeCatalog } from '../source/type-catalog.ts';
import type { Tuple } from '../types.ts';
import { createWindowMarks, SNAPSHOT_PREFIX, type WindowMarks } from './incremental-windows.ts';
import type { SnapshotProgress } from './snapshot-progress.ts';
import { readerConfig, TEXT_TYPES } from './snapshot-readers.ts';
import type { SnapshotState, SnapshotStateRow } from './snapshot-state.ts';
import { listSnapshotTables } from './snapshot-tables.ts';

export interface IncrementalOptions {
  admin: Queryable;
  connection: ClientConfig;
  slot: string;
  publication: string;
  state: SnapshotState;
  catalog: TypeCatalog;
  normalize: NormalizeOptions;
  /** Sink indexes that route a table; the sinks' names, by index. */
  routes: (table: TableName) => readonly number[];
  sinkNames: readonly string[];
  chunkSize: number;
  /** Resolves once every sink has acknowledged everything up to `lsn`. */
  ackedThrough: (lsn: Lsn) => Promise<void>;
  progress: SnapshotProgress;
  logger: Logger;
}

export interface IncrementalSnapshots {
  readonly marks: WindowMarks;
  /** Runs requests until stop(); errors of one request are logged and it stays requested. */
  run(): Promise<void>;
  stop(): void;
}


export function createIncrementalSnapshots(options: IncrementalOptions): IncrementalSnapshots {
  const { logger, state, slot } = options;
  const session = Math.random().toString(36).slice(2, 10);
  let chunkNo = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  let onStop!: () => void;
  const stopSignal = new Promise<'stopped'>((resolve) => (onStop = () => resolve('stopped')));
  const marks = createWindowMarks({ normalize: options.normalize, onSignal: () => wake?.() });

  const emitMark = async (content: Record<string, string>): Promise<Lsn> => {
    const { rows } = await options.admin.query<{ lsn: string }>('SELECT pg_logical_emit_message(false, $1, $2)::text AS lsn', [SNAPSHOT_PREFIX, JSON.stringify(content)]);
    return parseLsn(rows[0].lsn);
  };

  const restartLsn = async (): Promise<Lsn> => {
    const { rows } = await options.admin.query<{ lsn: string | null }>('SELECT restart_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (!rows[0]?.lsn) throw new Error(`slot ${slot} has no restart position`);
    return parseLsn(rows[0].lsn);
  };

  const snapshotTable = async (request: SnapshotStateRow): Promise<void> => {
    const name = parseTableName(request.table);
    const [table] = await listSnapshotTables(options.admin, options.publication, (t) => t.schema === name.schema && t.table === name.table);
    if (!table) throw new Error(`table ${request.table} is not in publication ${options.publication}`);
    const model = await loadTableModel(options.catalog, table.relation, options.normalize);
    const keyColumns = model.keyColumns.map((i) => model.columns[i].name);
    if (keyColumns.length === 0) throw new Error(`table ${request.table} has no primary key or unique index: it cannot be read in key order`);
    const wantedSinks = (request.detail.sinks as string[] | null | undefined) ?? null;
    const routed = options.routes(name);
    const targets = wantedSinks === null ? routed : routed.filter((i) => wantedSinks.includes(options.sinkNames[i]));
    const where = typeof request.detail.where === 'string' && request.detail.where.trim() !== '' ? request.detail.where : null;

    const keyPositions = keyColumns.map((k) => table.relation.columns.findIndex((c) => c.name === k));
    const columns = table.relation.columns.map((c) => pg.escapeIdentifier(c.name)).join(', ');
    const keys = keyColumns.map((k) => pg.escapeIdentifier(k)).join(', ');
    const reader = new pg.Client(readerConfig(options.connection));
    reader.on('error', () => undefined);
    await reader.connect();
    let position = request.position;
    let rowsDone = request.rows;
    options.progress.tableStarted(request.table, table.estimatedRows);
    if (rowsDone > 0) options.progress.rowsRead(request.table, rowsDone);
    logger.info({ table: request.table, sinks: wantedSinks ?? 'all', where, resumeAfter: position, rowsDone }, 'incremental snapshot of table');
    try {
      while (!stopped) {
        const id = `${session}:${chunkNo++}`;
        const window = marks.add(id, model, targets);
        try {
          window.openLsn = await emitMark({ open: id });
          window.versionLsn = await restartLsn();
          const conditions = [
            ...(position === null ? [] : [`(${keys}) > (${position.map((_, i) => `$${i + 1}`).join(', ')})`]),
            ...(where === null ? [] : [`(${where})`]),
          ];
          const sql = `SELECT ${columns} FROM ${table.withChildren ? '' : 'ONLY '}${quoteQualified(name)}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${keys} LIMIT ${options.chunkSize}`;
          const { rows } = await reader.query<Tuple>({ text: sql, values: position ?? [], rowMode: 'array', types: TEXT_TYPES } as pg.QueryConfig);
          window.rows = rows;
          const closeLsn = await emitMark({ close: id });
          if ((await Promise.race([window.closed, stopSignal])) === 'stopped') return;
          if ((await Promise.race([options.ackedThrough(closeLsn), stopSignal])) === 'stopped') return;
          if (rows.length > 0) {
            const last = rows[rows.length - 1];
            position = keyPositions.map((i) => last[i] as string);
            rowsDone += rows.length;
            options.progress.rowsRead(request.table, rows.length);
          }
          if (rows.length < options.chunkSize) {
            await state.finish(slot, 'incremental', request.table, rowsDone);
            options.progress.tableDone(request.table);
            return;
          }
          await state.advance(slot, 'incremental', request.table, position, rowsDone);
          logger.debug({ table: request.table, chunk: id, rows: rows.length, close: formatLsn(closeLsn) }, 'chunk done');
        } finally {
          marks.drop(id);
        }
      }
    } finally {
      await reader.end().catch(() => undefined);
    }
  };

  return {
    marks,
    async run() {
      while (!stopped) {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        let requests: SnapshotStateRow[] = [];
        try {
          requests = (await state.list(slot, 'incremental')).filter((r) => r.status === 'running');
        } catch (err) {
          logger.warn({ err: describeError(err) }, 'cannot read snapshot requests');
        }
        for (const request of requests) {
          if (stopped) break;
          try {
            await snapshotTable(request);
          } catch (err) {
            if (!stopped) logger.error({ table: request.table, err: describeError(err) }, 'incremental snapshot failed; it stays requested and is retried');
          }
        }
        if (stopped) break;
        // Wait for a signal (or look again after a while: a request written while this worker was busy).
        await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, requests.length > 0 ? 5000 : 10_000).unref())]);
      }
    },
    stop() {
      stopped = true;
      onStop();
      wake?.();
    },
  };
}
