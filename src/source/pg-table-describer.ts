/**
 * One table's shape as the catalog has it now, for sinks that check their
 * settings against a table at start-up (SinkContext.describeTable): its
 * columns, the columns of its event key, and what its old rows carry (the
 * replica identity). Runs on the worker's admin pool, one query per call.
 */
import type { Queryable, TableName } from './pg-catalog.ts';

export type ReplicaIdentity = 'default' | 'full' | 'index' | 'nothing';

export interface TableDescription {
  /** Every column that is not dropped, in table order (generated columns included). */
  columns: string[];
  /**
   * The columns of change events' `key`, in key order: the primary key, else
   * the first unique index without expressions (by name) — the normalizer's
   * rule (type-catalog.ts). Empty when events have no key.
   */
  keyColumns: string[];
  replicaIdentity: ReplicaIdentity;
  /**
   * The columns an update's or delete's old row (`before`) carries: all of
   * them with `full`; the primary key (`default`) or the identity index
   * (`index`) otherwise; none with `nothing` or a `default` table without a
   * primary key. An update sends the old row only when one of these changed.
   */
  identityColumns: string[];
}

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', f: 'full', i: 'index', n: 'nothing' };

const DESCRIBE_SQL = `
SELECT c.relreplident::text AS replident,
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
       (SELECT json_agg(json_build_object('name', ic.relname, 'primary', i.indisprimary, 'ident', i.indisreplident,
                        'unique', i.indisunique, 'expr', i.indexprs IS NOT NULL OR 0 = ANY (i.indkey[0:i.indnkeyatts - 1]),
                        'columns', ARRAY(SELECT a.attname::text
                                           FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
                                           JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                          ORDER BY k.ord)) ORDER BY ic.relname)
          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisunique OR i.indisreplident)) AS indexes
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`;

interface IndexRow {
  name: string;
  primary: boolean;
  ident: boolean;
  unique: boolean;
  expr: boolean;
  columns: string[];
}

/** `describeTable` on a connection or pool; null when no such table (or partitioned table) exists. */
export function createTableDescriber(db: Queryable): (name: TableName) => Promise<TableDescription | null> {
  return async (name) => {
    const { rows } = await db.query(DESCRIBE_SQL, [name.schema, name.table]);
    if (rows.length === 0) return null;
    const row = rows[0] as { replident: string; columns: string[]; indexes: IndexRow[] | null };
    const indexes = row.indexes ?? [];
    const primary = indexes.find((i) => i.primary);
    const unique = indexes.find((i) => !i.primary && i.unique && !i.expr);
    const replicaIdentity = IDENTITY[row.replident] ?? 'default';
    const identityColumns =
      replicaIdentity === 'full'
        ? row.columns
        : replicaIdentity === 'index'
          ? (indexes.find((i) => i.ident)?.columns ?? [])
          : replicaIdentity === 'default'
            ? (primary?.columns ?? [])
            : [];
    return { columns: row.columns, keyColumns: primary?.columns ?? unique?.columns ?? [], replicaIdentity, identityColumns };
  };
}
