/**
 * Reaching a source before anything is created on it: find the writable
 * primary, check the server, the slot and the publication (preflight), and —
 * for a hot standby — wait while another process streams the slot.
 */
import type { Logger } from 'pino';
import type { SnapshotConfig } from '../config/snapshot-schema.ts';
import type { SourceConfig } from '../config/source-schema.ts';
import { describeError, OperatorError, SlotlineError } from '../errors.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import { parseTableName } from '../source/pg-catalog.ts';
import { runPreflight, type PreflightResult } from '../source/preflight.ts';
import type { PublicationSpec } from '../source/slot-admin.ts';
import { createPrimaryTarget, type PrimaryTarget } from './pg-primary.ts';
import { waitForSlot } from './standby.ts';

/** With several hosts, every connection goes to the one that is the writable primary (./pg-primary.ts). */
export async function connectPrimary(source: SourceConfig, logger: Logger): Promise<PrimaryTarget> {
  return createPrimaryTarget(source, logger).catch((err) => {
    // Refused credentials stay permanent (exit 78; a source of several stays failed rather than retried).
    throw new OperatorError(describeError(err), { hint: (err as { hint?: string }).hint, cause: err, permanent: err instanceof SlotlineError && err.permanent });
  });
}

/** The source's publication, as preflight checks it and the start ensures it. */
export function publicationOf(source: SourceConfig): PublicationSpec {
  return { name: source.publication, create: source.create_publication, tables: source.tables, all: source.tables === undefined };
}

/** The preflight of this source, to run at start and again whenever a standby's wait ends. */
export function preflightCheck(source: SourceConfig, snapshot: SnapshotConfig, primary: PrimaryTarget): () => Promise<PreflightResult> {
  const connection = primary.connection();
  const publication = publicationOf(source);
  const slot = { name: source.slot, create: source.create_slot, failover: source.failover };
  return () =>
    runPreflight({
      connection, slot, slotMayBeLost: snapshot.mode === 'when_needed', publication,
      // no_data never takes an initial snapshot; a re-snapshot request (slotline snapshot) creates the table itself.
      stateTable: snapshot.mode === 'no_data' ? undefined : parseTableName(snapshot.state_table),
      slotInUse: source.standby.enabled ? 'report' : 'fail',
    });
}

export interface SlotWait {
  source: SourceConfig;
  primary: PrimaryTarget;
  telemetry: Telemetry;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * A hot standby waits here, alive and not ready, until the slot is free; then
 * it checks everything again. Resolves with the preflight that found the slot
 * free (the first one, when nobody held it).
 */
export async function waitWhileSlotHeld(preflight: PreflightResult, check: () => Promise<PreflightResult>, wait: SlotWait): Promise<PreflightResult> {
  const { source, primary } = wait;
  while (preflight.slotHolder !== null) {
    await waitForSlot(preflight.slotHolder, {
      connection: primary.connection('slotline-standby'), slot: source.slot, pollIntervalMs: source.standby.poll_interval_ms,
      telemetry: wait.telemetry, logger: wait.logger, signal: wait.signal,
      // After a failover while waiting, the slot to wait on is the new primary's.
      beforeConnect: () => primary.locate(),
    });
    preflight = await check();
  }
  return preflight;
}
