/**
 * `source` settings → node-postgres client settings, shared by the admin
 * connection, the replication connection and the heartbeat.
 */
import { readFileSync } from 'node:fs';
import type { ClientConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config/schema-parts.ts';
import type { HostPort } from '../config/source-schema.ts';

export interface PgConnectionSettings {
  host?: string;
  port?: number;
  /**
   * Two or more servers, of which slotline uses the writable primary
   * (./pg-primary.ts). The client settings below use `host`/`port` only:
   * resolve the primary first (findPrimary).
   */
  hosts?: HostPort[];
  user?: string;
  password?: string;
  database?: string;
  ssl: TlsConfig;
  connect_timeout_ms: number;
  /** The replication connection's wal_sender_timeout (ms); undefined: the server's. */
  wal_sender_timeout_ms?: number;
}

export function pgClientConfig(source: PgConnectionSettings, applicationName = 'slotline'): ClientConfig {
  return {
    host: source.host,
    port: source.port,
    user: source.user,
    password: source.password,
    database: source.database,
    ssl: tlsOptions(source.ssl),
    connectionTimeoutMillis: source.connect_timeout_ms,
    application_name: applicationName,
    keepAlive: true,
  };
}

/** The replication connection's settings: pgClientConfig, plus its own wal_sender_timeout when configured. */
export function replicationClientConfig(source: PgConnectionSettings): ClientConfig {
  const config = pgClientConfig(source, 'slotline');
  if (source.wal_sender_timeout_ms !== undefined) config.options = `-c wal_sender_timeout=${source.wal_sender_timeout_ms}ms`;
  return config;
}

function tlsOptions(ssl: TlsConfig): boolean | ConnectionOptions {
  if (typeof ssl === 'boolean') return ssl;
  return {
    rejectUnauthorized: ssl.reject_unauthorized,
    ca: ssl.ca ? readFileSync(ssl.ca, 'utf8') : undefined,
    cert: ssl.cert ? readFileSync(ssl.cert, 'utf8') : undefined,
    key: ssl.key ? readFileSync(ssl.key, 'utf8') : undefined,
  };
}

/** host:port/database, for messages (never the password). */
export function describeTarget(source: PgConnectionSettings): string {
  if (source.hosts && source.hosts.length > 1) {
    const hosts = source.hosts.map((h) => `${h.host}:${h.port ?? source.port ?? process.env.PGPORT ?? 5432}`).join(',');
    return `${hosts}/${source.database ?? process.env.PGDATABASE ?? source.user ?? ''}`;
  }
  return `${source.host ?? process.env.PGHOST ?? 'localhost'}:${source.port ?? process.env.PGPORT ?? 5432}/${source.database ?? process.env.PGDATABASE ?? source.user ?? ''}`;
}
