/**
 * `source` settings → node-postgres client settings, shared by the admin
 * connection, the replication connection and the heartbeat.
 */
import { readFileSync } from 'node:fs';
import type { ClientConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config/schema-parts.ts';

export interface PgConnectionSettings {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl: TlsConfig;
  connect_timeout_ms: number;
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
  return `${source.host ?? process.env.PGHOST ?? 'localhost'}:${source.port ?? process.env.PGPORT ?? 5432}/${source.database ?? process.env.PGDATABASE ?? source.user ?? ''}`;
}
