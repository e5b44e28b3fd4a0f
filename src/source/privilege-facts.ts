/**
 * What the catalog says about the privileges a config needs: the role, the
 * captured tables (and their leaf partitions, whose replica identity is the one
 * that counts), the publication, the snapshot state table and the slot. Read
 * in one READ ONLY transaction; nothing is created or changed.
 *
 * The SQL a DBA runs is derived from these facts (src/cli/explain-privileges.ts);
 * the rules are the preflight's (preflight.ts), so a config whose SQL was run
 * passes the preflight.
 */
import { OperatorError } from '../errors.ts';
import { checkTablesExist, lacksReplicaIdentity } from './preflight.ts';
import { describeTables, formatTableName, parseTableName, type Queryable, type TableFacts, type TableName } from './pg-catalog.ts';
import { comparePublication, createSlotAdmin, type PublicationSpec } from './slot-admin.ts';

export interface PrivilegeRequest {
  role: string;
  slot: { name: string; create: boolean; failover?: boolean };
  publication: PublicationSpec;
  stateTable: TableName;
}

export interface PrivilegeFacts {
  database: string;
  walLevel: string;
  /** The role as it exists now; null when it does not. */
  role: { name: string; canLogin: boolean; replication: boolean; superuser: boolean; rdsReplication: boolean } | null;
  roleName: string;
  /** The server has RDS's rds_replication role: REPLICATION comes from it, not from the attribute (no superuser there). */
  rds: boolean;
  /** The captured tables: the configured ones, or every user table for FOR ALL TABLES. */
  tables: TableName[];
  /**
   * The tables that hold the rows: each captured plain table, and the leaf
   * partitions of a partitioned one (the snapshot reads those directly, and
   * their own replica identity is the one that counts).
   */
  leaves: TableName[];
  /** Of the leaves, those whose UPDATEs and DELETEs would have no replica identity. */
  noIdentity: TableName[];
  publication: { name: string; all: boolean; exists: boolean; missing: TableName[] };
  stateTable: { name: TableName; exists: boolean; schemaExists: boolean };
  slot: { name: string; create: boolean; failover?: boolean; exists: boolean };
}

export async function readPrivilegeFacts(db: Queryable, request: PrivilegeRequest): Promise<PrivilegeFacts> {
  await db.query('BEGIN READ ONLY');
  try {
    return await readFacts(db, request);
  } finally {
    await db.query('ROLLBACK').catch(() => undefined);
  }
}

async function readFacts(db: Queryable, request: PrivilegeRequest): Promise<PrivilegeFacts> {
  const { rows } = await db.query(
    `SELECT current_database() AS database, current_setting('wal_level') AS wal_level,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') AS rds,
            (SELECT jsonb_build_object('canLogin', r.rolcanlogin, 'replication', r.rolreplication, 'superuser', r.rolsuper,
                                       'rdsReplication', EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'MEMBER')))
               FROM pg_roles r WHERE r.rolname = $1) AS role,
            to_regclass($2) IS NOT NULL AS state_exists,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $3) AS state_schema_exists,
            EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $4) AS slot_exists`,
    [request.role, formatTableName(request.stateTable), request.stateTable.schema, request.slot.name],
  );
  const server = rows[0];
  const spec = request.publication;
  const all = spec.all === true || spec.tables === undefined;
  const tables = all ? await userTables(db) : (spec.tables ?? []).map(parseTableName);
  const facts = await describeTables(db, tables, null);
  if (!all) checkTablesExist(facts, server.database);

  const admin = createSlotAdmin(db);
  const publication = await admin.readPublication(spec.name);
  const missing = publication && !all ? (await comparePublication(db, publication, { ...spec, all: false })).missing : [];
  const leafFacts = await describeTables(db, await leaves(db, facts), null);

  return {
    database: server.database,
    walLevel: server.wal_level,
    roleName: request.role,
    role: server.role ? { name: request.role, ...server.role } : null,
    rds: server.rds,
    tables,
    leaves: leafFacts.map(nameOf),
    noIdentity: leafFacts.filter(lacksReplicaIdentity).map(nameOf),
    publication: { name: spec.name, all, exists: publication !== null, missing },
    stateTable: { name: request.stateTable, exists: server.state_exists, schemaExists: server.state_schema_exists },
    slot: { ...request.slot, exists: server.slot_exists },
  };
}

/** Every table FOR ALL TABLES publishes: ordinary and partitioned tables outside the system schemas, not partitions themselves. */
async function userTables(db: Queryable): Promise<TableName[]> {
  const { rows } = await db.query<TableName>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
        AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  return rows;
}

/** The tables whose own replica identity decides: a plain table itself, a partitioned table's leaf partitions. */
async function leaves(db: Queryable, facts: TableFacts[]): Promise<TableName[]> {
  const oids = facts.flatMap((f) => (f.oid === null ? [] : [f.oid]));
  if (oids.length === 0) return [];
  // pg_partition_tree() lists nothing for a table outside a partition tree: such a table is its own leaf.
  const { rows } = await db.query<TableName>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS table
       FROM unnest($1::oid[]) AS t(oid)
       CROSS JOIN LATERAL (SELECT t.oid AS relid UNION SELECT p.relid FROM pg_partition_tree(t.oid) p WHERE p.isleaf) l
       JOIN pg_class c ON c.oid = l.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r'
      ORDER BY 1, 2`,
    [oids],
  );
  return rows;
}

const nameOf = (t: TableName): TableName => ({ schema: t.schema, table: t.table });

/** The role slotline logs in as, from the loaded config; a config without one cannot be explained. */
export function roleOf(user: string | undefined): string {
  if (user === undefined || user === '') {
    throw new OperatorError('the config names no PostgreSQL user, so there is no role to explain', {
      hint: 'set source.user, or the user part of source.url (postgres://slotline@host/db)',
    });
  }
  return user;
}
