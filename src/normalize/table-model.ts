/**
 * One table at one Relation version: per-column converters and the Connect
 * schemas of its key, value and envelope (Debezium's TableSchemaBuilder).
 * Built once per Relation message, shared by every event of that table.
 */
import type { ColumnFacts, ConnectField, ConnectSchema, Relation, TableSchemas } from '../types.ts';
import { columnDefault } from './column-defaults.ts';
import { envelopeSchema, field, struct, withOptional } from './connect-schemas.ts';
import type { NormalizeOptions } from './options.ts';
import type { TypeLookup } from './pg-types.ts';
import { DEBEZIUM_FAILS, DEBEZIUM_NULL, strictFailure } from './strict-compat.ts';
import { mapColumnType } from './type-mapping.ts';

/**
 * What the catalog adds to a Relation message (src/source/type-catalog.ts,
 * `resolveRelation`). Debezium reads the same from JDBC metadata when a
 * Relation arrives.
 */
export interface RelationMeta {
  /** By column name: NOT NULL (attnotnull, or a NOT NULL domain) and the default expression (pg_get_expr), if any. */
  columns: ReadonlyMap<string, { notNull: boolean; defaultExpression: string | null }>;
  /**
   * Key columns in key order: the primary key, or else the first unique index
   * (by name) over plain columns, as Debezium picks them; empty for neither.
   */
  keyColumns: readonly string[];
}

export interface ColumnModel {
  name: string;
  /** Position in the Relation (and in the pgoutput tuples); in strict mode columns may be left out, so not the position in `columns`. */
  index: number;
  /** Declared type, for error messages. */
  typeName: string;
  field: ConnectField;
  /** Postgres text → Debezium value. Throws on text it cannot read. */
  convert: (text: string) => unknown;
  /** What SQL NULL becomes: null, or for a NOT NULL column the default / Debezium's type fallback. */
  nullValue: unknown;
  /** The unchanged-TOAST placeholder value; DEBEZIUM_FAILS in a required column where Debezium has none (strict mode). */
  toast: unknown;
}

export interface TableModel {
  relation: Relation;
  schemas: TableSchemas;
  columns: ColumnModel[];
  /** Indexes into `columns` (not the Relation's positions), in key-field order; empty when the table has no key. */
  keyColumns: number[];
  /** Where the key columns came from (for logs): the catalog, or the Relation's replica-identity flags. */
  keySource: 'catalog' | 'replica-identity' | 'none';
}

/** Debezium's topic-name sanitizer: characters outside [A-Za-z0-9._-] become '_'. */
export function topicStem(...parts: string[]): string {
  return parts.join('.').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 249);
}

/**
 * Without `meta` (no catalog access), optionality falls back to "replica
 * identity key columns are required, the rest optional" and the key to the
 * Relation's key flags (none for REPLICA IDENTITY FULL, where every column is
 * flagged): good enough, but not Debezium's schema. The runtime should pass meta.
 */
export function buildTableModel(relation: Relation, lookup: TypeLookup, options: NormalizeOptions, meta?: RelationMeta): TableModel {
  const stem = topicStem(options.topicPrefix, relation.schema, relation.table);
  const columns: ColumnModel[] = [];
  relation.columns.forEach((column, index) => {
    const declared = lookup(column.typeOid);
    const mapping = mapColumnType(column.typeOid, column.typeMod, lookup, options);
    if (mapping === undefined) return; // debezium_compat: strict, a type Debezium leaves out
    const info = meta?.columns.get(column.name);
    const notNull = info !== undefined ? info.notNull : column.isKey && relation.replicaIdentity !== 'full';
    const optional = mapping.alwaysOptional === true || !notNull;
    const defaultValue = mapping.via === 'debezium' ? columnDefault(info?.defaultExpression ?? null, declared, mapping.convert) : undefined;
    const schema: ConnectSchema = withOptional(mapping.schema, optional);
    const f = field(column.name, defaultValue === undefined ? schema : { ...schema, default: defaultValue });
    const nullValue = optional ? null : (defaultValue ?? mapping.fallback);
    columns.push({
      name: column.name,
      index,
      typeName: declared.name,
      field: f,
      convert: options.debeziumCompat === 'strict' ? settleStrict(mapping.convert, nullValue, optional, column.name, declared.name) : mapping.convert,
      nullValue,
      toast: optional && mapping.toast === DEBEZIUM_FAILS ? null : mapping.toast,
    });
  });

  // Key columns by name: in strict mode a key column of a type Debezium leaves out is left out of the key too.
  const position = new Map(columns.map((c, i) => [c.name, i]));
  let keyNames: readonly string[];
  let keySource: TableModel['keySource'];
  if (meta !== undefined) {
    // Key columns missing from this Relation (a DDL race) are left out, as Debezium does.
    keyNames = meta.keyColumns.filter((name) => relation.columns.some((c) => c.name === name));
    keySource = keyNames.length > 0 ? 'catalog' : 'none';
  } else if (relation.replicaIdentity !== 'full') {
    keyNames = relation.columns.filter((c) => c.isKey).map((c) => c.name);
    keySource = keyNames.length > 0 ? 'replica-identity' : 'none';
  } else {
    keyNames = [];
    keySource = 'none';
  }
  const keyColumns = keyNames.flatMap((name) => (position.has(name) ? [position.get(name)!] : []));

  const value = struct(`${stem}.Value`, true, columns.map((c) => c.field));
  // A table with key columns has a key schema, even if strict mode left none of them in it (Debezium's, too).
  const key = keyNames.length === 0 ? null : struct(`${stem}.Key`, false, keyColumns.map((i) => columns[i].field));
  return {
    relation,
    schemas: { topicStem: stem, key, value, envelope: envelopeSchema(stem, value), columns: columnFacts(relation, columns) },
    columns,
    keyColumns,
    keySource,
  };
}

/**
 * Strict mode: a converted DEBEZIUM_NULL becomes the column's NULL value, a
 * DEBEZIUM_FAILS null when the column is optional; in a required one the
 * stream stops, as Debezium's connector does.
 */
/** varchar(n) and char(n) keep n + 4 in atttypmod (VARHDRSZ); other types have no length. */
function columnFacts(relation: Relation, columns: readonly ColumnModel[]): Map<string, ColumnFacts> {
  return new Map(columns.map((c) => {
    const typeMod = relation.columns[c.index].typeMod;
    const sized = (c.typeName === 'varchar' || c.typeName === 'bpchar') && typeMod >= 4;
    return [c.name, { typeName: c.typeName, length: sized ? typeMod - 4 : -1 }];
  }));
}

function settleStrict(
  convert: (text: string) => unknown, nullValue: unknown, optional: boolean, column: string, typeName: string,
): (text: string) => unknown {
  return (text) => {
    const value = convert(text);
    if (value === DEBEZIUM_NULL) return nullValue;
    if (value !== DEBEZIUM_FAILS) return value;
    if (optional) return null;
    throw strictFailure(column, typeName, text);
  };
}
