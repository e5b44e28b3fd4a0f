/**
 * What test files use to reach the servers that global-setup.ts started once
 * for the whole vitest run.
 *
 * Isolation: test files run in parallel against the same servers, so each file
 * takes its own database (`freshDatabase`), its own slot and publication names
 * (`uniqueName`) and its own topics (`uniqueName` again). Nothing is dropped
 * afterwards: the servers are thrown away at the end of the run.
 *
 * A test that must stop, kill or reconfigure a server does not touch the shared
 * ones, which other files are using at that moment. It starts a private server:
 * `startKafka()` from ./kafka.ts (the conformance suite's outage, test/conformance/:
 * `stop()`, wait, `start()` on the same ports and data, then `close()` in
 * afterAll; ~5 s to start, 512 MB heap cap) or `startPostgres({ major })` from
 * ./postgres.ts (`restart()`, special `postgresFlags`; ~1 s to start).
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { pgEndpoint, type PgConnectionInfo, type PgEndpoint } from './postgres.ts';

export interface KafkaConnectionInfo {
  version: string;
  brokers: string[];
}

export interface EsConnectionInfo {
  version: string;
  /** `http://127.0.0.1:<port>`, security off. */
  node: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** One entry per major in SLOTLINE_PG_MAJORS, in that order (the first is the default). */
    slotlinePostgres: PgConnectionInfo[];
    slotlineKafka: KafkaConnectionInfo;
    slotlineElasticsearch: EsConnectionInfo;
    slotlineRedis: { url: string };
  }
}

/** Every shared PostgreSQL server, in SLOTLINE_PG_MAJORS order. */
export function pgServers(): PgEndpoint[] {
  return inject('slotlinePostgres').map(pgEndpoint);
}

/** The shared server of `major`, or the first one (the run's default major). */
export function pgServer(major?: number): PgEndpoint {
  const servers = pgServers();
  const server = major === undefined ? servers[0] : servers.find((s) => s.major === major);
  if (server === undefined) {
    const started = servers.map((s) => s.major).join(', ');
    throw new Error(`no shared PostgreSQL ${major ?? ''} in this run (started: ${started}); set SLOTLINE_PG_MAJORS`);
  }
  return server;
}

export function kafkaBrokers(): string[] {
  return inject('slotlineKafka').brokers;
}

export function kafkaVersion(): string {
  return inject('slotlineKafka').version;
}

/** The shared Elasticsearch node's URL (private one for stop/kill tests: `startElasticsearch()` from ./elasticsearch.ts). */
export function esNode(): string {
  return inject('slotlineElasticsearch').node;
}

/**
 * The shared Redis (`redis://127.0.0.1:<port>`). Tests on it use their own key
 * prefixes; a test that stops, kills or reconfigures Redis starts a private
 * one with `startRedis()` from ./redis.ts.
 */
export function redisUrl(): string {
  return inject('slotlineRedis').url;
}

/**
 * A name no other test file uses: `<prefix>_<12 random hex>`, lower case, valid as
 * a database, slot, publication or topic name (Postgres keeps 63 bytes of a name).
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 't';
  return `${clean}_${randomBytes(6).toString('hex')}`;
}

export interface FreshDatabase extends PgEndpoint {
  /** The database's name. */
  database: string;
  /** The server URL of this database. */
  databaseUrl: string;
  /** Runs one statement in this database. */
  sql(sql: string, params?: unknown[]): Promise<any[]>;
}

/** Creates an empty, uniquely named database on the shared server of `major` (default: the first). */
export async function freshDatabase(prefix: string, major?: number): Promise<FreshDatabase> {
  const server = pgServer(major);
  const database = uniqueName(prefix);
  await server.createDatabase(database);
  return {
    ...server,
    database,
    databaseUrl: server.url(database),
    sql: (sql, params) => server.query(sql, params, database),
  };
}

/**
 * Whether `slot` is made: it is listed and has found its
 * consistent point. The server lists a logical slot as soon as it starts
 * making it, with a null confirmed_flush_lsn until every transaction then
 * running anywhere on the server has ended (another test file's, say); a
 * transaction that commits before that is not in the slot.
 */
export async function slotMade(db: Pick<FreshDatabase, 'sql'>, slot: string): Promise<boolean> {
  const rows = await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn IS NOT NULL', [slot]);
  return rows.length === 1;
}

/** Whether a worker streams from `slot`: it is made (slotMade) and a session holds it. False once released. */
export async function slotStreaming(db: Pick<FreshDatabase, 'sql'>, slot: string): Promise<boolean> {
  const rows = await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn IS NOT NULL AND active', [slot]);
  return rows.length === 1;
}
