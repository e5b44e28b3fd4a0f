import { describe, expect, it } from 'vitest';
import { decideSnapshot, type SnapshotFacts } from './snapshot-mode.ts';

const NEW: SnapshotFacts = { slotExists: false, slotLost: false, initialState: null };
const EXISTING: SnapshotFacts = { slotExists: true, slotLost: false, initialState: null };
const DONE: SnapshotFacts = { slotExists: true, slotLost: false, initialState: 'done' };
const UNFINISHED: SnapshotFacts = { slotExists: true, slotLost: false, initialState: 'running' };
const LOST: SnapshotFacts = { slotExists: true, slotLost: true, initialState: 'done' };

describe('decideSnapshot', () => {
  it.each([
    // mode, facts, snapshot, dropSlot, stream
    ['initial', NEW, true, false, true],
    ['initial', EXISTING, true, false, true], // a slot slotline has no snapshot record of: its rows were never sent
    ['initial', DONE, false, false, true],
    ['initial', UNFINISHED, true, false, true],
    ['initial', LOST, false, false, true], // the slot check reports the lost slot
    ['initial_only', NEW, true, false, false],
    ['initial_only', EXISTING, true, false, false],
    ['initial_only', DONE, false, false, false],
    ['initial_only', UNFINISHED, true, false, false],
    ['no_data', NEW, false, false, true],
    ['no_data', UNFINISHED, false, false, true],
    ['no_data', EXISTING, false, false, true],
    ['always', NEW, true, false, true],
    ['always', DONE, true, false, true],
    ['when_needed', NEW, true, false, true],
    ['when_needed', EXISTING, true, false, true],
    ['when_needed', DONE, false, false, true],
    ['when_needed', UNFINISHED, true, false, true],
    ['when_needed', LOST, true, true, true],
  ] as const)('%s with %o → snapshot %s, drop %s, stream %s', (mode, facts, snapshot, dropSlot, stream) => {
    const decision = decideSnapshot(mode, facts);
    expect({ snapshot: decision.snapshot, dropSlot: decision.dropSlot, stream: decision.stream }).toEqual({ snapshot, dropSlot, stream });
    expect(decision.reason).not.toBe('');
  });

  it('says loudly why a slot it did not create is snapshotted, and how to avoid it', () => {
    const decision = decideSnapshot('initial', EXISTING);
    expect(decision.foreignSlot).toBe(true);
    expect(decision.reason).toMatch(/no record of an initial snapshot/);
    expect(decision.reason).toMatch(/snapshot\.mode: no_data/);
    expect(decideSnapshot('initial', DONE).foreignSlot).toBeUndefined();
    expect(decideSnapshot('initial', NEW).foreignSlot).toBeUndefined();
  });
});
