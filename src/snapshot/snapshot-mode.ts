/**
 * What `snapshot.mode` means for one start of the worker (pure; the table of
 * cases is the documentation, see docs/snapshots.md).
 *
 * slotline's position is its slot plus the state table's record of the
 * initial snapshot, so "no stored offsets" (Debezium's test for `initial`) is
 * "the slot is new here, or slotline has no record of a snapshot for it". The
 * second case is a slot made by hand or by another tool (`create_slot: false`):
 * its existing rows were never sent, so they are read now, loudly, rather than
 * silently never. An initial snapshot that began but did not finish (crash,
 * SIGTERM, a sink's operator error) is taken again too: a silently partial
 * sink is the one outcome we must not have.
 */
import type { SnapshotMode } from '../config/snapshot-schema.ts';

export interface SnapshotFacts {
  /** The slot exists on the server. */
  slotExists: boolean;
  /** …and its WAL is gone (wal_status lost / invalidated). */
  slotLost: boolean;
  /** The state table's initial-snapshot row for this slot. */
  initialState: 'running' | 'done' | null;
}


export interface SnapshotDecision {
  snapshot: boolean;
  /** Drop the existing (lost) slot first (only `when_needed`). */
  dropSlot: boolean;
  /** Stream after the snapshot (false only for `initial_only`). */
  stream: boolean;
  /** For the log: why. */
  reason: string;
  /** The slot exists and slotline never recorded a snapshot for it: worth a warning, not an info line. */
  foreignSlot?: boolean;
}

export function decideSnapshot(mode: SnapshotMode, facts: SnapshotFacts): SnapshotDecision {
  const stream = mode !== 'initial_only';
  if (mode === 'no_data') return { snapshot: false, dropSlot: false, stream, reason: 'snapshot mode no_data' };
  if (mode === 'when_needed' && facts.slotExists && facts.slotLost) {
    return { snapshot: true, dropSlot: true, stream, reason: 'the slot was invalidated (its WAL is gone): it is recreated and the tables are read again' };
  }
  if (mode === 'always') return { snapshot: true, dropSlot: false, stream, reason: 'snapshot mode always' };
  if (!facts.slotExists) return { snapshot: true, dropSlot: false, stream, reason: 'the slot is new' };
  if (facts.initialState === 'running') {
    return {
      snapshot: true, dropSlot: false, stream,
      reason: 'the initial snapshot of this slot did not finish: it is taken again from the start (rows changed since the slot was created arrive again from the stream)',
    };
  }
  if (facts.initialState === null) {
    return {
      snapshot: true, dropSlot: false, stream, foreignSlot: true,
      reason:
        'the slot exists but slotline has no record of an initial snapshot for it (made by hand or by another tool?): ' +
        'the tables are read now, and rows changed since the slot\'s position arrive again from the stream; ' +
        'to stream changes only, set snapshot.mode: no_data; to have no repeats, let slotline create the slot (create_slot: true) so the snapshot and the slot meet exactly',
    };
  }
  return { snapshot: false, dropSlot: false, stream, reason: 'the initial snapshot is done' };
}
