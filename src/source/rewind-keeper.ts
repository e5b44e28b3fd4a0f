/**
 * Moves the rewind slot forward so that it trails the main slot by the
 * retention window, on an ordinary connection of its own (never the
 * replication connection, never the admin pool the pipeline waits on):
 * `pg_replication_slot_advance` decodes the WAL it skips on the server and
 * moves the slot's confirmed position, without sending anything here.
 *
 * - By time (`retain: 1h`): to the furthest position at which every
 *   transaction still held committed after now − 1h (rewind-history.ts).
 * - By WAL (`retain: 2GiB`): to the main slot's confirmed position − 2 GiB.
 *
 * Never past the main slot's confirmed_flush_lsn, never backwards. A failed
 * round is logged and counted and tried again at the next interval: the
 * rewind slot then keeps more history for a while; the worker goes on.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { formatDuration, formatRetention } from '../config/retention.ts';
import type { RewindConfig } from '../config/source-schema.ts';
import { humanSize } from '../config/sizes.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import type { RewindTelemetry } from '../observe/telemetry.ts';
import { createCommitHistory } from './rewind-history.ts';
import { pgCode } from './slot-admin.ts';

/** How often an advance is also logged at info (every advance is at debug). */
const INFO_EVERY_MS = 10 * 60_000;

export interface RewindKeeperOptions {
  /** An ordinary connection's settings. */
  connection: pg.ClientConfig;
  mainSlot: string;
  rewind: RewindConfig;
  /** Where the keeper reports (metrics, /status). */
  telemetry: RewindTelemetry;
  logger: Logger;
}

export interface RewindKeeper {
  /** A commit the pipeline read: its end LSN and commit time (µs since the epoch). Cheap; called per commit. */
  observeCommit(endLsn: Lsn, commitTimeUs: bigint): void;
  /** One round now: read both slots, advance when due. The timer calls it; tests may too. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

interface Reading {
  nowMs: number;
  currentWal: Lsn;
  mainConfirmed: Lsn | null;
  rewind: { confirmed: Lsn | null; restart: Lsn | null; active: boolean; lost: boolean } | null;
}

export function createRewindKeeper(options: RewindKeeperOptions): RewindKeeper {
  const { rewind, telemetry, logger } = options;
  const retain = rewind.retain;
  const history = createCommitHistory({ bucketMs: retain.by === 'time' ? Math.max(1000, retain.ms / 1024) : 10_000, capacity: 4096 });
  let client: pg.Client | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let lastInfoAt = 0;
  let lastProblem: string | null = null;
  let firstReading = true;

  const connected = async (): Promise<pg.Client> => {
    if (client) return client;
    const fresh = new pg.Client(options.connection);
    fresh.on('error', () => {
      if (client === fresh) client = null;
    });
    await fresh.connect();
    client = fresh;
    return fresh;
  };

  const read = async (db: pg.Client): Promise<Reading> => {
    const { rows } = await db.query(
      `SELECT (extract(epoch FROM now()) * 1000)::float8 AS now_ms, pg_current_wal_lsn()::text AS current,
              (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS main_confirmed,
              (SELECT to_jsonb(s) FROM pg_replication_slots s WHERE slot_name = $2) AS rewind`,
      [options.mainSlot, rewind.slot],
    );
    const r = rows[0];
    const s = r.rewind as Record<string, any> | null;
    return {
      nowMs: r.now_ms,
      currentWal: parseLsn(r.current),
      mainConfirmed: r.main_confirmed ? parseLsn(r.main_confirmed) : null,
      rewind: s && {
        confirmed: s.confirmed_flush_lsn ? parseLsn(s.confirmed_flush_lsn) : null,
        restart: s.restart_lsn ? parseLsn(s.restart_lsn) : null,
        active: s.active === true,
        lost: s.wal_status === 'lost' || (s.invalidation_reason ?? null) !== null,
      },
    };
  };

  /** A problem that stops advancing: logged once when it appears, kept in the telemetry. */
  const problem = (message: string | null): void => {
    if (message !== null) telemetry.errors++;
    if (message !== null && message !== lastProblem) logger.warn({ slot: rewind.slot }, message);
    lastProblem = message;
    telemetry.lastError = message;
  };

