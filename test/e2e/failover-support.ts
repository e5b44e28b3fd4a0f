/**
 * What the failover-slot tests share: a private PostgreSQL 17 primary with a
 * physical standby that synchronizes failover slots, one database on it, and
 * a slotline config that names both hosts.
 */
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { startStandby, type PgStandby } from '../harness/postgres-standby.ts';
import type { FreshDatabase } from '../harness/context.ts';
import { eventually } from './support.ts';

export interface FailoverPair {
  primary: PgServer;
  standby: PgStandby;
  /** The test database, on the primary (FreshDatabase's shape, for writeConfig). */
  db: FreshDatabase;
  /** `source.hosts` entries: the primary first, then the standby. */
  hosts: string[];
  stop(): Promise<void>;
}

/**
 * A PostgreSQL 17 primary, a standby with sync_replication_slots and
 * hot_standby_feedback on, and database `database` on the primary.
 * synchronized_standby_slots is left unset: setStandbySlots sets it.
 */
export async function startFailoverPair(database: string): Promise<FailoverPair> {
  const primary = await startPostgres({ major: 17 });
  let standby: PgStandby;
  try {
    await primary.createDatabase(database);
    standby = await startStandby(primary, {
      slot: 'standby1',
      postgresFlags: ['-c', 'sync_replication_slots=on', '-c', 'hot_standby_feedback=on'],
    });
  } catch (err) {
    await primary.stop();
    throw err;
  }
  const db: FreshDatabase = {
    ...primary,
    database,
    databaseUrl: primary.url(database),
    sql: (sql, params) => primary.query(sql, params, database),
  };
  return {
    primary,
    standby,
    db,
    hosts: [`${primary.host}:${primary.port}`, `${standby.host}:${standby.port}`],
    async stop() {
      await standby.stop().catch(() => undefined);
      await primary.stop().catch(() => undefined);
    },
  };
}

/** synchronized_standby_slots = the standby's physical slot, so logical walsenders wait for it. */
export async function setStandbySlots(pair: FailoverPair): Promise<void> {
  await pair.primary.query(`ALTER SYSTEM SET synchronized_standby_slots = '${pair.standby.slot}'`);
  await pair.primary.query('SELECT pg_reload_conf()');
}

/** Waits until the standby holds a persistent, synchronized copy of `slot`. */
export async function waitForSyncedSlot(pair: FailoverPair, slot: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    async () => (await pair.standby.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND synced AND NOT temporary', [slot])).length > 0,
    timeoutMs,
    `slot ${slot} to be synchronized to the standby`,
  );
}
