/**
 * Which tables a snapshot reads, and each one's shape as pgoutput would
 * describe it (the Relation the normalizer builds its model from): the
 * publication's tables that a sink routes, with the columns the publication
 * sends (column lists on PG 15+; generated columns are not sent) and the
 * replica-identity key flags.
 */
import type { Queryable, TableName } from '../source/pg-catalog.ts';
import { formatTableName } from '../source/pg-catalog.ts';
import type { Relation, ReplicaIdentity } from '../types.ts';

export interface SnapshotTable extends TableName {
  relation: Relation;
  /** From the planner statistics (reltuples); null when the table was never analyzed. */
  estimatedRows: number | null;
  /** A partitioned table published via its root: read with its partitions. Otherwise ONLY this table. */
  withChildren: boolean;
}

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/**
 * The publication's tables in a stable order (schema, table), kept when
 * `wanted` says so. Reads plain catalogs, so it may run inside a snapshot
 * transaction: it then sees the tables as the snapshot does.
 */
export async function listSnapshotTables(
  db: Queryable, publication: string, wanted: (name: TableName) => boolean | Promise<boolean>,
): Promise<SnapshotTable[]> {
  const { rows } = await db.query<{ t: Record<string, any> }>(
    `SELECT to_jsonb(pt) AS t FROM pg_publication_tables pt WHERE pt.pubname = $1 ORDER BY pt.schemaname, pt.tablename`,
    [publication],
  );
  const tables: SnapshotTable[] = [];
  for (const { t } of rows) {
    const name = { schema: t.schemaname as string, table: t.tablename as string };
    if (!(await wanted(name))) continue;
    // attnames is the publication's column list (PG 15+); older servers publish every column.
    tables.push(await describe(db, name, (t.attnames as string[] | undefined) ?? null));
  }
  return tables;
}

async function describe(db: Queryable, name: TableName, published: string[] | null): Promise<SnapshotTable> {
  const { rows: rel } = await db.query<{ oid: number; relkind: string; relreplident: string; reltuples: number }>(
    `SELECT c.oid::int AS oid, c.relkind, c.relreplident, c.reltuples::float8 AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [name.schema, name.table],
  );
  if (rel.length === 0) throw new Error(`table ${formatTableName(name)} disappeared while the snapshot started`);
  const { oid, relkind, relreplident, reltuples } = rel[0];
  const { rows: columns } = await db.query<{ name: string; type: number; typmod: number; identity: boolean }>(
    `SELECT a.attname AS name, a.atttypid::int AS type, a.atttypmod AS typmod,
            COALESCE(a.attnum = ANY ((SELECT i.indkey::int2[] FROM pg_index i
                                       WHERE i.indrelid = a.attrelid
                                         AND CASE $2 WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident ELSE false END
                                       LIMIT 1)::int2[]), false) AS identity
       FROM pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`,
    [oid, relreplident],
  );
  const replicaIdentity = IDENTITY[relreplident] ?? 'default';
  const sent = published === null ? columns : columns.filter((c) => published.includes(c.name));
  return {
    ...name,
    relation: {
      relationId: oid,
      schema: name.schema,
      table: name.table,
      replicaIdentity,
      columns: sent.map((c) => ({ name: c.name, isKey: replicaIdentity === 'full' || c.identity, typeOid: c.type, typeMod: c.typmod })),
    },
    estimatedRows: reltuples >= 0 ? Math.round(reltuples) : null,
    withChildren: relkind === 'p',
  };
}