  const report = (reading: Reading): void => {
    const r = reading.rewind;
    telemetry.confirmedLsn = r?.confirmed ?? null;
    telemetry.restartLsn = r?.restart ?? null;
    telemetry.retainedWalBytes = r?.restart == null ? null : Math.max(0, Number(reading.currentWal - r.restart));
    telemetry.polledAt = Date.now();
  };

  const round = async (): Promise<void> => {
    const db = await connected();
    const before = await read(db);
    report(before);
    const r = before.rewind;
    if (firstReading && r !== null) {
      firstReading = false;
      const retained = telemetry.retainedWalBytes;
      logger.info({ slot: rewind.slot, retain: formatRetention(retain), confirmedLsn: r.confirmed === null ? null : formatLsn(r.confirmed), retainedWal: retained === null ? null : humanSize(retained) }, 'rewind slot');
    }
    if (r === null) return problem(`the rewind slot "${rewind.slot}" does not exist: slotline replay has no history; the worker creates it again at its next start`);
    if (r.lost) return problem(`the rewind slot "${rewind.slot}" is invalidated: its WAL is gone; the worker creates it again at its next start`);
    if (before.mainConfirmed === null || r.confirmed === null) return problem(null);
    history.record(before.nowMs, before.mainConfirmed);
    const wanted = retain.by === 'time' ? history.target(before.nowMs - retain.ms, before.mainConfirmed) : before.mainConfirmed - BigInt(retain.bytes);
    if (wanted === null || wanted <= r.confirmed) return problem(null);
    const target = wanted < before.mainConfirmed ? wanted : before.mainConfirmed;
    let reached: Lsn;
    try {
      const { rows } = await db.query<{ end_lsn: string }>('SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::pg_lsn)', [rewind.slot, formatLsn(target)]);
      reached = parseLsn(rows[0].end_lsn);
    } catch (err) {
      // In use (someone streams from it) or gone meanwhile: say so once, try again next round.
      if (pgCode(err) === '55006' || pgCode(err) === '42704') return problem(`cannot advance the rewind slot "${rewind.slot}": ${(err as Error).message}`);
      throw err;
    }
    problem(null);
    telemetry.advances++;
    const since = history.timeAt(reached);
    if (since !== null) telemetry.holdsSince = since;
    history.forget(reached);
    const after = await read(db);
    report(after);
    const fields = {
      slot: rewind.slot,
      retain: formatRetention(retain),
      confirmedLsn: formatLsn(reached),
      retainedWal: telemetry.retainedWalBytes === null ? null : humanSize(telemetry.retainedWalBytes),
      window: telemetry.holdsSince === null ? null : formatDuration(before.nowMs - telemetry.holdsSince),
    };
    const now = Date.now();
    if (now - lastInfoAt >= INFO_EVERY_MS) {
      lastInfoAt = now;
      logger.info(fields, 'rewind slot advanced');
    } else logger.debug(fields, 'rewind slot advanced');
  };

  const tick = (): Promise<void> => {
    running ??= round()
      .catch((err) => {
        telemetry.errors++;
        telemetry.lastError = (err as Error).message;
        logger.warn({ slot: rewind.slot, err: (err as Error).message }, 'rewind slot round failed; trying again at the next interval');
        const broken = client;
        client = null;
        void broken?.end().catch(() => undefined);
      })
      .finally(() => (running = null));
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, rewind.advance_interval_ms);
  timer.unref();

  return {
    observeCommit(endLsn, commitTimeUs) {
      history.record(Number(commitTimeUs / 1000n), endLsn);
    },
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
