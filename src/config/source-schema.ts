/**
 * The `source` section: the Postgres connection, slot and publication.
 *
 * Connection keys: `url` and the discrete keys (host, port, user, password,
 * database, ssl) may be combined; a discrete key overrides the same part of the
 * url. That lets the url come from a platform (`DATABASE_URL`) while the
 * password comes from a secret (`password: ${PGPASSWORD}`). The loaded config
 * holds only the merged discrete keys; a key neither gives is left undefined so
 * that `pg` applies its own defaults (PGHOST, PGUSER, …, then localhost:5432).
 */
import { z } from 'zod';
import { durationMs, flag, qualifiedTableName, tlsUnion } from './schema-parts.ts';
import type { TlsConfig } from './schema-parts.ts';

interface ConnectionParts {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: TlsConfig;
}

const SSLMODES: Record<string, TlsConfig | undefined> = {
  disable: false,
  'no-verify': { reject_unauthorized: false },
  require: { reject_unauthorized: false },
  'verify-ca': true,
  'verify-full': true,
};

/** Parses `postgres[ql]://user:password@host:port/database?sslmode=…&host=…`. */
export function parsePostgresUrl(text: string): ConnectionParts | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: 'not a URL: expected postgres://user:password@host:port/database' };
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return { error: `expected a postgres:// or postgresql:// URL, got ${url.protocol}//` };
  }
  const parts: ConnectionParts = {};
  if (url.hostname) parts.host = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) parts.port = Number(url.port);
  if (url.username) parts.user = decodeURIComponent(url.username);
  if (url.password) parts.password = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) parts.database = database;
  for (const [name, value] of url.searchParams) {
    if (name === 'host') parts.host = value;
    else if (name === 'sslmode') {
      if (!(value in SSLMODES)) {
        return { error: `sslmode=${value} is not supported: use disable, require, verify-ca or verify-full (the client cannot fall back to plaintext)` };
      }
      parts.ssl = SSLMODES[value];
    } else return { error: `unsupported URL parameter "${name}" (supported: host, sslmode)` };
  }
  return parts;
}

const connection = {
  url: z.string().min(1).optional().meta({
    description:
      'Connection URL `postgres://user:password@host:port/database?sslmode=require`; the keys below override its parts. sslmode: disable, require (encrypted, not verified), verify-ca or verify-full (verified).',
    docDefault: 'none: the keys below',
  }),
  host: z.string().min(1).optional().meta({ description: 'Server host name, IP address or Unix socket directory.', docDefault: 'from `url`, else `PGHOST`, else localhost' }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'Server port.', docDefault: 'from `url`, else `PGPORT`, else 5432' }),
  user: z.string().min(1).optional().meta({ description: 'User with the REPLICATION attribute.', docDefault: 'from `url`, else `PGUSER`' }),
  password: z.string().optional().meta({ description: 'Password; prefer `${PGPASSWORD}` over writing it here.', docDefault: 'from `url`, else `PGPASSWORD`' }),
  database: z.string().min(1).optional().meta({ description: 'Database whose changes are captured (`source.db` in events).', docDefault: 'from `url`, else `PGDATABASE`' }),
  ssl: tlsUnion().optional().meta({ description: 'TLS to Postgres (see the TLS keys below).', docType: 'boolean | mapping', docDefault: "from the url's sslmode, else false" }),
};

const slotAndStream = {
  slot: z
    .string()
    .regex(/^[a-z0-9_]{1,63}$/, { error: 'a slot name has 1-63 lower-case letters, digits and underscores' })
    .default('slotline')
    .describe('Logical replication slot (pgoutput). One slot per slotline process: two readers of one slot lose data.'),
  publication: z
    .string()
    .regex(/^[a-z_][a-z0-9_$]{0,62}$/, { error: 'a publication name is a lower-case identifier of at most 63 characters' })
    .default('slotline')
    .describe('Publication the slot reads.'),
  create: flag(true, 'Create the slot and the publication when missing. slotline never drops them.'),
  tables: z
    .array(qualifiedTableName)
    .min(1, { error: 'list at least one table, or omit `tables` for all tables' })
    .optional()
    .meta({ description: 'Tables of the publication, `schema.table`, when slotline creates it.', docDefault: 'all tables (`FOR ALL TABLES`)' }),
  heartbeat_interval_ms: durationMs(10_000, 'Interval of `pg_logical_emit_message` heartbeats, so that an idle database does not pin WAL; 0 turns them off.'),
  status_interval_ms: durationMs(10_000, 'Interval of standby status updates (confirmed LSN) to the server.', 1),
  reconnect: z
    .strictObject({
      initial_delay_ms: durationMs(500, 'First delay before reconnecting after the replication connection drops.', 1),
      max_delay_ms: durationMs(30_000, 'Ceiling of the exponential reconnect delay.', 1),
    })
    .refine((r) => r.max_delay_ms >= r.initial_delay_ms, { error: 'max_delay_ms must be >= initial_delay_ms', path: ['max_delay_ms'] })
    .prefault({})
    .describe('Reconnect backoff.'),
  connect_timeout_ms: durationMs(10_000, 'Timeout of one connection attempt.', 1),
};

export const sourceSchema = z
  .strictObject({ ...connection, ...slotAndStream })
  .transform((source, ctx) => {
    const { url, ...rest } = source;
    const fromUrl: ConnectionParts | { error: string } = url === undefined ? {} : parsePostgresUrl(url);
    if ('error' in fromUrl) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: fromUrl.error, input: url });
      return z.NEVER;
    }
    const { ssl, ...discrete } = rest;
    // A discrete key the file leaves out must not erase the url's part.
    const defined = Object.fromEntries(Object.entries(discrete).filter(([, v]) => v !== undefined)) as typeof discrete;
    const merged: typeof discrete & { ssl: TlsConfig } = { ...fromUrl, ...defined, ssl: ssl ?? fromUrl.ssl ?? false };
    return merged;
  })
  .describe('The Postgres connection, replication slot and publication.');

export type SourceConfig = z.output<typeof sourceSchema>;
