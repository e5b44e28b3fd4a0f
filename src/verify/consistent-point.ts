/**
 * The consistent point of a verify run, and waiting for a sink to reach it.
 *
 * A snapshot is a `REPEATABLE READ READ ONLY` transaction whose first
 * statement notes `pg_current_wal_insert_lsn()`. The snapshot is taken as that
 * statement starts, so every transaction it sees has written its commit
 * record before the noted position: once a sink has every transaction that
 * ends at or before it, it holds at least what the snapshot shows (and maybe
 * later changes, which the re-checks sort out).
 *
 * A sink has reached a position when the slot that feeds it has confirmed it:
 * the worker confirms a position only once every sink has durably written
 * everything before it (DESIGN.md, invariant 1), and an idle worker confirms
 * the server's keepalive positions (invariant 5). Verify only reads the slot;
 * it never writes to the WAL or moves the slot.
 */
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import { readerConfig } from '../snapshot/snapshot-readers.ts';
import type { Queryable } from '../source/pg-catalog.ts';

export interface Snapshot {
  /** Inside the snapshot's transaction; one query at a time. */
  readonly client: pg.Client;
  /** pg_current_wal_insert_lsn() as the snapshot was taken. */
  readonly lsn: Lsn;
  readonly takenAt: Date;
  /** Ends the transaction and the connection. Idempotent. */
  close(): Promise<void>;
}

/** A connection whose sessions print values as pgoutput does; each `begin()` is a new snapshot on it. */
export interface SnapshotSession {
  begin(): Promise<Snapshot>;
  end(): Promise<void>;
}

export async function openSnapshotSession(connection: ClientConfig): Promise<SnapshotSession> {
  const client = new pg.Client(readerConfig(connection));
  client.on('error', () => undefined); // surfaced by the next query
  await client.connect();
  let open = false;
  return {
    async begin() {
      if (open) await client.query('COMMIT');
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      open = true;
      const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      const snapshot: Snapshot = {
        client,
        lsn: parseLsn(rows[0].lsn),
        takenAt: new Date(),
        close: async () => {
          if (!open) return;
          open = false;
          await client.query('COMMIT').catch(() => undefined);
        },
      };
      return snapshot;
    },
    async end() {
      await client.end().catch(() => undefined);
    },
  };
}

export interface WaitResult {
  /** true: the sink has everything up to the position; false: it did not get there; null: not known (nothing to wait on). */
  caughtUp: boolean | null;
  waitedMs: number;
  /** Why it did not get there, for the report. */
  note?: string;
}

/** How verify learns that a sink has everything up to a position. */
export interface SinkWait {
  /** For the report, e.g. `slot "slotline" confirmed position`. */
  readonly method: string;
  until(lsn: Lsn): Promise<WaitResult>;
}

export interface SlotWaitOptions {
  admin: Queryable;
  slot: string;
  /** Longest wait for one position. */
  timeoutMs: number;
  /** Give up sooner when no worker reads the slot for this long. */
  inactiveMs?: number;
  logger: Logger;
}

/**
 * Waits on the slot's confirmed_flush_lsn. After a wait that did not get
 * there (no worker, or one that does not advance), later waits only look
 * once: the run goes on and its report says the sink may be behind.
 */
export function slotWait(options: SlotWaitOptions): SinkWait {
  const { admin, slot, logger } = options;
  const inactiveMs = options.inactiveMs ?? 10_000;
  let gaveUp = false;
  return {
    method: `slot "${slot}" confirmed position`,
    async until(lsn) {
      const started = Date.now();
      let inactiveSince: number | null = null;
      let told = false;
      for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
        const { rows } = await admin.query<{ confirmed: string | null; active: boolean }>(
          'SELECT confirmed_flush_lsn::text AS confirmed, active FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        const waitedMs = Date.now() - started;
        if (rows.length === 0) return { caughtUp: false, waitedMs, note: `slot "${slot}" does not exist, so nothing feeds this sink` };
        const confirmed = rows[0].confirmed === null ? null : parseLsn(rows[0].confirmed);
        if (confirmed !== null && confirmed >= lsn) return { caughtUp: true, waitedMs };
        const behind = `slot "${slot}" had confirmed ${confirmed === null ? 'nothing' : formatLsn(confirmed)}, not ${formatLsn(lsn)}`;
        if (gaveUp) return { caughtUp: false, waitedMs, note: behind };
        inactiveSince = rows[0].active ? null : (inactiveSince ?? Date.now());
        if (inactiveSince !== null && Date.now() - inactiveSince >= inactiveMs) {
          gaveUp = true;
          return { caughtUp: false, waitedMs, note: `${behind} and no worker has read it for ${Math.round(inactiveMs / 1000)} s` };
        }
        if (waitedMs >= options.timeoutMs) {
          gaveUp = true;
          return { caughtUp: false, waitedMs, note: `${behind} after ${Math.round(waitedMs / 1000)} s` };
        }
        if (!told && waitedMs > 2000) {
          told = true;
          logger.info({ slot, lsn: formatLsn(lsn), confirmed: confirmed === null ? null : formatLsn(confirmed), active: rows[0].active }, 'waiting for the worker to confirm the consistent point');
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
  };
}

/** For a sink nothing in this config feeds (a shadow sink file): compared as it stands. */
export const noWait: SinkWait = {
  method: 'none (no slot of this config feeds the sink)',
  until: async () => ({ caughtUp: null, waitedMs: 0 }),
};
