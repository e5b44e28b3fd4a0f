/**
 * Table names as the config writes them, and what the catalog says about those
 * tables: existence, kind, replica identity, publication membership. Shared by
 * slot-admin (publication coverage) and preflight (existence, identity warnings).
 */
import pg from 'pg';
import { OperatorError } from '../errors.ts';

/** What the caller needs from a pg connection; a Client or a Pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface TableName {
  schema: string;
  table: string;
}

/**
 * `schema.table`, each part either bare or in double quotes ("" for a quote).
 * Bare parts are taken literally, without Postgres' lower-casing: config names
 * match catalog names exactly, as in Debezium's table.include.list.
 */
export function parseTableName(text: string): TableName {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw badTableName(text);
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        part += text[i++];
      }
      i++;
      if (i < text.length && text[i] !== '.') throw badTableName(text);
    } else {
      const dot = text.indexOf('.', i);
      part = text.slice(i, dot < 0 ? text.length : dot);
      i = dot < 0 ? text.length : dot;
    }
    if (part === '') throw badTableName(text);
    parts.push(part);
    i++; // past the dot (or the end)
  }
  if (parts.length !== 2) throw badTableName(text);
  return { schema: parts[0], table: parts[1] };
}

function badTableName(text: string): OperatorError {
  return new OperatorError(`"${text}" is not a schema-qualified table name`, {
    hint: 'write tables as schema.table (e.g. public.orders); double-quote a part that contains a dot: "my.schema".orders',
  });
}

const PLAIN = /^[a-z_][a-z0-9_$]*$/;

/** An identifier for messages and SQL hints: quoted only when it needs to be. */
export function displayIdent(name: string): string {
  return PLAIN.test(name) ? name : pg.escapeIdentifier(name);
}

/** `schema.table` for messages and SQL hints. */
export function formatTableName(name: TableName): string {
  return `${displayIdent(name.schema)}.${displayIdent(name.table)}`;
}

/** Always-quoted form, for SQL we execute. */
export function quoteQualified(name: TableName): string {
  return `${pg.escapeIdentifier(name.schema)}.${pg.escapeIdentifier(name.table)}`;
}

export interface TableFacts extends TableName {
  /** null when no such relation exists. */
  oid: number | null;
  /** pg_class.relkind: r table, p partitioned table, v view, m materialized view, f foreign table, … */
  relkind: string | null;
  /** pg_class.relreplident: d default, n nothing, f full, i index. */
  replicaIdentity: string | null;
  hasPrimaryKey: boolean;
  /** An index marked as replica identity exists (relevant when replicaIdentity is 'i'). */
  hasIdentityIndex: boolean;
  /** The publication carries its changes: listed itself, or (partitioned) through its partitions. */
  published: boolean;
}

/** Catalog facts for each name, in input order. `publication` may be null (then `published` is false). */
export async function describeTables(db: Queryable, names: TableName[], publication: string | null): Promise<TableFacts[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query(
    `SELECT w.schema, w.table, c.oid::int8 AS oid, c.relkind::text AS relkind, c.relreplident::text AS replident,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) AS has_ident_index,
            EXISTS (SELECT 1
                      FROM pg_publication_tables pt
                      JOIN pg_namespace pn ON pn.nspname = pt.schemaname
                      JOIN pg_class pc ON pc.relnamespace = pn.oid AND pc.relname = pt.tablename
                     WHERE pt.pubname = $3
                       AND (pc.oid = c.oid OR c.oid IN (SELECT relid FROM pg_partition_ancestors(pc.oid)))) AS published
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(schema, "table", ord)
       LEFT JOIN pg_namespace n ON n.nspname = w.schema
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.table
      ORDER BY w.ord`,
    [names.map((n) => n.schema), names.map((n) => n.table), publication],
  );
  return rows.map((r) => ({
    schema: r.schema,
    table: r.table,
    oid: r.oid === null ? null : Number(r.oid),
    relkind: r.relkind,
    replicaIdentity: r.replident,
    hasPrimaryKey: r.has_pk,
    hasIdentityIndex: r.has_ident_index,
    published: r.published,
  }));
}
