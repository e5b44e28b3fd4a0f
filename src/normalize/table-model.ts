/**
 * One table at one Relation version: per-column converters and the Connect
 * schemas of its key, value and envelope (Debezium's TableSchemaBuilder).
 * Built once per Relation message, shared by every event of that table.
 */
import type { ConnectField, ConnectSchema, Relation, TableSchemas } from '../types.ts';
import { columnDefault } from './column-defaults.ts';
import { envelopeSchema, field, struct, withOptional } from './connect-schemas.ts';
import type { NormalizeOptions } from './options.ts';
import type { TypeLookup } from './pg-types.ts';
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
  /** Position in the Relation (and in the pgoutput tuples). */
  index: number;
  /** Declared type, for error messages. */
  typeName: string;
  field: ConnectField;
  /** Postgres text → Debezium value. Throws on text it cannot read. */
  convert: (text: string) => unknown;
  /** What SQL NULL becomes: null, or for a NOT NULL column the default / Debezium's type fallback. */
  nullValue: unknown;
  /** The unchanged-TOAST placeholder value. */
  toast: unknown;
}

export interface TableModel {
  relation: Relation;
  schemas: TableSchemas;
  columns: ColumnModel[];
  /** Indexes into `columns`, in key-field order; empty when the table has no key. */
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
  const columns: ColumnModel[] = relation.columns.map((column, index) => {
    const declared = lookup(column.typeOid);
    const mapping = mapColumnType(column.typeOid, column.typeMod, lookup, options);
    const info = meta?.columns.get(column.name);
    const notNull = info !== undefined ? info.notNull : column.isKey && relation.replicaIdentity !== 'full';
    const optional = mapping.alwaysOptional === true || !notNull;
    const defaultValue = mapping.via === 'debezium' ? columnDefault(info?.defaultExpression ?? null, declared, mapping.convert) : undefined;
    const schema: ConnectSchema = withOptional(mapping.schema, optional);
    const f = field(column.name, defaultValue === undefined ? schema : { ...schema, default: defaultValue });
    return {
      name: column.name,
      index,
      typeName: declared.name,
      field: f,
      convert: mapping.convert,
      nullValue: optional ? null : (defaultValue ?? mapping.fallback),
      toast: mapping.toast,
    };
  });

  let keyColumns: number[];
  let keySource: TableModel['keySource'];
  if (meta !== undefined) {
    const byName = new Map(columns.map((c) => [c.name, c.index]));
    // Key columns missing from this Relation (a DDL race) are left out, as Debezium does.
    keyColumns = meta.keyColumns.flatMap((name) => (byName.has(name) ? [byName.get(name)!] : []));
    keySource = keyColumns.length > 0 ? 'catalog' : 'none';
  } else if (relation.replicaIdentity !== 'full') {
    keyColumns = relation.columns.flatMap((c, i) => (c.isKey ? [i] : []));
    keySource = keyColumns.length > 0 ? 'replica-identity' : 'none';
  } else {
    keyColumns = [];
    keySource = 'none';
  }

  const value = struct(`${stem}.Value`, true, columns.map((c) => c.field));
  const key = keyColumns.length === 0 ? null : struct(`${stem}.Key`, false, keyColumns.map((i) => columns[i].field));
  return {
    relation,
    schemas: { topicStem: stem, key, value, envelope: envelopeSchema(stem, value) },
    columns,
    keyColumns,
    keySource,
  };
}
