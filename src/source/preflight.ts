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
}

export interface PreflightResult {
  warnings: string[];
  serverVersion: string;
  serverMajor: number;
  database: string;
  /** The slot as found (null: it will be created). */
  slot: SlotInfo | null;
  publication: PublicationInfo | null;
}

const MIN_MAJOR = 12; // pg_partition_ancestors; pgoutput itself needs 10

export async function runPreflight(input: PreflightInput): Promise<PreflightResult> {
  checkSlotName(input.slot.name);
  const client = await connect(input.connection, false);
  try {
    const server = await readServer(client);
    checkServer(server, target(input.connection));
    await checkReplicationConnection(input.connection);

    const admin = createSlotAdmin(client);
    const slot = await admin.readSlot(input.slot.name);
    await checkSlot(client, input.slot, slot, server.database, input.slotMayBeLost === true);

    const publication = await admin.readPublication(input.publication.name);
    if (!publication && !input.publication.create) throw publicationMissing(input.publication, server.database);
    if (!publication && input.publication.all && !server.superuser) {
      throw new OperatorError(`cannot create publication "${input.publication.name}" FOR ALL TABLES: role "${server.user}" is not a superuser`, {
        hint: `have a superuser run CREATE PUBLICATION ${displayIdent(input.publication.name)} FOR ALL TABLES; or list the tables to publish`,
      });
    }
    const warnings = await checkTables(client, input, publication, server.database);
    return { warnings, serverVersion: server.version, serverMajor: server.major, database: server.database, slot, publication };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function checkServer(server: ServerFacts, where: string): void {
  if (server.major < MIN_MAJOR) {
    throw new OperatorError(`PostgreSQL ${server.version} at ${where} is too old; slotline needs ${MIN_MAJOR} or later`, {
      hint: 'upgrade PostgreSQL',
    });
  }
  if (server.walLevel !== 'logical') {
    throw new OperatorError(`wal_level is "${server.walLevel}" on ${where}; logical decoding needs wal_level = logical`, {
      hint: 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (RDS/Aurora: rds.logical_replication = 1; Cloud SQL: cloudsql.logical_decoding = on)',
    });
  }
  if (!server.canReplicate) {
    throw new OperatorError(`role "${server.user}" may not stream changes: it has neither the REPLICATION attribute nor superuser`, {
      hint: `ALTER ROLE ${displayIdent(server.user)} REPLICATION; (RDS/Aurora: GRANT rds_replication TO ${displayIdent(server.user)})`,
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
}

async function readServer(db: Queryable): Promise<ServerFacts> {
  const { rows } = await db.query(
    `SELECT current_setting('server_version') AS version,
            current_setting('server_version_num')::int AS num,
            current_setting('wal_level') AS wal_level,
            current_user AS "user", current_database() AS database,
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
  };
}

async function checkSlot(db: Queryable, spec: SlotSpec, slot: SlotInfo | null, database: string, mayBeLost: boolean): Promise<void> {
  if (slot) {
    const lost = slot.walStatus === 'lost' || slot.invalidationReason !== null;
    const problem = mayBeLost && lost ? null : slotProblem(slot, database);
    if (problem) throw problem;
    if (slot.active) throw await slotInUse(db, slot);
    return;
  }
  if (!spec.create) throw slotMissing(spec.name, database);
  const { rows } = await db.query(
    `SELECT current_setting('max_replication_slots')::int AS max,
            (SELECT count(*)::int FROM pg_replication_slots) AS used,
            ARRAY(SELECT slot_name::text FROM pg_replication_slots WHERE NOT active ORDER BY slot_name) AS inactive`,
  );
  if (rows[0].used >= rows[0].max) throw maxSlotsError(spec.name, rows[0].max, rows[0].inactive);
}

async function slotInUse(db: Queryable, slot: SlotInfo): Promise<OperatorError> {
  // Without pg_read_all_stats, another role's session shows nulls here: say only what we know.
  const { rows } = await db.query(
    `SELECT application_name, host(client_addr) AS client FROM pg_stat_activity WHERE pid = $1`,
    [slot.activePid],
  );
  const details = [`PID ${slot.activePid}`];
  if (rows[0]?.application_name) details.push(`application_name "${rows[0].application_name}"`);
  if (rows[0]?.client) details.push(`client ${rows[0].client}`);
  return new OperatorError(`replication slot "${slot.name}" is in use by another process (${details.join(', ')})`, {
    hint: `stop the other consumer, or end its session with SELECT pg_terminate_backend(${slot.activePid}); two workers must not share a slot`,
  });
}

function checkTablesExist(facts: TableFacts[], database: string): void {
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
    });
  }
}

/** What `before` can hold for each table, when that is less than Debezium users expect. */
function identityWarnings(facts: TableFacts[], publication: string, blocksWrites: boolean): string[] {
  const consequence = blocksWrites
    ? `PostgreSQL rejects its UPDATEs and DELETEs while publication "${publication}" publishes them, and no "before" image or delete key can be sent`
    : 'updates and deletes carry no "before" image and deletes no key';
  const warnings: string[] = [];
  for (const f of facts) {
    const name = formatTableName(f);
    const fix = `fix: ALTER TABLE ${name} REPLICA IDENTITY FULL ("before" = the whole old row), or give it a primary key ("before" = the key columns on delete)`;
    if (f.replicaIdentity === 'n') {
      warnings.push(`table ${name} has REPLICA IDENTITY NOTHING: ${consequence}; ${fix}`);
    } else if (f.replicaIdentity === 'd' && !f.hasPrimaryKey) {
      warnings.push(`table ${name} has no primary key and REPLICA IDENTITY DEFAULT, so no replica identity: ${consequence}; ${fix}`);
    } else if (f.replicaIdentity === 'i' && !f.hasIdentityIndex) {
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

/** The replication path itself: pg_hba, max_wal_senders and the walsender permission are checked only here. */
async function checkReplicationConnection(connection: pg.ClientConfig): Promise<void> {
  const client = await connect(connection, true);
  try {
    await client.query('IDENTIFY_SYSTEM');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(connection: pg.ClientConfig, replication: boolean): Promise<pg.Client> {
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
    throw connectError(err, connection, replication);
  }
}

/** Maps a failed connect to one operator line. Exported for the runtime's start-up path and the CLI. */
export function connectError(err: unknown, connection: pg.ClientConfig, replication = false): Error {
  const where = target(connection);
  const user = connection.user ?? (connection.connectionString ? urlPart(connection.connectionString, 'user') : undefined) ?? process.env.PGUSER ?? 'postgres';
  const database = connection.database ?? (connection.connectionString ? urlPart(connection.connectionString, 'database') : undefined) ?? user;
  const e = err as { code?: string; message?: string };
  const serverSays = e.message ? `: ${e.message}` : '';
  switch (e.code) {
    case 'ECONNREFUSED':
      return new OperatorError(`cannot connect to PostgreSQL at ${where}: connection refused`, {
        hint: `check that PostgreSQL is running and listening on ${where} (host, port, listen_addresses, firewall)`,
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new OperatorError(`cannot connect to PostgreSQL at ${where}: host name not found`, {
        hint: 'check the host name in the connection settings',
        cause: err,
      });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new OperatorError(`cannot connect to PostgreSQL at ${where}: ${e.code}`, {
        hint: 'check the host, port and any firewall or security group between slotline and PostgreSQL',
        cause: err,
      });
    case '28P01':
      return new OperatorError(`authentication failed for user "${user}" at ${where}${serverSays}`, {
        hint: `check the password for user "${user}"`,
        cause: err,
      });
    case '28000':
      return new OperatorError(`PostgreSQL at ${where} refused ${replication ? 'a replication' : 'the'} connection for user "${user}"${serverSays}`, {
        hint: replication
          ? 'allow it in pg_hba.conf (a logical replication connection matches the database name, not "replication") and check the role can log in'
          : 'check the user name, and that pg_hba.conf allows this client, user and database',
        cause: err,
      });
    case '3D000':
      return new OperatorError(`database "${database}" does not exist at ${where}`, {
        hint: `create it (CREATE DATABASE ${displayIdent(database)}) or fix the database name in the connection settings`,
        cause: err,
      });
    case '53300':
      return new OperatorError(`PostgreSQL at ${where} has no free ${replication ? 'walsender' : 'connection'} slot${serverSays}`, {
        hint: replication ? 'raise max_wal_senders (restart needed) or stop idle replication clients' : 'raise max_connections or close idle connections',
        cause: err,
      });
    case '42501':
      return new OperatorError(`role "${user}" may not open a replication connection at ${where}${serverSays}`, {
        hint: `ALTER ROLE ${displayIdent(user)} REPLICATION;`,
        cause: err,
      });
  }
  if (e.message && /timeout/i.test(e.message)) {
    return new OperatorError(`cannot connect to PostgreSQL at ${where}: timed out`, {
      hint: 'check the host, port and any firewall between slotline and PostgreSQL',
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

function target(connection: pg.ClientConfig): string {
  const host = connection.host ?? (connection.connectionString ? urlPart(connection.connectionString, 'host') : undefined) ?? process.env.PGHOST ?? 'localhost';
  const port = connection.port ?? (connection.connectionString ? urlPart(connection.connectionString, 'port') : undefined) ?? process.env.PGPORT ?? 5432;
  return `${host}:${port}`;
}

function urlPart(url: string, part: 'host' | 'port' | 'user' | 'database'): string | undefined {
  try {
    const u = new URL(url);
    const value = { host: u.hostname, port: u.port, user: decodeURIComponent(u.username), database: decodeURIComponent(u.pathname.slice(1)) }[part];
    return value || undefined;
  } catch {
    return undefined;
  }
}
