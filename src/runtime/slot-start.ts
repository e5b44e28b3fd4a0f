/**
 * A start, in the order that keeps a failed one harmless: every sink is
 * reached first — a sink that cannot start must not leave a slot behind that
 * pins WAL — then what the start creates on the server: the publication
 * (tables added), the slot and its starting point (with the initial snapshot
 * planned), failover switched on for an existing slot, and the rewind slot.
 * What this start created, it drops again if the start fails before anything
 * was confirmed — so a failed start pins no WAL.
 */
import type { Logger } from 'pino';
import type { SnapshotConfig } from '../config/snapshot-schema.ts';
import type { SourceConfig } from '../config/source-schema.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { prepareStart, type StartPlan } from '../snapshot/initial-snapshot.ts';
import type { SnapshotState } from '../snapshot/snapshot-state.ts';
import { enableSlotFailover } from '../source/failover-checks.ts';
import type { Queryable, TableName } from '../source/pg-catalog.ts';
import type { PreflightResult } from '../source/preflight.ts';
import { ensureRewindSlot } from '../source/rewind-slot.ts';
import { createSlotAdmin } from '../source/slot-admin.ts';
import { dropRewindSlotCreatedByFailedStart, dropSlotCreatedByFailedStart } from '../source/slot-cleanup.ts';
import type { TypeCatalog } from '../source/type-catalog.ts';
import type { Sink } from '../sink.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { PrimaryTarget } from './pg-primary.ts';
import { startSinks, stopSinks } from './sink-set.ts';
import { publicationOf } from './source-connect.ts';

export interface SlotStartInput {
  source: SourceConfig;
  snapshot: SnapshotConfig;
  primary: PrimaryTarget;
  admin: Queryable;
  preflight: PreflightResult;
  sinks: readonly Sink[];
  /** Index-aligned with `sinks` (sinkTypesOf). */
  sinkTypes: readonly { type: string }[];
  telemetry: Telemetry;
  state: SnapshotState;
  /** Whether slotline captures this table and some sink routes it (what the initial snapshot reads). */
  routed: (table: TableName) => Promise<boolean>;
  catalog: TypeCatalog;
  normalize: NormalizeOptions;
  logger: Logger;
}

export interface SlotStart {
  plan: StartPlan;
  /**
   * Drops what this start created; for a run that fails later, before its
   * sinks acknowledged any change. `run`: what every sink acknowledged and
   * what the pipeline confirmed, absent when nothing streamed.
   */
  cleanUpFailedStart(run?: { acknowledged: Lsn; confirmed: Lsn }): Promise<void>;
}

/** Starts the sinks and creates what the source needs; on failure stops the sinks, drops what it created and rethrows. */
export async function startSinksAndSlot(input: SlotStartInput): Promise<SlotStart> {
  const { source, admin, preflight, logger } = input;
  await startSinks(input.sinks, input.sinkTypes, input.telemetry, logger);
  /** Set once this start has created the slot: if it fails before confirming anything, the slot goes again. */
  let createdAt: Lsn | null = null;
  /** The same for the rewind slot, with the main slot's position when it was made. */
  let rewindCreated: { at: Lsn; mainAt: Lsn } | null = null;
  const cleanUpFailedStart = async (run?: { acknowledged: Lsn; confirmed: Lsn }): Promise<void> => {
    if (rewindCreated !== null && source.rewind) {
      await dropRewindSlotCreatedByFailedStart(admin, { slot: source.rewind.slot, createdAt: rewindCreated.at, mainSlot: source.slot, mainStartedAt: rewindCreated.mainAt }, logger);
    }
    if (createdAt === null) return;
    await dropSlotCreatedByFailedStart(admin, {
      slot: source.slot, createdAt, run: run ?? { acknowledged: createdAt, confirmed: createdAt }, publication: source.publication, keepIfItHoldsChanges: input.snapshot.mode === 'no_data',
    }, logger);
  };

  try {
    const slotAdmin = createSlotAdmin(admin);
    const pub = await slotAdmin.ensurePublication(publicationOf(source));
    // Preflight logged what differs already; ensurePublication finds the same.
    for (const warning of pub.warnings) if (!preflight.warnings.includes(warning)) logger.warn(warning);
    if (pub.created) logger.info({ publication: source.publication }, 'created publication');
    if (pub.added.length > 0) logger.info({ publication: source.publication, added: pub.added }, 'added tables to publication');
    const plan = await prepareStart({
      admin,
      connection: input.primary.connection('slotline-snapshot'),
      slot: source.slot,
      publication: source.publication,
      createSlot: source.create_slot,
      failover: source.failover,
      serverMajor: preflight.serverMajor,
      snapshot: input.snapshot,
      state: input.state,
      routed: input.routed,
      catalog: input.catalog,
      normalize: input.normalize,
      logger,
      onSlotCreated: (lsn) => (createdAt = lsn),
    });
    logger.info({ slot: source.slot, created: plan.slotCreated, from: formatLsn(plan.startLsn), server: preflight.serverVersion }, plan.slotCreated ? 'created slot' : 'resuming slot');
    if (source.failover && !plan.slotCreated) {
      const slot = await createSlotAdmin(admin).readSlot(source.slot);
      if (slot) await enableSlotFailover(input.primary.connection('slotline-admin'), slot, logger);
    }
    if (source.rewind) {
      const rewind = await ensureRewindSlot(admin, { main: source.slot, rewind: source.rewind.slot, mainCreated: plan.slotCreated }, logger);
      if (rewind.createdAt !== undefined) rewindCreated = { at: rewind.createdAt, mainAt: plan.startLsn };
    }
    return { plan, cleanUpFailedStart };
  } catch (err) {
    await cleanUpFailedStart();
    await stopSinks(input.sinks, logger);
    throw err;
  }
}
