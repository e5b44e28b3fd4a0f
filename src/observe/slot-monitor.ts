/**
 * Watches the worker's own slot from the server's side, on an ordinary
 * connection of its own (not the replication connection, not the admin pool
 * the pipeline waits on): how much WAL the slot makes Postgres keep, whether
 * it is active, and how close it is to being invalidated. This is what fills
 * a disk when a consumer stalls, so it is read even while the pipeline is
 * paused or reconnecting. A failed poll is counted and retried at the next
 * interval; it never stops the worker.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { parseLsn, type Lsn } from '../lsn.ts';

export interface SlotReading {
  at: number;
  active: boolean;
  activePid: number | null;
  restartLsn: Lsn | null;
  confirmedFlushLsn: Lsn | null;
  /** pg_current_wal_lsn() at the time of reading. */
  currentWalLsn: Lsn;
  /** pg_current_wal_lsn() − restart_lsn: the WAL the server keeps for this slot. */
  retainedWalBytes: number | null;
  /** reserved | extended | unreserved | lost; null before PG 13. */
  walStatus: string | null;
  /** Bytes that can still be written before the slot is invalidated (max_slot_wal_keep_size); null when unlimited. */
  safeWalSizeBytes: number | null;
}

export interface SlotMonitor {
  /** The last successful reading; null before the first, or when the slot does not exist. */
  readonly last: SlotReading | null;
  readonly exists: boolean;
  readonly pollErrors: number;
  /** Reads now (also used by `slotline status`). */
  poll(): Promise<SlotReading | null>;
  stop(): Promise<void>;
}

export const SLOT_QUERY = `
  SELECT to_jsonb(s) AS s, pg_current_wal_lsn()::text AS current,
         (pg_current_wal_lsn() - s.restart_lsn)::float8 AS retained
    FROM pg_replication_slots s WHERE s.slot_name = $1`;

/** One reading of a slot, on any connection; null when the slot does not exist. */
export async function readSlotState(db: { query: pg.Client['query'] }, slot: string, at = Date.now()): Promise<SlotReading | null> {
  const { rows } = await db.query<{ s: Record<string, any>; current: string; retained: number | null }>(SLOT_QUERY, [slot]);
  if (rows.length === 0) return null;
  const { s, current, retained } = rows[0];
  return {
    at,
    active: s.active === true,
    activePid: s.active_pid ?? null,
    restartLsn: s.restart_lsn ? parseLsn(s.restart_lsn) : null,
    confirmedFlushLsn: s.confirmed_flush_lsn ? parseLsn(s.confirmed_flush_lsn) : null,
    currentWalLsn: parseLsn(current),
    retainedWalBytes: retained === null ? null : Math.max(0, retained),
    walStatus: s.wal_status ?? null,
    safeWalSizeBytes: s.safe_wal_size === null || s.safe_wal_size === undefined ? null : Number(s.safe_wal_size),
  };
}

export function createSlotMonitor(options: {
  connection: pg.ClientConfig;
  slot: string;
  intervalMs: number;
  logger: Logger;
  onReading?: (reading: SlotReading) => void;
}): SlotMonitor {
  let client: pg.Client | null = null;
  let last: SlotReading | null = null;
  let exists = false;
  let pollErrors = 0;
  let stopped = false;
  let polling: Promise<SlotReading | null> | null = null;

  const connected = async (): Promise<pg.Client> => {
    if (client) return client;
    const fresh = new pg.Client(options.connection);
    fresh.on('error', () => {
      if (client === fresh) client = null; // reconnect at the next poll
    });
    await fresh.connect();
    client = fresh;
    return fresh;
  };

  const pollOnce = async (): Promise<SlotReading | null> => {
    try {
      const reading = await readSlotState(await connected(), options.slot);
      exists = reading !== null;
      if (reading) {
        last = reading;
        options.onReading?.(reading);
      }
      return reading;
    } catch (err) {
      pollErrors++;
      options.logger.debug({ err: (err as Error).message }, 'slot poll failed');
      const broken = client;
      client = null;
      await broken?.end().catch(() => undefined);
      return null;
    }
  };

  const poll = (): Promise<SlotReading | null> => {
    polling ??= pollOnce().finally(() => (polling = null));
    return polling;
  };

  const timer = setInterval(() => {
    if (!stopped) void poll();
  }, options.intervalMs);
  timer.unref();
  void poll();

  return {
    get last() {
      return last;
    },
    get exists() {
      return exists;
    },
    get pollErrors() {
      return pollErrors;
    },
    poll,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await polling?.catch(() => undefined);
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
