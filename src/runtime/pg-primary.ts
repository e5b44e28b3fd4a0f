/**
 * Several hosts, one writable primary: libpq's `target_session_attrs=read-write`
 * done here, because node-postgres connects to exactly one host.
 *
 * Decisions:
 * - Hosts are tried in the configured order, one at a time; the first whose
 *   `pg_is_in_recovery()` is false is the primary. A standby, a host that
 *   refuses or times out (`connect_timeout_ms`) and a host that rejects the
 *   login are all skipped; when none is the primary, the error lists what each
 *   one said. That error is retryable: during a failover there is, for a
 *   while, no primary at all.
 * - With one host nothing is probed: the connection itself reports what is
 *   wrong, as it always did.
 * - The primary is looked up again each time the replication connection is
 *   (re)opened. Every connection made afterwards (the admin pool's, the slot
 *   monitor's, the rewind keeper's, snapshot readers) goes to that host:
 *   `connection()` returns settings whose host and port are read when a
 *   client is made, and `pool()` makes its clients the same way.
 */
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { describeError, RetryableError } from '../errors.ts';
import type { HostPort } from '../config/source-schema.ts';
import { describeTarget, pgClientConfig, replicationClientConfig, type PgConnectionSettings } from './pg-connection.ts';

/** The candidate servers of a source: its `hosts`, else its one `host`. */
export function hostCandidates(source: PgConnectionSettings): HostPort[] {
  return source.hosts && source.hosts.length > 0 ? source.hosts : [{ host: source.host!, port: source.port }];
}

/** The source's settings aimed at one host (no host list left). */
export function onHost<T extends PgConnectionSettings>(source: T, target: HostPort): T {
  return { ...source, hosts: undefined, host: target.host, port: target.port ?? source.port };
}

export type HostRole = 'primary' | 'standby';

/** Connects to one host and asks whether it is in recovery. Throws what the connection threw. */
export async function probeHost(source: PgConnectionSettings, target: HostPort): Promise<HostRole> {
  const client = new pg.Client(pgClientConfig(onHost(source, target), 'slotline-probe'));
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
    return rows[0].standby ? 'standby' : 'primary';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The writable primary among the source's hosts, as settings for that host
 * alone. One host: returned as it is, unprobed. Throws RetryableError naming
 * what each host answered when none is the primary.
 */
export async function findPrimary<T extends PgConnectionSettings>(source: T, logger?: Logger): Promise<T> {
  if (!source.hosts || source.hosts.length < 2) return source;
  const answers: string[] = [];
  for (const candidate of source.hosts) {
    const settings = onHost(source, candidate);
    const where = describeTarget(settings);
    try {
      const role = await probeHost(source, candidate);
      if (role === 'primary') return settings;
      answers.push(`${where} is a standby (in recovery)`);
    } catch (err) {
      answers.push(`${where}: ${describeError(err)}`);
    }
  }
  logger?.warn({ hosts: answers }, 'no writable primary among the configured hosts');
  throw new RetryableError(`no writable primary among the ${source.hosts.length} configured hosts: ${answers.join('; ')}`, {
    hint: 'check that one of source.hosts is a running primary (during a failover, promote a standby); slotline keeps trying',
  });
}

/** Where a worker's connections go: the primary found last. */
export interface PrimaryTarget {
  /** Settings of the current primary. */
  current(): PgConnectionSettings;
  /** Looks for the primary again (multi-host only); resolves with its settings. */
  locate(): Promise<PgConnectionSettings>;
  /** Client settings that follow the current primary: host and port are read each time a client is made from them. */
  connection(applicationName?: string): ClientConfig;
  /** The replication connection's settings for the current primary. */
  replication(): ClientConfig;
  /** A pool whose new clients connect to the current primary. */
  pool(applicationName: string, max: number): pg.Pool;
}

/** Finds the primary once (throws as findPrimary does) and returns a target that follows it. */
export async function createPrimaryTarget(source: PgConnectionSettings, logger: Logger): Promise<PrimaryTarget> {
  let current = await findPrimary(source, logger);
  const multiHost = source.hosts !== undefined && source.hosts.length > 1;
  const follow = (config: ClientConfig): ClientConfig => {
    if (!multiHost) return config;
    const { host: _host, port: _port, ...rest } = config;
    return Object.defineProperties(rest, {
      host: { get: () => current.host, enumerable: true },
      port: { get: () => current.port, enumerable: true },
    }) as ClientConfig;
  };
  return {
    current: () => current,
    async locate() {
      if (!multiHost) return current;
      const found = await findPrimary(source, logger);
      if (found.host !== current.host || found.port !== current.port) {
        logger.warn({ from: describeTarget(current), to: describeTarget(found) }, 'the primary moved: following it');
      }
      current = found;
      return current;
    },
    connection: (applicationName) => follow(pgClientConfig(current, applicationName)),
    replication: () => replicationClientConfig(current),
    pool(applicationName, max) {
      const config = pgClientConfig(current, applicationName);
      if (!multiHost) return new pg.Pool({ ...config, max });
      // pg.Pool copies its options once; a Client of our own reads the current primary per connection.
      // (The pool keeps the password non-enumerable: a spread alone would drop it.)
      class PrimaryClient extends pg.Client {
        constructor(options?: ClientConfig) {
          super({ ...options, password: options?.password, host: current.host, port: current.port });
        }
      }
      return new pg.Pool({ ...config, max, Client: PrimaryClient });
    },
  };
}
