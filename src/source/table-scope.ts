/**
 * Which tables slotline captures: exactly `source.tables` when it is set,
 * whatever else the publication carries. A publication is shared state — a
 * DBA or another consumer may have added tables to it — so the publication
 * decides what the server sends, and this scope decides what slotline keeps.
 * Without `source.tables` (FOR ALL TABLES) every table is captured.
 *
 * A partition belongs to the scope when its partitioned root (or any
 * ancestor) is listed: without `publish_via_partition_root` pgoutput names
 * the partition, not the table the config lists. That needs the catalog, so
 * a relation is resolved once, when its Relation message (or a snapshot's
 * table list) first names it, and answered from memory afterwards.
 */
import type { Queryable, TableName } from './pg-catalog.ts';
import { formatTableName, parseTableName } from './pg-catalog.ts';

export interface TableScope {
  /** True when every table is captured (no `source.tables`): nothing to look up. */
  readonly all: boolean;
  /**
   * Decides whether the relation is captured; call it for each Relation
   * message before its changes. Returns a promise only when the catalog must
   * be asked (a name not listed itself: is it a partition of a listed table?).
   */
  admit(relation: { relationId: number; schema: string; table: string }): Promise<void> | void;
  /** For a relation admit() has seen. */
  captured(relationId: number): boolean;
  /** The same question for a table by name (snapshots list tables by name). */
  includes(name: TableName): Promise<boolean>;
}

export function createTableScope(db: Queryable, tables: readonly string[] | undefined): TableScope {
  const listed = tables === undefined ? null : new Set(tables.map((t) => key(parseTableName(t))));
  const decided = new Map<number, boolean>();
  const listedNames = (): { schemas: string[]; names: string[] } => {
    const parsed = [...listed!].map((k) => JSON.parse(k) as [string, string]);
    return { schemas: parsed.map((p) => p[0]), names: parsed.map((p) => p[1]) };
  };

  /** Whether an ancestor of the relation (a partitioned table it belongs to) is listed. */
  const ancestorListed = async (relation: string, byOid: boolean): Promise<boolean> => {
    const { schemas, names } = listedNames();
    const target = byOid ? '$3::oid' : 'to_regclass($3)';
    const { rows } = await db.query<{ listed: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_partition_ancestors(${target}) a
           JOIN pg_class c ON c.oid = a.relid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN unnest($1::text[], $2::text[]) AS l(schema, name) ON l.schema = n.nspname AND l.name = c.relname
       ) AS listed`,
      [schemas, names, relation],
    );
    return rows[0]?.listed === true;
  };

  return {
    all: listed === null,
    admit(relation) {
      if (listed === null) return;
      if (listed.has(key(relation))) {
        decided.set(relation.relationId, true);
        return;
      }
      return ancestorListed(String(relation.relationId), true).then((yes) => void decided.set(relation.relationId, yes));
    },
    captured(relationId) {
      return listed === null || decided.get(relationId) === true;
    },
    async includes(name) {
      if (listed === null || listed.has(key(name))) return true;
      return ancestorListed(formatTableName(name), false);
    },
  };
}

const key = (name: TableName): string => JSON.stringify([name.schema, name.table]);
