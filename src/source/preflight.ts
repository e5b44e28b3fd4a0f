/**
 * Start-up checks: everything about the server, the role, the slot, the
 * publication and the tables that would otherwise fail later with a less
 * helpful message. Throws OperatorError (one line saying what is wrong, a hint
 * saying how to fix it) for the first blocking problem; returns warnings for
 * what works but may surprise (tables without a usable replica identity,
 * publications that differ from the config).
 *
 * Decisions:
 * - Runs before ensurePublication/ensureSlot and creates nothing; problems that
 *   creation would hit (no REPLICATION, slots exhausted, FOR ALL TABLES without
 *   superuser) are reported here first.
 * - An unreachable server is an OperatorError here, although the runtime treats
 *   a lost connection as retryable: at start it is far more often a wrong host or
 *   port than an outage, and a container restart policy covers "Postgres is still
 *   booting". The error's `cause` keeps the socket error code.
 * - A slot held by another live process is an error: two workers on one slot
 *   would each see a share of the stream and confirm each other's positions.
 */
import pg from 'pg';
import { OperatorError } from '../errors.ts';
import { answeredByProxy, connectError, target } from './connect-errors.ts';
import { checkFailoverSupported, standbySlotsWarning } from './failover-checks.ts';
import { describeTables, displayIdent, formatTableName, parseTableName, type TableFacts, type TableName } from './pg-catalog.ts';
import {
  checkSlotName,
  comparePublication,
  createSlotAdmin,
  maxSlotsError,
  publicationLacksTables,
  publicationMissing,
  slotMissing,
  slotProblem,
  type PublicationInfo,
  type PublicationSpec,
  type Queryable,
  type SlotInfo,
  type SlotSpec,
} from './slot-admin.ts';

export interface PreflightInput {
  /** The normal connection settings (host, port, user, password, database, ssl …). */
  connection: pg.ClientConfig;
  slot: SlotSpec;
  /** An invalidated slot is acceptable: the caller drops and recreates it (snapshot mode when_needed). */
  slotMayBeLost?: boolean;
  publication: PublicationSpec;
  /**
   * `schema.table` names some sink routes; checked for existence and replica
   * identity. Defaults to publication.tables, or every published table for FOR ALL TABLES.
   */
  tables?: string[];
  /** The snapshot state table (snapshot.state_table), when this start may write it: the role must be able to. */
  stateTable?: TableName;
  /** A slot another process streams: an error (default), or reported in `slotHolder` (a hot standby waits for it). */
  slotInUse?: 'fail' | 'report';
}

export interface PreflightResult {
  warnings: string[];
  serverVersion: string;
  serverMajor: number;
  database: string;
  /** The slot as found (null: it will be created). */
  slot: SlotInfo | null;
  /** Who streams the slot now (`PID 123, application_name "slotline"`), with slotInUse 'report'; else null. */
  slotHolder: string | null;
  publication: PublicationInfo | null;
}

const MIN_MAJOR = 12; // pg_partition_ancestors; pgoutput itself needs 10

