/**
 * A throw-away PostgreSQL server of a given major (14–18) for tests and benchmarks:
 * a local process on a reserved loopback port (./ports.ts), `wal_level=logical`, a superuser with
 * SCRAM password auth (so a wrong password is refused, as in production), its data
 * and unix socket in a temp dir that `stop()` removes.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { binaryVersion, PG_OS_USER, runnableBinDir } from './postgres-binaries.ts';
import { startOnFreePorts } from './ports.ts';
import { makeServerDir } from './server-dirs.ts';
import { rememberDatabase } from './slot-cleanup.ts';
import { isRoot, runTool, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';

export { pgBinDir, pgToolPath, SUPPORTED_PG_MAJORS } from './postgres-binaries.ts';

const execFileAsync = promisify(execFile);

/** What a test worker needs to reach a server; plain data, passed through vitest's `provide`. */
export interface PgConnectionInfo {
  major: number;
  /** Full server version, e.g. "17.10". */
  version: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface PgEndpoint extends PgConnectionInfo {
  /** postgres://user:pass@127.0.0.1:port/db (db defaults to "postgres"). */
  url(database?: string): string;
  /** Creates an empty database; for one-database-per-test-file isolation. */
  createDatabase(name: string): Promise<void>;
  /** Runs one statement on a short-lived connection and returns its rows. */
  query(sql: string, params?: unknown[], database?: string): Promise<any[]>;
}

export interface PgServer extends PgEndpoint {
  dataDir: string;
  /** Directory holding the unix socket (the data dir). */
  socketDir: string;
  logFile: string;
  /**
   * Fast shutdown, then start again on the same port and data (replication
   * slots survive); `whileDown` runs in between (an outage of that length).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Fast shutdown and removal of the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** url/query/createDatabase for a running server, from its connection info alone. */
export function pgEndpoint(info: PgConnectionInfo): PgEndpoint {
  const url = (database = 'postgres'): string =>
    `postgres://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${encodeURIComponent(database)}`;
  const query = async (sql: string, params: unknown[] = [], database = 'postgres'): Promise<any[]> => {
    const client = new pg.Client({ connectionString: url(database) });
    // A server shutting down (a failover test) may end the session between two messages: the query or connect reports it.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    ...info,
    url,
    query,
    async createDatabase(name) {
      await query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      rememberDatabase({ url }, name);
    },
  };
}

export interface StartPostgresOptions {
  major: number;
  /** Extra `postgres` arguments, e.g. ['-c', 'max_slot_wal_keep_size=64MB']; later `-c` wins. */
  postgresFlags?: string[];
}

export const USER = 'postgres';
export const PASSWORD = 'slotline-test';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;

export async function startPostgres(opts: StartPostgresOptions): Promise<PgServer> {
  const { binDir, version } = await serverBinaries(opts.major);
  // The server's OS user must be able to reach the data dir: keep it out of root's home.
  const root = await makeServerDir(`pg${opts.major}`);
  const dataDir = join(root, 'data');
  if (isRoot()) await chownToUser(root, PG_OS_USER);
  await initdb(binDir, root, dataDir);
  return launchPostgres({ major: opts.major, binDir, version, root, postgresFlags: opts.postgresFlags });
}

/** The runnable binaries of a major, checked to be that major. */
export async function serverBinaries(major: number): Promise<{ binDir: string; version: string }> {
  if (isRoot()) await ensureOsUser(PG_OS_USER);
  const binDir = await runnableBinDir(major);
  const version = await binaryVersion(binDir);
  if (Number.parseInt(version, 10) !== major) {
    throw new Error(`pg${major} resolved to PostgreSQL ${version} in ${binDir}; check the pg${major} alias in package.json`);
  }
  return { binDir, version };
}

export interface LaunchPostgresOptions {
  major: number;
  binDir: string;
  version: string;
  /** The server's temp dir, holding `data/` (ready: made by initdb or copied) and the log; stop() removes it. */
  root: string;
  postgresFlags?: string[];
}

/** Starts `postgres` on `<root>/data` on a free reserved port, with the harness's settings. */
export async function launchPostgres(opts: LaunchPostgresOptions): Promise<PgServer> {
  const { binDir, version, root } = opts;
  const dataDir = join(root, 'data');
  const logFile = join(root, 'postgres.log');
  let server: ServerProcess | undefined;
  const launch = async (port: number): Promise<void> => {
    server = await spawnServer({
      command: join(binDir, 'postgres'),
      args: ['-D', dataDir, '-p', String(port), ...baseSettings(dataDir), ...(opts.postgresFlags ?? [])],
      logFile,
      runAs: PG_OS_USER,
      // SIGINT is Postgres' fast shutdown: clients are cut, no waiting on them.
      deathSignal: 'SIGINT',
    });
    await waitUntilReady(`PostgreSQL ${version} on port ${port}`, server, () => probe(port), START_TIMEOUT_MS);
  };
  const started = await startOnFreePorts(1, ([port]) => launch(port)).catch(async (err) => {
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  });
  const [port] = started.ports;

  return {
    ...pgEndpoint({ major: opts.major, version, host: HOST, port, user: USER, password: PASSWORD }),
    dataDir,
    socketDir: dataDir,
    logFile,
    async restart(whileDown) {
      await server?.stop('SIGINT', 30_000);
      try {
        await whileDown?.();
      } finally {
        await launch(port);
      }
    },
    async stop() {
      await server?.stop('SIGINT', 30_000);
      started.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Settings every test server gets. fsync off: these clusters are thrown away, and
 * a killed Postgres still keeps what reached the OS page cache.
 */
function baseSettings(dataDir: string): string[] {
  const settings: Record<string, string> = {
    listen_addresses: HOST,
    unix_socket_directories: dataDir,
    wal_level: 'logical',
    max_replication_slots: '100',
    max_wal_senders: '100',
    max_connections: '300',
    fsync: 'off',
    full_page_writes: 'off',
    TimeZone: 'UTC',
    log_timezone: 'UTC',
  };
  return Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
}

async function initdb(binDir: string, root: string, dataDir: string): Promise<void> {
  const pwfile = join(root, 'pwfile');
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (isRoot()) await chownToUser(pwfile, PG_OS_USER);
  try {
    await runTool(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      PG_OS_USER,
      { ...process.env, LC_ALL: 'C' },
    );
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** Resolves once a query on 127.0.0.1:port as the harness's superuser succeeds (a test server, or a pooler in front of one). */
export async function probe(port: number): Promise<void> {
  const client = new pg.Client({ host: HOST, port, user: USER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureOsUser(user: string): Promise<void> {
  try {
    await execFileAsync('id', ['-u', user]);
  } catch {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  }
}

export async function chownToUser(path: string, user: string): Promise<void> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    execFileAsync('id', ['-u', user]),
    execFileAsync('id', ['-g', user]),
  ]);
  await chown(path, Number(uid), Number(gid));
  await chmod(path, 0o700);
}
