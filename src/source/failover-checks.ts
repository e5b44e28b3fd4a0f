/**
 * `source.failover`: what preflight checks about failover slots (PostgreSQL 17+),
 * and the switch of an existing slot to one.
 *
 * Decisions:
 * - On a server before 17 `failover: true` is a configuration error: the slot
 *   would not survive a promotion, which is what the operator asked for.
 * - Physical standbys without `synchronized_standby_slots` are a warning, not
 *   an error: failover slots still work, but the logical walsender may send
 *   slotline changes a standby has not received yet. After that standby is
 *   promoted the sinks hold changes the new primary never had.
 * - An existing slot without failover is switched with ALTER_REPLICATION_SLOT
 *   (17+, on a replication connection, while no one streams it) rather than
 *   only warned about: the config says the slot must survive a failover, and
 *   the switch changes nothing else about the slot.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { OperatorError } from '../errors.ts';
import type { Queryable, SlotInfo } from './slot-admin.ts';

export const FAILOVER_MIN_MAJOR = 17;

/** Refuses `failover: true` on a server that has no failover slots. */
export function checkFailoverSupported(failover: boolean | undefined, server: { version: string; major: number }, where: string): void {
  if (!failover || server.major >= FAILOVER_MIN_MAJOR) return;
  throw new OperatorError(`source.failover needs PostgreSQL ${FAILOVER_MIN_MAJOR} or later, and ${where} runs PostgreSQL ${server.version}`, {
    hint: 'upgrade the cluster to PostgreSQL 17+, or set source.failover: false (on older servers keep the slot across a failover with Patroni permanent slots, docs/deploy.md)',
    permanent: true,
  });
}

/**
 * The physical standbys the primary knows (physical slots, streaming walsenders not on a logical slot), by name.
 * Without pg_read_all_stats a role sees no walsender's state, so only the
 * physical slots count then; slot synchronization needs them anyway (primary_slot_name).
 */
export async function physicalStandbys(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT slot_name::text AS name FROM pg_replication_slots WHERE slot_type = 'physical'
     UNION
     SELECT coalesce(nullif(r.application_name, ''), 'pid ' || r.pid) FROM pg_stat_replication r
      WHERE r.state IN ('streaming', 'catchup')
        AND NOT EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
     ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** A warning when failover is on, the server has physical standbys and synchronized_standby_slots is empty; else null. */
export async function standbySlotsWarning(db: Queryable, failover: boolean | undefined, major: number): Promise<string | null> {
  if (!failover || major < FAILOVER_MIN_MAJOR) return null;
  const setting = (await db.query<{ value: string | null }>(`SELECT current_setting('synchronized_standby_slots', true) AS value`)).rows[0].value ?? '';
  if (setting.trim() !== '') return null;
  const standbys = await physicalStandbys(db);
  if (standbys.length === 0) return null;
  const slots = (await db.query<{ name: string }>(`SELECT slot_name::text AS name FROM pg_replication_slots WHERE slot_type = 'physical' ORDER BY 1`)).rows.map((r) => r.name);
  const fix = slots.length > 0
    ? `ALTER SYSTEM SET synchronized_standby_slots = '${slots.join(', ')}'; SELECT pg_reload_conf();`
    : "give each standby a physical slot (primary_slot_name) and list them: ALTER SYSTEM SET synchronized_standby_slots = '<slots>'; SELECT pg_reload_conf();";
  return (
    `the server has physical standbys (${standbys.join(', ')}) but synchronized_standby_slots is not set: ` +
    `slotline may receive changes a standby does not have yet, and after that standby is promoted the sinks hold changes the new primary lacks; fix: ${fix}`
  );
}

/**
 * Makes an existing slot a failover slot (ALTER_REPLICATION_SLOT … (FAILOVER true)).
 * Needs a replication connection and a slot no one streams. Returns whether it changed it.
 */
export async function enableSlotFailover(replication: pg.ClientConfig, slot: SlotInfo, logger: Logger): Promise<boolean> {
  if (slot.failover !== false) return false;
  const client = new pg.Client({ ...replication, application_name: 'slotline-admin', replication: 'database' } as pg.ClientConfig);
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`ALTER_REPLICATION_SLOT ${pg.escapeIdentifier(slot.name)} (FAILOVER true)`);
    logger.info({ slot: slot.name }, 'made the existing slot a failover slot (source.failover)');
    return true;
  } catch (err) {
    throw new OperatorError(`cannot make replication slot "${slot.name}" a failover slot: ${(err as Error).message}`, {
      hint: `run it yourself on a replication connection: psql "dbname=<database> replication=database" -c 'ALTER_REPLICATION_SLOT ${slot.name} (FAILOVER true)'; or set source.failover: false`,
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
