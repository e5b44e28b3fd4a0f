/**
 * The temporary slot a replay streams from: a copy of the rewind slot (for
 * `slotline drill` without --from: of the drill's own temporary slot), made
 * inside the replication session itself (a walsender connection in database
 * mode runs SQL too), moved to the replay's start, then streamed.
 *
 * Why temporary, and why in that session: a temporary slot belongs to the
 * session that made it — no other session can use it — and Postgres drops it
 * when that session ends, however it ends: replay done, Ctrl-C, an error, or
 * the replay process killed (the server notices the closed connection). A
 * persistent copy could be streamed from any connection, but a replay that
 * died would leave it behind, pinning WAL. Making it in the session that
 * streams gives both: only this stream uses it, and nothing outlives it.
 *
 * The rewind slot itself is only read (copied); the main slot is not touched.
 * After a lost connection the next session makes a new copy: if the rewind
 * slot has moved past where the replay stands meanwhile, that history is gone
 * and the replay stops with an error rather than skip it.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { OperatorError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import type { Queryable } from '../source/pg-catalog.ts';
import { pgCode, slotsExhausted } from '../source/slot-admin.ts';

export interface ReplaySlotsOptions {
  rewindSlot: string;
  /** Stem of the temporary slots' names; each session's copy adds `_<n>`. */
  stem: string;
  /** The first session may start where the copy is, past the requested start (`--from rewind`: the rewind slot may have moved since it was read). */
  firstMayStartLater: boolean;
  /** The error for a start the rewind slot no longer holds. */
  tooOld: (start: Lsn, holdsFrom: Lsn) => OperatorError;
  logger: Logger;
}

export interface ReplaySlots {
  /** For ReplicationStreamOptions.prepareSlot: copy, move to `startLsn`, return the copy's name. */
  prepare(client: pg.Client, startLsn: Lsn): Promise<string>;
  /** Where the first session actually started; null before it did. */
  readonly startedAt: Lsn | null;
  /** Every temporary slot made, in order. */
  readonly names: readonly string[];
  /** Waits until the server has dropped every temporary slot (their sessions ended); ends our own session that still holds one. */
  awaitDropped(db: Queryable, timeoutMs?: number): Promise<string[]>;
}

export function createReplaySlots(options: ReplaySlotsOptions): ReplaySlots {
  const names: string[] = [];
  let startedAt: Lsn | null = null;

  return {
    async prepare(client, startLsn) {
      const name = `${options.stem}_${names.length + 1}`;
      names.push(name);
      // A replication connection speaks only the simple query protocol: no parameters. Names are [a-z0-9_], LSNs X/Y.
      let copiedAt: Lsn;
      try {
        const { rows } = await client.query(`SELECT lsn::text AS lsn FROM pg_copy_logical_replication_slot('${options.rewindSlot}', '${name}', true)`);
        copiedAt = parseLsn(rows[0].lsn);
      } catch (err) {
        throw await copyError(client, options.rewindSlot, name, err);
      }
      const first = startedAt === null;
      if (copiedAt > startLsn && !(first && options.firstMayStartLater)) throw options.tooOld(startLsn, copiedAt);
      if (copiedAt < startLsn) await client.query(`SELECT pg_replication_slot_advance('${name}', '${formatLsn(startLsn)}')`);
      startedAt ??= copiedAt > startLsn ? copiedAt : startLsn;
      options.logger.info({ slot: name, from: formatLsn(copiedAt > startLsn ? copiedAt : startLsn), copyOf: options.rewindSlot }, 'temporary slot made as a copy');
      return name;
    },
    get startedAt() {
      return startedAt;
    },
    names,
    awaitDropped: (db, timeoutMs) => awaitSlotsDropped(db, names, timeoutMs),
  };
}

/**
 * Waits until the server has dropped these temporary slots (their sessions
 * ended); returns those still there after `timeoutMs`. A walsender outlives
 * its client for a moment; one that lingers past half the time is ended (the
 * names are the caller's alone).
 */
export async function awaitSlotsDropped(db: Queryable, names: readonly string[], timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  for (;;) {
    const { rows } = await db.query<{ name: string; pid: number | null }>(
      'SELECT slot_name::text AS name, active_pid AS pid FROM pg_replication_slots WHERE slot_name = ANY ($1::text[])',
      [names],
    );
    if (rows.length === 0) return [];
    if (Date.now() > deadline) return rows.map((r) => r.name);
    if (!ended && Date.now() > deadline - timeoutMs / 2) {
      ended = true;
      for (const r of rows) if (r.pid !== null) await db.query('SELECT pg_terminate_backend($1)', [r.pid]).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function copyError(client: pg.Client, rewindSlot: string, name: string, err: unknown): Promise<Error> {
  const code = pgCode(err);
  if (code === '42704') {
    return new OperatorError(`the rewind slot "${rewindSlot}" does not exist`, {
      hint: 'slotline run creates it at start when source.rewind is set; it holds history only from then on',
      cause: err,
    });
  }
  if (code === '53400') return slotsExhausted(client, name, err);
  return new OperatorError(`cannot copy the rewind slot "${rewindSlot}": ${(err as Error).message}`, {
    hint: 'the role needs the REPLICATION attribute; an invalidated rewind slot is made again at the worker\'s next start',
    cause: err,
  });
}
