/**
 * The rewind slot (`source.rewind`): a second logical slot that trails the
 * main one, so that `slotline replay` can re-send changes the main slot has
 * confirmed. Postgres never re-sends a change at or before a slot's
 * confirmed_flush_lsn (since PG 15 it silently moves an earlier requested
 * start up to it), so history must be kept by a slot that was *not*
 * confirmed that far.
 *
 * It is made as a copy of the main slot (pg_copy_logical_replication_slot):
 * same plugin, same database, and the main slot's restart and confirmed
 * positions, so from the moment it exists it holds every change the main
 * slot has yet to confirm, and no more WAL than the main slot already pins.
 * A rewind slot made beside an existing main slot therefore holds history
 * only from the main slot's position at that start; the log says so.
 */
import type { Logger } from 'pino';
import { OperatorError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import type { Queryable } from './pg-catalog.ts';
import { createSlotAdmin, pgCode, slotProblem, slotsExhausted } from './slot-admin.ts';

export interface RewindSlotSpec {
  /** The main slot it trails. */
  main: string;
  rewind: string;
  /** This start created the main slot (a rewind slot made now then holds everything the main slot will stream). */
  mainCreated: boolean;
}

export interface EnsuredRewindSlot {
  created: boolean;
  /** The confirmed position it was created at (only when created). */
  createdAt?: Lsn;
}

export async function ensureRewindSlot(db: Queryable, spec: RewindSlotSpec, logger: Logger): Promise<EnsuredRewindSlot> {
  const admin = createSlotAdmin(db);
  const existing = await admin.readSlot(spec.rewind);
  if (existing) {
    const database = (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const lost = existing.walStatus === 'lost' || existing.invalidationReason !== null;
    if (!lost) {
      const problem = slotProblem(existing, database);
      if (problem) throw problem;
      logger.info({ slot: spec.rewind, confirmedLsn: existing.confirmedFlushLsn === null ? null : formatLsn(existing.confirmedFlushLsn) }, 'rewind slot found');
      return { created: false };
    }
    // Its WAL is gone: it can replay nothing. It is slotline's own and useless, so it is made again (loudly).
    logger.warn(
      { slot: spec.rewind, walStatus: existing.walStatus, invalidationReason: existing.invalidationReason },
      'the rewind slot was invalidated (its retained WAL outgrew max_slot_wal_keep_size, or it was idle too long); dropping it and creating it again: the history it held is gone',
    );
    await db.query('SELECT pg_drop_replication_slot($1)', [spec.rewind]);
  }
  const createdAt = await copySlot(db, spec.main, spec.rewind);
  if (createdAt === null) return { created: false }; // made meanwhile by another start of this config
  if (spec.mainCreated) {
    logger.info({ slot: spec.rewind, from: formatLsn(createdAt) }, 'created the rewind slot beside the new slot');
  } else {
    logger.warn(
      { slot: spec.rewind, from: formatLsn(createdAt) },
      `created the rewind slot, which was missing: it holds history only from the slot's confirmed position now (${formatLsn(createdAt)}) on; slotline replay cannot go back further`,
    );
  }
  return { created: true, createdAt };
}

/** Copies `source` (a logical slot) into a new persistent slot; returns the copy's confirmed position, or null when `target` exists already. */
async function copySlot(db: Queryable, source: string, target: string): Promise<Lsn | null> {
  try {
    const { rows } = await db.query<{ lsn: string }>('SELECT lsn::text AS lsn FROM pg_copy_logical_replication_slot($1, $2)', [source, target]);
    return parseLsn(rows[0].lsn);
  } catch (err) {
    if (pgCode(err) === '53400') throw await slotsExhausted(db, target, err);
    if (pgCode(err) === '42710') return null;
    throw new OperatorError(`cannot create the rewind slot "${target}" as a copy of "${source}": ${(err as Error).message}`, {
      hint: 'the role needs the REPLICATION attribute and a free replication slot (max_replication_slots); or remove source.rewind',
      cause: err,
    });
  }
}
