/**
 * A PgBouncer in front of a test PostgreSQL: Debian's `pgbouncer` on a reserved
 * loopback port, its ini, auth file and log in a temp dir that `close()` removes.
 *
 * Clients authenticate to PgBouncer with SCRAM, against the plain passwords in
 * its auth file, and PgBouncer logs in to PostgreSQL with the same password, as
 * a production PgBouncer with an auth file does. Every database name is passed
 * through to the server (`* = host=… port=…`).
 *
 * Ready once a query through it reaches the server as the harness's superuser.
 * PgBouncer refuses to run as root: as root it runs as the `postgres` OS user,
 * which the PostgreSQL harness creates.
 */
import { chown, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PG_OS_USER } from './postgres-binaries.ts';
import { probe, type PgConnectionInfo } from './postgres.ts';
import { startOnFreePorts } from './ports.ts';
import { makeServerDir } from './server-dirs.ts';
import { isRoot, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';

const execFileAsync = promisify(execFile);

export const PGBOUNCER_BINARY = process.env.SLOTLINE_PGBOUNCER ?? '/usr/sbin/pgbouncer';

export type PoolMode = 'session' | 'transaction' | 'statement';

export interface StartPgBouncerOptions {
  /** The server to pool connections to (host, port, and its superuser, who may log in through PgBouncer). */
  server: PgConnectionInfo;
  poolMode: PoolMode;
  /** More roles that may log in through PgBouncer: name → password. */
  users?: Record<string, string>;
}

export interface PgBouncer {
  readonly host: string;
  readonly port: number;
  readonly poolMode: PoolMode;
  readonly logFile: string;
  /** `postgres://user:password@127.0.0.1:<pgbouncer port>/<database>` (the server's superuser by default). */
  url(database: string, user?: string, password?: string): string;
  /** Stops PgBouncer and removes its dir. Safe to call twice. */
  close(): Promise<void>;
}

export async function startPgBouncer(opts: StartPgBouncerOptions): Promise<PgBouncer> {
  const dir = await makeServerDir('pgbouncer');
  const logFile = join(dir, 'pgbouncer.log');
  const users: Record<string, string> = { [opts.server.user]: opts.server.password, ...opts.users };
  // The auth file's format: one `"name" "password"` line per role, `"` doubled inside.
  const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
  await writeFile(join(dir, 'userlist.txt'), Object.entries(users).map(([u, p]) => `${quote(u)} ${quote(p)}\n`).join(''), { mode: 0o600 });
  if (isRoot()) await chownTree(dir, [dir, join(dir, 'userlist.txt')]);

  let server: ServerProcess | null = null;
  const launch = async ([port]: number[]): Promise<void> => {
    const ini = join(dir, 'pgbouncer.ini');
    await writeFile(ini, iniText(opts, dir, port));
    if (isRoot()) await chownTree(dir, [ini]);
    server = await spawnServer({ command: PGBOUNCER_BINARY, args: [ini], logFile, runAs: PG_OS_USER, deathSignal: 'SIGKILL' });
    await waitUntilReady(`pgbouncer on port ${port}`, server, () => probe(port), 20_000);
  };
  const started = await startOnFreePorts(1, launch).catch(async (err) => {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  });
  const [port] = started.ports;
  let closed = false;
  return {
    host: '127.0.0.1',
    port,
    poolMode: opts.poolMode,
    logFile,
    url: (database, user = opts.server.user, password = users[user]) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async close() {
      if (closed) return;
      closed = true;
      // SIGINT: PgBouncer's "safe" shutdown does not wait for clients; SIGKILL after 10 s.
      await server?.stop('SIGINT', 10_000);
      started.release();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

function iniText(opts: StartPgBouncerOptions, dir: string, port: number): string {
  return [
    '[databases]',
    `* = host=${opts.server.host} port=${opts.server.port}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    `auth_type = scram-sha-256`,
    `auth_file = ${join(dir, 'userlist.txt')}`,
    `pool_mode = ${opts.poolMode}`,
    'max_client_conn = 100',
    'default_pool_size = 10',
    '',
  ].join('\n');
}

async function chownTree(dir: string, paths: string[]): Promise<void> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync('id', ['-u', PG_OS_USER]), execFileAsync('id', ['-g', PG_OS_USER])]);
  for (const path of new Set([dir, ...paths])) await chown(path, Number(uid), Number(gid));
}
