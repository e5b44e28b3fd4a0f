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
import { parseRetention, type Retention } from './retention.ts';
import { durationMs, flag, qualifiedTableName, tlsUnion } from './schema-parts.ts';
import type { TlsConfig } from './schema-parts.ts';

interface ConnectionParts {
  host?: string;
  port?: number;
  /** Two or more hosts (`a:5432,b:5432`, libpq's multi-host form): the worker connects to the writable one. */
  hosts?: HostPort[];
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

/** One candidate server of a multi-host source. `port` undefined: `source.port`, else the default. */
export interface HostPort {
  host: string;
  port?: number;
}

/**
 * `a`, `a:5433`, `[::1]:5433`, and libpq's comma-separated lists of them
 * (`host=a,b` / `postgres://u@a:5432,b:5433/db`). Unix socket directories
 * (`/run/postgresql`) take no port.
 */
export function parseHostList(text: string): HostPort[] | { error: string } {
  const hosts: HostPort[] = [];
  for (const item of text.split(',').map((h) => h.trim())) {
    if (item === '') return { error: `"${text}" has an empty host name: list hosts as a,b or a:5432,b:5432` };
    const m = /^\[(.+)\](?::(\d+))?$/.exec(item) ?? (item.startsWith('/') || (item.match(/:/g) ?? []).length > 1 ? null : /^([^:]+)(?::(\d+))?$/.exec(item));
    const [host, port] = m ? [m[1], m[2]] : [item, undefined];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { error: `port ${port} of "${item}" is not between 1 and 65535` };
    hosts.push(port === undefined ? { host } : { host, port: Number(port) });
  }
  return hosts;
}

/** Parses `postgres[ql]://user:password@host:port[,host:port…]/database?sslmode=…&host=…`. */
export function parsePostgresUrl(text: string): ConnectionParts | { error: string } {
  // WHATWG URL refuses libpq's multi-host authority: take the host list out first.
  const authority = /^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)([^/?#]*)(.*)$/s.exec(text);
  let listed: HostPort[] | undefined;
  if (authority && authority[2].includes(',')) {
    const hosts = parseHostList(authority[2]);
    if ('error' in hosts) return hosts;
    listed = hosts;
    text = `${authority[1]}placeholder${authority[3]}`;
  }
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
  if (listed) {
    delete parts.host;
    parts.hosts = listed;
  }
  for (const [name, value] of url.searchParams) {
    if (name === 'host') {
      const hosts = parseHostList(value);
      if ('error' in hosts) return hosts;
      delete parts.host;
      delete parts.hosts;
      if (hosts.length > 1) parts.hosts = hosts;
      else parts.host = value;
    }
    else if (name === 'sslmode') {
      if (!(value in SSLMODES)) {
        return { error: `sslmode=${value} is not supported: use disable, require, verify-ca or verify-full (the client cannot fall back to plaintext)` };
      }
      parts.ssl = SSLMODES[value];
    } else return { error: `unsupported URL parameter "${name}" (supported: host, sslmode)` };
  }
  return parts;
}

/**
 * The source's host list: `hosts`, else a comma-separated `host`, else the
 * url's; undefined when none gives one (a single `host`).
 */
function hostListOf(hostsKey: string[] | undefined, host: string | undefined, fromUrl: HostPort[] | undefined): HostPort[] | { key: 'host' | 'hosts'; issue: string } | undefined {
  if (hostsKey !== undefined) {
    if (host !== undefined) return { key: 'hosts', issue: 'give `host` or `hosts`, not both' };
    const parsed = parseHostList(hostsKey.join(','));
    return 'error' in parsed ? { key: 'hosts', issue: parsed.error } : parsed;
  }
  if (host?.includes(',')) {
    const parsed = parseHostList(host);
    return 'error' in parsed ? { key: 'host', issue: parsed.error } : parsed;
  }
  return host === undefined ? fromUrl : undefined;
}

const connection = {
  url: z.string().min(1).optional().meta({
    description:
      'Connection URL `postgres://user:password@host:port/database?sslmode=require`; the keys below override its parts. sslmode: disable, require (encrypted, not verified), verify-ca or verify-full (verified). Several hosts as libpq writes them: `postgres://user@a:5432,b:5432/database` (see `hosts`).',
    docDefault: 'none: the keys below',
  }),
  host: z.string().min(1).optional().meta({
    description: 'Server host name, IP address or Unix socket directory. A comma-separated list (`a,b:5433`, as libpq\'s `host=a,b`) means the same as `hosts`.',
    docDefault: 'from `url`, else `PGHOST`, else localhost',
  }),
  hosts: z.array(z.string().min(1)).min(1).optional().meta({
    description:
      'Several servers of one cluster, `host` or `host:port` each (e.g. a primary and its standbys): slotline connects to the one that is the writable primary (not in recovery), tried in this order, and looks again after it loses the connection, so that it follows a promotion. Use with `failover: true` (PostgreSQL 17+) so the slot is on the new primary too. Overrides the url\'s host.',
    docType: 'list of strings',
    docDefault: 'one host: `host`',
  }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'Server port.', docDefault: 'from `url`, else `PGPORT`, else 5432' }),
  user: z.string().min(1).optional().meta({ description: 'User with the REPLICATION attribute.', docDefault: 'from `url`, else `PGUSER`' }),
  password: z.string().optional().meta({ description: 'Password; prefer `${PGPASSWORD}` over writing it here.', docDefault: 'from `url`, else `PGPASSWORD`' }),
  database: z.string().min(1).optional().meta({ description: 'Database whose changes are captured (`source.db` in events).', docDefault: 'from `url`, else `PGDATABASE`' }),
  ssl: tlsUnion().optional().meta({ description: 'TLS to Postgres (see the TLS keys below).', docType: 'boolean | mapping', docDefault: "from the url's sslmode, else false" }),
};

const slotName = z.string().regex(/^[a-z0-9_]{1,63}$/, { error: 'a slot name has 1-63 lower-case letters, digits and underscores' });

const REWIND_SUFFIX = '_rewind';

const rewind = z
  .strictObject({
    retain: z
      .union([z.string(), z.number()])
      .transform((value, ctx): Retention => {
        const parsed = parseRetention(String(value));
        if ('error' in parsed) {
          ctx.addIssue({ code: 'custom', input: value, message: parsed.error });
          return z.NEVER;
        }
        return parsed;
      })
      .meta({
        description:
          'How much history the rewind slot keeps behind the main slot: a duration (`1h`, `90m`, `1h30m`, `2d`), by the commit times slotline sees, or a WAL size (`2GiB`), by WAL bytes behind the main slot\'s confirmed position. The server keeps that window\'s WAL on its disk (see docs/drills.md).',
        docType: 'duration | size',
      }),
    slot: slotName.optional().meta({ description: 'Name of the rewind slot.', docDefault: '`<slot>_rewind`' }),
    advance_interval_ms: durationMs(10_000, 'How often the rewind slot is moved forward (`pg_replication_slot_advance`, on a connection of its own).', 1000),
  })
  .optional()
  .meta({
    description:
      'A second logical slot that trails the main one by `retain`, so that `slotline replay` can re-send changes the main slot has already confirmed. Off unless given. Created at start when missing (it then holds history only from that moment on).',
    docDefault: 'off',
  });

const slotAndStream = {
  slot: slotName
    .default('slotline')
    .describe('Logical replication slot (pgoutput). One slot per slotline process: two readers of one slot lose data.'),
  publication: z
    .string()
    .regex(/^[a-z_][a-z0-9_$]{0,62}$/, { error: 'a publication name is a lower-case identifier of at most 63 characters' })
    .default('slotline')
    .describe('Publication the slot reads.'),
  create: z.boolean().optional().meta({
    description: 'Shorthand for `create_publication` and `create_slot` together; each of those, when given, wins over it.',
    docDefault: '`true`',
  }),
  create_publication: z.boolean().optional().meta({
    description:
      'Create the publication when missing, and add configured tables it lacks. Turn off when a DBA owns the publication (e.g. the role does not own the tables). slotline never drops a publication or removes a table from it.',
    docDefault: '`create`, else `true`',
  }),
  create_slot: z.boolean().optional().meta({
    description:
      'Create the replication slot when missing (with an exported snapshot, so the initial snapshot and the stream meet exactly). Off: the slot must exist. slotline drops only a slot that its own first start created and failed before confirming anything.',
    docDefault: '`create`, else `true`',
  }),
  tables: z
    .array(qualifiedTableName)
    .min(1, { error: 'list at least one table, or omit `tables` for all tables' })
    .optional()
    .meta({
      description:
        'The tables slotline captures, `schema.table`: exactly these, whatever else an existing publication carries (partitions of a listed partitioned table included). Also the tables of the publication slotline creates or adds to.',
      docDefault: 'all tables (`FOR ALL TABLES`)',
    }),
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
  standby: z
    .strictObject({
      enabled: flag(
        false,
        'When another process streams the slot, wait (alive, not ready) and take the slot over as soon as it is released, instead of exiting. PostgreSQL lets one connection stream a slot, which makes it the lock between a worker and its standbys.',
      ),
      poll_interval_ms: durationMs(1000, 'How often a waiting standby checks whether the slot was released.', 50),
    })
    .prefault({})
    .describe('Hot standby: run a second worker on the same config to take over within seconds when the first one dies (docs/operations.md, "Hot standby").'),
  wal_sender_timeout_ms: z.int().min(0).optional().meta({
    description:
      "`wal_sender_timeout` of slotline's replication connection: how long PostgreSQL waits on a worker that stopped answering (hung, paused) before it ends the session and releases the slot, and so how long a standby waits to take over from a hung worker. 0 never ends it. The server asks for a reply at half of it, which slotline sends at once.",
    docType: 'integer (ms)',
    docDefault: "the server's (60 s unless changed)",
  }),
  failover: flag(
    false,
    "Create the slot as a failover slot (PostgreSQL 17+, `FAILOVER` option), which the server copies to standbys that have `sync_replication_slots = on`, so that slotline goes on from a promoted standby. An existing slot without it is switched over at start (`ALTER_REPLICATION_SLOT`). Older servers refuse to start with it. See docs/deploy.md, \"Patroni and failover\".",
  ),
  rewind,
};

/** The keys of one source: `source:` has exactly these; an entry of `sources:` adds its name, prefix and routes. */
export const sourceShape = { ...connection, ...slotAndStream };

type SourceKeys = z.output<z.ZodObject<typeof sourceShape>>;

export const sourceSchema = z
  .strictObject(sourceShape)
  .transform((source, ctx) => mergeSource(source, ctx))
  .describe('The Postgres connection, replication slot and publication.');

/** The keys as written → the loaded source: url and discrete keys merged, host list and rewind slot resolved. */
export function mergeSource(source: SourceKeys, ctx: z.RefinementCtx) {
  const { url, create, create_publication, create_slot, rewind, ...rest } = source;
  const fromUrl: ConnectionParts | { error: string } = url === undefined ? {} : parsePostgresUrl(url);
  if ('error' in fromUrl) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: fromUrl.error, input: url });
    return z.NEVER;
  }
  const rewindSlot = rewind === undefined ? undefined : (rewind.slot ?? `${rest.slot}${REWIND_SUFFIX}`);
  if (rewindSlot !== undefined && rewindSlot.length > 63) {
    ctx.addIssue({ code: 'custom', path: ['rewind'], message: `the rewind slot name "${rewindSlot}" is longer than 63 characters: set rewind.slot`, input: rewind });
    return z.NEVER;
  }
  if (rewindSlot === rest.slot) {
    ctx.addIssue({ code: 'custom', path: ['rewind', 'slot'], message: `the rewind slot must not be the main slot "${rest.slot}"`, input: rewindSlot });
    return z.NEVER;
  }
  const { ssl, hosts: hostsKey, ...discrete } = rest;
  const hosts = hostListOf(hostsKey, rest.host, fromUrl.hosts);
  if (hosts !== undefined && 'issue' in hosts) {
    ctx.addIssue({ code: 'custom', path: [hosts.key], message: hosts.issue, input: hosts.key === 'hosts' ? hostsKey : rest.host });
    return z.NEVER;
  }
  if (hosts !== undefined) delete discrete.host; // the host list replaces it (host: a,b)
  // A discrete key the file leaves out must not erase the url's part.
  const defined = Object.fromEntries(Object.entries(discrete).filter(([, v]) => v !== undefined)) as typeof discrete;
  const { hosts: _urlHosts, host: urlHost, ...urlRest } = fromUrl;
  const single = hosts !== undefined && hosts.length === 1 ? hosts[0] : undefined;
  const merged = {
    ...urlRest,
    ...(hosts === undefined ? { host: urlHost } : {}),
    ...defined,
    // One listed host is that host; its own port wins, as each host's does in a list.
    ...(single ? { host: single.host, ...(single.port !== undefined ? { port: single.port } : {}) } : {}),
    hosts: hosts !== undefined && hosts.length > 1 ? hosts : undefined,
    ssl: ssl ?? fromUrl.ssl ?? false,
    create_publication: create_publication ?? create ?? true,
    create_slot: create_slot ?? create ?? true,
    rewind: rewind === undefined ? undefined : { retain: rewind.retain, slot: rewindSlot!, advance_interval_ms: rewind.advance_interval_ms },
  };
  return merged as typeof discrete & { hosts?: HostPort[]; ssl: TlsConfig; create_publication: boolean; create_slot: boolean; rewind?: RewindConfig };
}

export type SourceConfig = z.output<typeof sourceSchema>;

/** `source.rewind` once loaded: the slot name filled in. */
export interface RewindConfig {
  retain: Retention;
  slot: string;
  advance_interval_ms: number;
}
