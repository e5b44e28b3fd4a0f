/**
 * A failed connection to PostgreSQL, as one operator line with a hint: wrong
 * host or port, password, pg_hba, missing database, no walsender left, no
 * REPLICATION — and a connection pooler in the path.
 *
 * A pooler (PgBouncer, or a provider's pooled endpoint) answers ordinary
 * queries like the server, but a logical replication connection must reach
 * PostgreSQL itself. Two signs, checked against a real PgBouncer 1.18 in
 * transaction and session mode:
 * - PgBouncer before 1.23 refuses the replication connection's startup
 *   parameter with "unsupported startup parameter: replication" (08P01), in
 *   every pool mode. That text is PgBouncer's own: it identifies it.
 * - On the ordinary connection, the process ID in the BackendKeyData message
 *   differs from pg_backend_pid(): whatever sits in between handed out its
 *   own cancel key. A pooler must (client and server connections are not
 *   paired); a plain TCP proxy (HAProxy, kube-proxy, a cloud's auth proxy)
 *   passes the server's through. Some providers' direct endpoints also rewrite
 *   it (Neon's proxy, where logical replication works), so this sign alone is
 *   no error: only a replication connection refused behind it is.
 */
import pg from 'pg';
import { OperatorError } from '../errors.ts';
import { displayIdent } from './pg-catalog.ts';

const PGBOUNCER_REFUSAL = /unsupported startup parameter: replication/;

/** The server's own PID differs from the one this connection was given: something between answers for it. */
export function answeredByProxy(client: pg.Client, backendPid: number): boolean {
  const given = (client as unknown as { processID: number | null }).processID;
  return given !== null && given !== backendPid;
}

/**
 * A replication connection that a pooler refused, or null. `proxied`: the
 * ordinary connection showed a proxy in the path (answeredByProxy).
 */
export function poolerRefusal(err: unknown, connection: pg.ClientConfig, proxied: boolean): OperatorError | null {
  const e = err as { code?: string; message?: string };
  const pgbouncer = PGBOUNCER_REFUSAL.test(e.message ?? '');
  if (!pgbouncer && !(proxied && (e.code === '08P01' || e.code === '0A000'))) return null;
  const who = pgbouncer ? 'PgBouncer' : 'a connection pooler or proxy (its backend PID is not the one it handed out)';
  return new OperatorError(`${who} at ${target(connection)} refused the replication connection (${e.message}): logical replication cannot go through a connection pooler`, {
    hint: 'connect slotline to PostgreSQL itself: its own host and port (on Kubernetes the primary\'s service, e.g. CloudNativePG\'s <cluster>-rw), or your provider\'s direct, non-pooled connection string',
    cause: err,
  });
}

/** Maps a failed connect to one operator line. Exported for the runtime's start-up path and the CLI. */
export function connectError(err: unknown, connection: pg.ClientConfig, replication = false, proxied = false): Error {
  if (replication) {
    const pooler = poolerRefusal(err, connection, proxied);
    if (pooler) return pooler;
  }
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
        permanent: true,
      });
    case '28000':
      return new OperatorError(`PostgreSQL at ${where} refused ${replication ? 'a replication' : 'the'} connection for user "${user}"${serverSays}`, {
        hint: replication
          ? 'allow it in pg_hba.conf (a logical replication connection matches the database name, not "replication") and check the role can log in'
          : 'check the user name, and that pg_hba.conf allows this client, user and database',
        cause: err,
        permanent: true,
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
        permanent: true,
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

export function target(connection: pg.ClientConfig): string {
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
