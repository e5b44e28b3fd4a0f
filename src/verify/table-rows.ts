/**
 * A table's rows for verify: in key order a page at a time (keyset
 * pagination, so each page is an index range scan and memory holds one page),
 * or by key for re-checks. Values come as the server's text, as pgoutput
 * sends them, and become events through the same normalizer the stream uses;
 * `xmin` tells whether a row is the same tuple version in two snapshots.
 */
import pg from 'pg';
import { OperatorError } from '../errors.ts';
import type { Lsn } from '../lsn.ts';
import { clockNs, normalizeRead } from '../normalize/change-events.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { TableModel } from '../normalize/table-model.ts';
import { TEXT_TYPES } from '../snapshot/snapshot-readers.ts';
import type { SnapshotTable } from '../snapshot/snapshot-tables.ts';
import { formatTableName, quoteQualified } from '../source/pg-catalog.ts';
import type { ChangeEvent, Row, Tuple } from '../types.ts';

/** A table being verified: its shape as the publication sends it, and the model the normalizer built. */
export interface VerifyTable {
  /** `schema.table` for people. */
  display: string;
  source: SnapshotTable;
  model: TableModel;
  /** Key column names, in key order (primary key, else the first unique index). */
  keyColumns: string[];
  /** Every column holding its unchanged-TOAST placeholder. */
  toast: Row;
}

export interface TableRow {
  /** The published columns' text, in Relation order. */
  tuple: Tuple;
  /** The key columns' text, in key order. */
  key: string[];
  /** The tuple version (transaction id that wrote it), as text. */
  xmin: string;
}

export function describeVerifyTable(source: SnapshotTable, model: TableModel): VerifyTable {
  const keyColumns = model.keyColumns.map((i) => model.columns[i].name);
  const display = formatTableName(source);
  if (keyColumns.length === 0) {
    throw new OperatorError(`table ${display} has no primary key or unique index, so verify cannot match its rows with the sink's entries`, {
      hint: 'add a primary key to the table, or leave it out with --tables',
    });
  }
  return { display, source, model, keyColumns, toast: Object.fromEntries(model.columns.map((c) => [c.name, c.toast])) };
}

/** The key as one string, for maps and for the report: the value for one column, a JSON array for several. */
export function keyText(key: readonly string[]): string {
  return key.length === 1 ? key[0] : JSON.stringify(key);
}

/** A row as the `op: r` event the sinks' mapping code takes, standing for the snapshot at `lsn`. */
export function rowEvent(table: VerifyTable, row: TableRow, normalize: NormalizeOptions, lsn: Lsn): ChangeEvent {
  const tx = { xid: null, commitTimeUs: clockNs() / 1000n, finalLsn: lsn, lastCommitLsn: null, origin: null };
  return normalizeRead(table.model, row.tuple, normalize, { tx, lsn }, 'true', lsn);
}

export interface RowReader {
  /** Up to `limit` rows after `after` (null: from the start), in key order. */
  page(client: pg.Client, after: readonly string[] | null, limit: number): Promise<TableRow[]>;
  /** The rows with these keys that exist, by keyText. */
  byKeys(client: pg.Client, keys: ReadonlyArray<readonly string[]>): Promise<Map<string, TableRow>>;
}

const BY_KEYS_CHUNK = 1000;

export function createRowReader(table: VerifyTable): RowReader {
  const columns = table.source.relation.columns.map((c) => pg.escapeIdentifier(c.name));
  const keys = table.keyColumns.map((k) => pg.escapeIdentifier(k));
  const from = `${table.source.withChildren ? '' : 'ONLY '}${quoteQualified(table.source)}`;
  const select = `SELECT ${[...columns, ...keys, 'xmin::text'].join(', ')} FROM ${from}`;
  const width = columns.length;
  const keyList = keys.join(', ');

  const run = async (client: pg.Client, text: string, values: unknown[]): Promise<TableRow[]> => {
    const { rows } = await client.query<Array<string | null>>({ text, values, rowMode: 'array', types: TEXT_TYPES } as pg.QueryConfig);
    return rows.map((r) => {
      const key = r.slice(width, width + keys.length);
      if (key.some((v) => v === null)) {
        throw new OperatorError(`table ${table.display} has a row whose key (${table.keyColumns.join(', ')}) holds NULL, so verify cannot read it in key order`, {
          hint: 'give the table a primary key (its unique index allows NULLs)',
        });
      }
      return { tuple: r.slice(0, width), key: key as string[], xmin: r[width + keys.length] as string };
    });
  };

  return {
    page(client, after, limit) {
      const where = after === null ? '' : ` WHERE (${keyList}) > (${after.map((_, i) => `$${i + 1}`).join(', ')})`;
      return run(client, `${select}${where} ORDER BY ${keyList} LIMIT ${limit}`, after === null ? [] : [...after]);
    },
    async byKeys(client, wanted) {
      const found = new Map<string, TableRow>();
      for (let start = 0; start < wanted.length; start += BY_KEYS_CHUNK) {
        const chunk = wanted.slice(start, start + BY_KEYS_CHUNK);
        const values: string[] = [];
        const tuples = chunk.map((key) => `(${key.map((v) => `$${values.push(v)}`).join(', ')})`);
        const rows = await run(client, `${select} WHERE (${keyList}) IN (${tuples.join(', ')})`, values);
        for (const row of rows) found.set(keyText(row.key), row);
      }
      return found;
    },
  };
}
