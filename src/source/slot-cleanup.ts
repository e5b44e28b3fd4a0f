/**
 * The one case in which slotline drops a slot it may hold changes for (the
 * other: an invalidated rewind slot, rewind-slot.ts): this start created it, and
 * then failed before any sink acknowledged a change from it. Its confirmed
 * position is then the one it was created at, or, when the stream idled
 * first, a WAL end confirmed while nothing captured was in flight: the WAL
 * it passed held no change for a sink. Nothing depends on such a slot — no
 * sink has a change from it — but left behind it pins WAL until someone
 * notices. A slot that existed before this start, or whose changes a sink
 * acknowledged, is never dropped (DESIGN.md: "never silently drops").
 *
 * What a drop costs: the next start creates a new slot. With snapshot.mode
 * initial (and the other snapshotting modes) that new slot comes with a new
 * snapshot, so nothing is missed. With no_data there is no snapshot: a change
 * already in the slot would be lost with it, so such a slot is dropped only
 * when it holds no change of the publication's tables (peeked, not consumed);
 * otherwise it is kept for the next start to deliver.
 *
 * A rewind slot (source.rewind) that this start created goes on the same
 * terms, judged by the main slot: dropped while the main slot has confirmed
 * nothing since this start, kept once it has.
 */
import type { Logger } from 'pino';
import { formatLsn, maxLsn, type Lsn } from '../lsn.ts';
import type { Queryable } from './pg-catalog.ts';
import { createSlotAdmin, pgCode } from './slot-admin.ts';

/** How long to wait for our own walsender to let go of the slot after a failed stream. */
const RELEASE_WAIT_MS = 10_000;

export interface CreatedSlot {
  slot: string;
  /** Its confirmed position when this start created it. */
  createdAt: Lsn;
  /**
   * This run's positions: what every sink acknowledged (past createdAt,
   * changes from the slot were delivered) and what it confirmed (acknowledged,
   * or a WAL end while idle).
   */
  run: { acknowledged: Lsn; confirmed: Lsn };
  publication: string;
  /** No snapshot will cover what the slot holds (snapshot.mode no_data): keep it if it holds changes. */
  keepIfItHoldsChanges: boolean;
}

export async function dropSlotCreatedByFailedStart(db: Queryable, created: CreatedSlot, logger: Logger): Promise<void> {
  const { acknowledged, confirmed } = created.run;
  await dropUnconfirmedSlot(db, created.slot, created.createdAt, logger, {
    // Confirmed since, but only by this run and while no change had been acknowledged: idle WAL.
    idleUpTo: acknowledged <= created.createdAt ? confirmed : created.createdAt,
    keep: created.keepIfItHoldsChanges
      ? async () =>
          (await holdsChanges(db, created.slot, created.publication))
            ? 'keeping the slot this start created: it holds changes that no snapshot would bring back (snapshot.mode no_data); the next start delivers them'
            : null
      : undefined,
    dropped:
      'dropped the replication slot this start created: the start failed before any change was confirmed, so nothing depends on it, and left behind it would pin WAL; the next start creates it again',
  });
}

export interface CreatedRewindSlot {
  slot: string;
  /** Its confirmed position when this start created it. */
  createdAt: Lsn;
  /** The main slot, and its position when this start began streaming from it. */
  mainSlot: string;
  mainStartedAt: Lsn;
}

/**
 * The rewind slot this start created goes too when the start failed before
 * the main slot confirmed anything: it holds nothing the next start's copy
 * would not hold again. Once the main slot has moved, the rewind slot holds
 * history that exists nowhere else, and it is kept.
 */
export async function dropRewindSlotCreatedByFailedStart(db: Queryable, created: CreatedRewindSlot, logger: Logger): Promise<void> {
  try {
    const main = await createSlotAdmin(db).readSlot(created.mainSlot);
    if (main?.confirmedFlushLsn != null && main.confirmedFlushLsn !== created.mainStartedAt) {
      logger.info({ slot: created.slot }, 'keeping the rewind slot this start created: the slot confirmed changes since, so it holds history');
      return;
    }
  } catch (err) {
    logger.error({ slot: created.slot, err: (err as Error).message, hint: `SELECT pg_drop_replication_slot('${created.slot}')` }, 'could not check the rewind slot this failed start created; it pins WAL until dropped');
    return;
  }
  await dropUnconfirmedSlot(db, created.slot, created.createdAt, logger, {
    dropped: 'dropped the rewind slot this start created: the start failed before any change was confirmed; the next start creates it again',
  });
}

/**
 * Drops `slot` if its confirmed position is still `createdAt`, or at most
 * `idleUpTo` (confirmed by this run while nothing captured was in flight), so
 * nothing was confirmed from it, and `keep` gives no reason to keep it; waits
 * a while for our own walsender to let go of it first.
 */
async function dropUnconfirmedSlot(
  db: Queryable,
  slot: string,
  createdAt: Lsn,
  logger: Logger,
  messages: { idleUpTo?: Lsn; keep?: () => Promise<string | null>; dropped: string },
): Promise<void> {
  const admin = createSlotAdmin(db);
  const deadline = Date.now() + RELEASE_WAIT_MS;
  const manual = `SELECT pg_drop_replication_slot('${slot}')`;
  try {
    for (;;) {
      const found = await admin.readSlot(slot);
      if (found === null) return;
      const at = found.confirmedFlushLsn;
      if (at === null || at < createdAt || at > maxLsn(createdAt, messages.idleUpTo ?? createdAt)) {
        logger.info({ slot, confirmedLsn: found.confirmedFlushLsn === null ? null : formatLsn(found.confirmedFlushLsn) }, 'keeping the slot: changes from it were confirmed');
        return;
      }
      if (found.active) {
        // A walsender outlives its client briefly; another worker may also have taken the slot over.
        if (Date.now() > deadline) {
          logger.warn({ slot, activePid: found.activePid, hint: `once nothing uses it: ${manual}` }, 'the slot this start created is still in use; not dropped');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      const reason = await messages.keep?.();
      if (reason) {
        logger.warn({ slot }, reason);
        return;
      }
      try {
        await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
      } catch (err) {
        if (pgCode(err) === '55006' && Date.now() <= deadline) continue; // became active between the read and the drop
        if (pgCode(err) === '42704') return; // gone meanwhile
        throw err;
      }
      logger.warn({ slot, createdAt: formatLsn(createdAt) }, messages.dropped);
      return;
    }
  } catch (err) {
    logger.error({ slot, err: (err as Error).message, hint: manual }, 'could not drop the slot this failed start created; it pins WAL until dropped');
  }
}

/** Whether the slot holds a row change (insert, update, delete, truncate) of the publication's tables; reads without consuming. */
async function holdsChanges(db: Queryable, slot: string, publication: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)
      WHERE get_byte(data, 0) IN (73, 85, 68, 84)`, // I, U, D, T
    [slot, publication],
  );
  return rows[0].n > 0;
}