export async function runPreflight(input: PreflightInput): Promise<PreflightResult> {
  checkSlotName(input.slot.name);
  const client = await connect(input.connection, false);
  try {
    const server = await readServer(client);
    checkServer(server, target(input.connection));
    checkFailoverSupported(input.slot.failover, server, target(input.connection));
    await checkReplicationConnection(input.connection, answeredByProxy(client, server.backendPid));

    const admin = createSlotAdmin(client);
    const slot = await admin.readSlot(input.slot.name);
    await checkSlot(client, input.slot, slot, server.database, input.slotMayBeLost === true);
    const slotHolder = slot?.active ? await describeHolder(client, slot) : null;
    if (slotHolder !== null && input.slotInUse !== 'report') throw slotInUse(slot!.name, slotHolder, slot!.activePid);

    const publication = await admin.readPublication(input.publication.name);
    if (!publication && !input.publication.create) throw publicationMissing(input.publication, server.database);
    if (!publication && input.publication.all && !server.superuser) {
      throw new OperatorError(`cannot create publication "${input.publication.name}" FOR ALL TABLES: role "${server.user}" is not a superuser`, {
        hint: `have a superuser run CREATE PUBLICATION ${displayIdent(input.publication.name)} FOR ALL TABLES; or list the tables to publish`,
        permanent: true,
      });
    }
    const warnings = await checkTables(client, input, publication, server.database);
    const standbys = await standbySlotsWarning(client, input.slot.failover, server.major);
    if (standbys) warnings.push(standbys);
    if (input.stateTable) await checkStateTable(client, input.stateTable, server.user);
    return { warnings, serverVersion: server.version, serverMajor: server.major, database: server.database, slot, publication, slotHolder };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function checkServer(server: ServerFacts, where: string): void {
  if (server.major < MIN_MAJOR) {
    throw new OperatorError(`PostgreSQL ${server.version} at ${where} is too old; slotline needs ${MIN_MAJOR} or later`, {
      hint: 'upgrade PostgreSQL',
      permanent: true,
    });
  }
  if (server.walLevel !== 'logical') {
    throw new OperatorError(`wal_level is "${server.walLevel}" on ${where}; logical decoding needs wal_level = logical`, {
      hint: 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (RDS/Aurora: rds.logical_replication = 1; Cloud SQL: cloudsql.logical_decoding = on)',
      permanent: true,
    });
  }
  if (!server.canReplicate) {
    throw new OperatorError(`role "${server.user}" may not stream changes: it has neither the REPLICATION attribute nor superuser`, {
      hint: `ALTER ROLE ${displayIdent(server.user)} REPLICATION; (RDS/Aurora: GRANT rds_replication TO ${displayIdent(server.user)})`,
      permanent: true,
    });
  }
}

/** Existence of every configured table, publication coverage, replica identity. Returns the warnings. */
async function checkTables(db: Queryable, input: PreflightInput, publication: PublicationInfo | null, database: string): Promise<string[]> {
  const spec = input.publication;
  const published = (spec.tables ?? []).map(parseTableName);
  const routed = (input.tables ?? spec.tables ?? []).map(parseTableName);
  const facts = await describeTables(db, uniqueNames([...published, ...routed]), publication?.name ?? null);
  checkTablesExist(facts, database);

  const warnings: string[] = [];
  if (publication) {
    const coverage = await comparePublication(db, publication, spec);
    warnings.push(...coverage.warnings);
    if (coverage.missing.length > 0) {
      if (!spec.create) throw publicationLacksTables(publication.name, coverage.missing);
      warnings.push(`publication "${publication.name}" lacks ${coverage.missing.map(formatTableName).join(', ')}: slotline will add ${pronoun(coverage.missing)}`);
    }
  }
  const routedFacts = facts.filter((f) => routed.some((r) => sameTable(r, f)));
  // What the publication will carry once ensurePublication has run.
  const carried = (t: TableName): boolean =>
    publication?.allTables === true || facts.some((f) => sameTable(f, t) && f.published) ||
    (spec.create && (spec.all === true || published.some((p) => sameTable(p, t))));
  const notCarried = routedFacts.filter((f) => !carried(f));
  if (notCarried.length > 0) {
    const it = pronoun(notCarried);
    warnings.push(
      `publication "${spec.name}" does not carry ${notCarried.map(formatTableName).join(', ')}, which sinks route: no events will arrive for ${it}; add ${it} to the publication's tables`,
    );
  }
  const identityChecked = (input.tables ?? spec.tables) !== undefined
    ? routedFacts
    : await describeTables(db, await publishedTables(db, publication), publication?.name ?? null);
  // A publication slotline creates publishes every operation.
  const blocksWrites = publication ? publication.publishes.update || publication.publishes.delete : true;
  warnings.push(...identityWarnings(identityChecked, spec.name, blocksWrites));
  return warnings;
}

/** The state table is written at the first snapshot: a missing privilege must show now, before the slot exists. */
async function checkStateTable(db: Queryable, table: TableName, user: string): Promise<void> {
  const name = formatTableName(table);
  const { rows } = await db.query<{ exists: boolean; schema_exists: boolean; can_create: boolean; can_write: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $2) AS schema_exists,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $2 AND has_schema_privilege(oid, 'CREATE')) AS can_create,
            to_regclass($1) IS NOT NULL AND has_table_privilege(to_regclass($1), 'SELECT, INSERT, UPDATE') AS can_write`,
    [name, table.schema],
  );
  const facts = rows[0];
  const role = displayIdent(user);
  if (facts.exists && !facts.can_write) {
    throw new OperatorError(`role "${user}" may not write the snapshot state table ${name}`, {
      hint: `GRANT SELECT, INSERT, UPDATE ON ${name} TO ${role}; or set snapshot.state_table to a table the role owns`,
      permanent: true,
    });
  }
  if (!facts.exists && !facts.schema_exists) {
    throw new OperatorError(`schema "${table.schema}" of the snapshot state table ${name} does not exist`, {
      hint: `CREATE SCHEMA ${displayIdent(table.schema)} AUTHORIZATION ${role}; or set snapshot.state_table to a table in an existing schema`,
      permanent: true,
    });
  }
  if (!facts.exists && !facts.can_create) {
    throw new OperatorError(`role "${user}" may not create the snapshot state table ${name}: no CREATE privilege on schema ${displayIdent(table.schema)}`, {
      hint: `GRANT CREATE ON SCHEMA ${displayIdent(table.schema)} TO ${role}; (PostgreSQL 15+ no longer grants it on public to everyone) or set snapshot.state_table to a table in a schema the role may create in`,
      permanent: true,
    });
  }
}

const sameTable = (a: TableName, b: TableName): boolean => a.schema === b.schema && a.table === b.table;
const pronoun = (list: unknown[]): string => (list.length > 1 ? 'them' : 'it');

interface ServerFacts {
  version: string;
  major: number;
  walLevel: string;
  user: string;
  database: string;
  superuser: boolean;
  canReplicate: boolean;
  backendPid: number;
}

async function readServer(db: Queryable): Promise<ServerFacts> {
  const { rows } = await db.query(
    `SELECT current_setting('server_version') AS version,
            current_setting('server_version_num')::int AS num,
            current_setting('wal_level') AS wal_level,
            current_user AS "user", current_database() AS database, pg_backend_pid() AS backend_pid,
            r.rolsuper AS superuser,
            r.rolsuper OR r.rolreplication OR EXISTS (
              SELECT 1 FROM pg_roles g
               WHERE g.rolname IN ('rds_replication', 'rds_superuser') AND pg_has_role(r.oid, g.oid, 'MEMBER')
            ) AS can_replicate
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const r = rows[0];
  return {
    version: r.version,
    major: Math.floor(r.num / 10000),
    walLevel: r.wal_level,
    user: r.user,
    database: r.database,
    superuser: r.superuser,
    canReplicate: r.can_replicate,
    backendPid: r.backend_pid,
  };
}

async function checkSlot(db: Queryable, spec: SlotSpec, slot: SlotInfo | null, database: string, mayBeLost: boolean): Promise<void> {
  if (slot) {
    const lost = slot.walStatus === 'lost' || slot.invalidationReason !== null;
    const problem = mayBeLost && lost ? null : slotProblem(slot, database);
    if (problem) throw problem;
    return;
  }
  if (!spec.create) throw slotMissing(spec.name, database, spec.failover);
  const { rows } = await db.query(
    `SELECT current_setting('max_replication_slots')::int AS max,
            (SELECT count(*)::int FROM pg_replication_slots) AS used,
            ARRAY(SELECT slot_name::text FROM pg_replication_slots WHERE NOT active ORDER BY slot_name) AS inactive`,
  );
  if (rows[0].used >= rows[0].max) throw maxSlotsError(spec.name, rows[0].max, rows[0].inactive);
}

/** `PID 123, application_name "slotline", client 10.0.0.5`: who streams an active slot. */
export async function describeHolder(db: Queryable, slot: Pick<SlotInfo, 'activePid'>): Promise<string> {
  // Without pg_read_all_stats, another role's session shows nulls here: say only what we know.
  const { rows } = await db.query(
    `SELECT application_name, host(client_addr) AS client FROM pg_stat_activity WHERE pid = $1`,
    [slot.activePid],
  );
  const details = [`PID ${slot.activePid}`];
  if (rows[0]?.application_name) details.push(`application_name "${rows[0].application_name}"`);
  if (rows[0]?.client) details.push(`client ${rows[0].client}`);
  return details.join(', ');
}

function slotInUse(name: string, holder: string, pid: number | null): OperatorError {
  return new OperatorError(`replication slot "${name}" is in use by another process (${holder})`, {
    hint: `stop the other consumer, or end its session with SELECT pg_terminate_backend(${pid}); two workers must not share a slot (to run this one as a hot standby: source.standby.enabled: true)`,
  });
}

export function checkTablesExist(facts: TableFacts[], database: string): void {
  const missing = facts.filter((f) => f.oid === null).map(formatTableName);
  if (missing.length > 0) {
    throw new OperatorError(`${missing.length > 1 ? 'tables' : 'table'} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist in database "${database}"`, {
      hint: 'create the table, or remove it from the configured tables (names are case-sensitive)',
    });
  }
  const notTables = facts.filter((f) => f.relkind !== 'r' && f.relkind !== 'p');
  if (notTables.length > 0) {
    const kinds: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index', c: 'a composite type' };
    const list = notTables.map((f) => `${formatTableName(f)} is ${kinds[f.relkind!] ?? `a relation of kind ${f.relkind}`}`).join('; ');
    throw new OperatorError(`${list}: logical replication streams only tables`, {
      hint: 'configure the underlying tables instead',
      permanent: true,
    });
  }
}

/** Its UPDATEs and DELETEs have no replica identity: no primary key or index to identify the old row, and not FULL. */
export function lacksReplicaIdentity(f: TableFacts): boolean {
  return f.replicaIdentity === 'n' || (f.replicaIdentity === 'd' && !f.hasPrimaryKey) || (f.replicaIdentity === 'i' && !f.hasIdentityIndex);
}

/** What `before` can hold for each table, when that is less than Debezium users expect. */
function identityWarnings(facts: TableFacts[], publication: string, blocksWrites: boolean): string[] {
  const consequence = blocksWrites
    ? `PostgreSQL rejects its UPDATEs and DELETEs while publication "${publication}" publishes them, and no "before" image or delete key can be sent`
    : 'updates and deletes carry no "before" image and deletes no key';
  const warnings: string[] = [];
  for (const f of facts.filter(lacksReplicaIdentity)) {
    const name = formatTableName(f);
    const fix = `fix: ALTER TABLE ${name} REPLICA IDENTITY FULL ("before" = the whole old row), or give it a primary key ("before" = the key columns on delete)`;
    if (f.replicaIdentity === 'n') {
      warnings.push(`table ${name} has REPLICA IDENTITY NOTHING: ${consequence}; ${fix}`);
    } else if (f.replicaIdentity === 'd') {
      warnings.push(`table ${name} has no primary key and REPLICA IDENTITY DEFAULT, so no replica identity: ${consequence}; ${fix}`);
    } else {
      warnings.push(`table ${name} has REPLICA IDENTITY USING INDEX but that index is gone: ${consequence}; ${fix}`);
    }
  }
  return warnings;
}

async function publishedTables(db: Queryable, publication: PublicationInfo | null): Promise<TableName[]> {
  if (!publication) return [];
  const { rows } = await db.query(
    'SELECT schemaname AS schema, tablename AS table FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
    [publication.name],
  );
  return rows;
}

function uniqueNames(names: TableName[]): TableName[] {
  return names.filter((n, i) => names.findIndex((m) => sameTable(m, n)) === i);
}

/**
 * The replication path itself: pg_hba, max_wal_senders, the walsender
 * permission and a pooler in the path are found only here. `proxied`: the
 * ordinary connection was answered by something other than the backend.
 */
async function checkReplicationConnection(connection: pg.ClientConfig, proxied: boolean): Promise<void> {
  const client = await connect(connection, true, proxied);
  try {
    await client.query('IDENTIFY_SYSTEM');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(connection: pg.ClientConfig, replication: boolean, proxied = false): Promise<pg.Client> {
  const client = new pg.Client({
    connectionTimeoutMillis: 10_000,
    ...connection,
    ...(replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig);
  client.on('error', () => undefined); // a dropped idle connection: the next query reports it
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectError(err, connection, replication, proxied);
  }
}
