/**
 * Type and table facts the normalizer needs beyond what pgoutput sends:
 * - types that are not built in (enums with their labels in enumsortorder
 *   order, domains with their base type and modifier, arrays of custom types,
 *   ranges, composites, extension types such as hstore/ltree/citext/vector);
 * - per table, NOT NULL flags, default expressions and the key columns
 *   (primary key, else the first unique index), which Debezium reads from JDBC
 *   metadata when a Relation message arrives.
 *
 * The runtime calls `resolve(oids)` and `resolveRelation(relation)` when a
 * Relation message arrives, before normalizing that table's rows; `lookup` is
 * then synchronous. Works with a pg.Client or a pg.Pool.
 */
import type pg from 'pg';
import type { RelationMeta } from '../normalize/table-model.ts';
import { builtinType, type PgTypeInfo, type PgTypeKind } from '../normalize/pg-types.ts';
import type { Relation } from '../types.ts';

/** What the catalog needs from a connection: a pg.Client or a pg.Pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface TypeCatalog {
  /**
   * Loads the non-built-in types among `oids` and the types they refer to
   * (array elements, domain bases). Custom types are re-read on every call, so
   * a Relation message after `ALTER TYPE … ADD VALUE` sees the new enum labels.
   */
  resolve(oids: readonly number[]): Promise<void>;
  /** A resolved or built-in type. Throws if `resolve` never saw the OID (a bug in the caller). */
  lookup(oid: number): PgTypeInfo;
  /**
   * NOT NULL flags, defaults and key columns of the Relation's table. Runs one
   * short read-only transaction on the connection (so the connection must not
   * be inside a transaction of its own).
   */
  resolveRelation(relation: Relation): Promise<RelationMeta>;
}

const KIND: Record<string, PgTypeKind> = { b: 'base', c: 'composite', d: 'domain', e: 'enum', p: 'pseudo', r: 'range', m: 'multirange' };

const TYPES_SQL = `
SELECT t.oid AS oid, t.typname AS name, n.nspname AS schema, t.typtype AS typtype, t.typcategory AS category,
       t.typelem AS elem, t.typlen AS len, t.typbasetype AS base, t.typtypmod AS typmod, t.typnotnull AS notnull,
       CASE WHEN t.typtype = 'e' THEN
         ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
       END AS labels
  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE t.oid = ANY($1::oid[])`;

// Default expressions are printed with the session's DateStyle/IntervalStyle/TimeZone:
// pin them to what the replication session uses, in one short read-only transaction.
const relationSql = (relid: number): string => `
BEGIN READ ONLY;
SET LOCAL DateStyle = 'ISO'; SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 3;
SELECT a.attname AS name,
       a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS notnull,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS def
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ${relid} AND a.attnum > 0 AND NOT a.attisdropped;
SELECT c.relname AS index_name, i.indisprimary AS is_primary,
       ARRAY(SELECT a.attname::text
               FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       i.indexprs IS NOT NULL OR 0 = ANY (i.indkey[0:i.indnkeyatts - 1]) AS has_expressions
  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = ${relid} AND (i.indisprimary OR i.indisunique)
 ORDER BY i.indisprimary DESC, c.relname;
COMMIT;`;

interface TypeRow {
  oid: number | string;
  name: string;
  schema: string;
  typtype: string;
  category: string;
  elem: number | string;
  len: number;
  base: number | string;
  typmod: number;
  notnull: boolean;
  labels: string[] | null;
}

export function createTypeCatalog(client: Queryable): TypeCatalog {
  const custom = new Map<number, PgTypeInfo>();

  const toInfo = (r: TypeRow): PgTypeInfo => {
    const elem = Number(r.elem);
    // Real arrays are varlena with an element type; point/int2vector-like types have typelem too.
    const isArray = r.category === 'A' && elem !== 0 && r.len === -1;
    return {
      oid: Number(r.oid),
      name: r.name,
      schema: r.schema,
      kind: isArray ? 'array' : (KIND[r.typtype] ?? 'base'),
      category: r.category,
      elementOid: isArray ? elem : 0,
      baseOid: r.typtype === 'd' ? Number(r.base) : 0,
      baseTypmod: r.typtype === 'd' ? r.typmod : -1,
      notNull: r.typtype === 'd' && r.notnull,
      ...(r.labels === null ? {} : { enumValues: r.labels }),
    };
  };

  return {
    async resolve(oids) {
      let pending = [...new Set(oids)].filter((oid) => builtinType(oid) === undefined);
      const seen = new Set<number>();
      while (pending.length > 0) {
        for (const oid of pending) seen.add(oid);
        const { rows } = await client.query<TypeRow>(TYPES_SQL, [pending]);
        const next: number[] = [];
        for (const row of rows) {
          const info = toInfo(row);
          custom.set(info.oid, info);
          for (const ref of [info.elementOid, info.baseOid]) {
            if (ref !== 0 && builtinType(ref) === undefined && !seen.has(ref)) next.push(ref);
          }
        }
        const missing = pending.filter((oid) => !custom.has(oid));
        if (missing.length > 0) throw new Error(`type OID(s) ${missing.join(', ')} not found in pg_type (dropped while streaming?)`);
        pending = [...new Set(next)];
      }
    },

    lookup(oid) {
      const info = builtinType(oid) ?? custom.get(oid);
      if (info === undefined) throw new Error(`type OID ${oid} was not resolved: call resolve() with the Relation's column types first`);
      return info;
    },

    async resolveRelation(relation) {
      const relid = relation.relationId;
      if (!Number.isInteger(relid) || relid <= 0) throw new Error(`bad relation id ${relid}`);
      const results = (await client.query(relationSql(relid))) as unknown as pg.QueryResult[];
      const columnsResult = results.find((r) => r.command === 'SELECT' && r.fields.some((f) => f.name === 'notnull'));
      const keysResult = results.find((r) => r.command === 'SELECT' && r.fields.some((f) => f.name === 'is_primary'));
      if (columnsResult === undefined || keysResult === undefined) throw new Error('unexpected catalog query result');
      const columns = new Map<string, { notNull: boolean; defaultExpression: string | null }>();
      for (const row of columnsResult.rows) columns.set(row.name, { notNull: row.notnull, defaultExpression: row.def });
      const indexes = keysResult.rows as { index_name: string; is_primary: boolean; columns: string[]; has_expressions: boolean }[];
      const primary = indexes.find((i) => i.is_primary);
      const unique = indexes.find((i) => !i.is_primary && !i.has_expressions);
      return { columns, keyColumns: primary?.columns ?? unique?.columns ?? [] };
    },
  };
}
