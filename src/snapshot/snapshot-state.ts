/**
 * Where snapshot progress lives: one small table in the captured database
 * (`snapshot.state_table`). slotline has no offset store of its own — the slot
 * is its position — so whether an initial snapshot finished, and how far a
 * re-snapshot of a table got, is kept here, next to the data it describes.
 *
 * Rows: (slot, kind, table). `kind` 'initial' has one row per slot with
 * table '' (the snapshot as a whole); 'incremental' has one row per table.
 * The 'running' row of an initial snapshot is written *before* the slot is
 * created, so a crash at any later point is seen on restart.
 */
import pg from 'pg';
import { OperatorError } from '../errors.ts';
import { formatTableName, quoteQualified, type Queryable, type TableName } from '../source/pg-catalog.ts';
import { pgCode } from '../source/slot-admin.ts';

export type SnapshotKind = 'initial' | 'incremental';

export interface SnapshotStateRow {
  slot: string;
  kind: SnapshotKind;
  table: string;
  status: 'running' | 'done';
  /** Incremental: the key of the last row of the last finished chunk, as JSON text values; null before the first. */
  position: string[] | null;
  rows: number;
  /** Free-form facts for operators and resumption (e.g. the WHERE filter, the sinks). */
  detail: Record<string, unknown>;
  startedAt: Date;
  updatedAt: Date;
}

export interface SnapshotState {
  readonly table: TableName;
  /** The row, or null when there is none (or the state table does not exist yet). */
  read(slot: string, kind: SnapshotKind, table?: string): Promise<SnapshotStateRow | null>;
  /** Every row of this slot and kind. */
  list(slot: string, kind: SnapshotKind): Promise<SnapshotStateRow[]>;
  /** Creates the state table if needed and (re)starts a row as running with no progress. */
  begin(slot: string, kind: SnapshotKind, table: string, detail: Record<string, unknown>): Promise<void>;
  /** Records progress of a running row. */
  advance(slot: string, kind: SnapshotKind, table: string, position: string[] | null, rows: number): Promise<void>;
  finish(slot: string, kind: SnapshotKind, table: string, rows: number): Promise<void>;
}

export function createSnapshotState(db: Queryable, table: TableName): SnapshotState {
  const qualified = quoteQualified(table);
  let ensured = false;

  const ensure = async (): Promise<void> => {
    if (ensured) return;
    try {
      await db.query(`CREATE TABLE IF NOT EXISTS ${qualified} (
        slot_name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('initial', 'incremental')),
        table_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'done')),
        position jsonb,
        rows_read bigint NOT NULL DEFAULT 0,
        detail jsonb NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (slot_name, kind, table_name))`);
    } catch (err) {
      // Two workers racing on CREATE TABLE IF NOT EXISTS can collide on the type name.
      if (pgCode(err) !== '23505' && pgCode(err) !== '42P07') throw stateTableError(table, err);
    }
    ensured = true;
  };

  const select = async (where: string, values: unknown[]): Promise<SnapshotStateRow[]> => {
    try {
      const { rows } = await db.query(
        `SELECT slot_name, kind, table_name, status, position, rows_read, detail, started_at, updated_at FROM ${qualified} WHERE ${where} ORDER BY table_name`,
        values,
      );
      return rows.map((r) => ({
        slot: r.slot_name,
        kind: r.kind,
        table: r.table_name,
        status: r.status,
        position: r.position,
        rows: Number(r.rows_read),
        detail: r.detail,
        startedAt: r.started_at,
        updatedAt: r.updated_at,
      }));
    } catch (err) {
      if (pgCode(err) === '42P01') return []; // no state table yet: no state
      throw stateTableError(table, err);
    }
  };

  const write = async (sql: string, values: unknown[]): Promise<void> => {
    await ensure();
    try {
      await db.query(sql, values);
    } catch (err) {
      throw stateTableError(table, err);
    }
  };

  return {
    table,
    async read(slot, kind, name = '') {
      return (await select('slot_name = $1 AND kind = $2 AND table_name = $3', [slot, kind, name]))[0] ?? null;
    },
    list: (slot, kind) => select('slot_name = $1 AND kind = $2', [slot, kind]),
    begin: (slot, kind, name, detail) =>
      write(
        `INSERT INTO ${qualified} (slot_name, kind, table_name, status, position, rows_read, detail)
         VALUES ($1, $2, $3, 'running', NULL, 0, $4)
         ON CONFLICT (slot_name, kind, table_name) DO UPDATE
           SET status = 'running', position = NULL, rows_read = 0, detail = EXCLUDED.detail, started_at = now(), updated_at = now()`,
        [slot, kind, name, JSON.stringify(detail)],
      ),
    advance: (slot, kind, name, position, rows) =>
      write(
        `UPDATE ${qualified} SET position = $4, rows_read = $5, updated_at = now() WHERE slot_name = $1 AND kind = $2 AND table_name = $3`,
        [slot, kind, name, position === null ? null : JSON.stringify(position), rows],
      ),
    finish: (slot, kind, name, rows) =>
      write(
        `UPDATE ${qualified} SET status = 'done', rows_read = $4, updated_at = now() WHERE slot_name = $1 AND kind = $2 AND table_name = $3`,
        [slot, kind, name, rows],
      ),
  };
}

function stateTableError(table: TableName, err: unknown): Error {
  const code = pgCode(err);
  if (code === '42501' || code === '3F000' || code === '25006') {
    return new OperatorError(`cannot use the snapshot state table ${formatTableName(table)}: ${(err as Error).message}`, {
      hint: `grant slotline's role CREATE on schema ${pg.escapeIdentifier(table.schema)} (or create the table for it), or point snapshot.state_table at a schema it may write; snapshot mode no_data needs no state table`,
      cause: err,
      permanent: true,
    });
  }
  return err as Error;
}
