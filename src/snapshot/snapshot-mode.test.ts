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
    ['initial', EXISTING, false, false, true],
    ['initial', DONE, false, false, true],
    ['initial', UNFINISHED, true, false, true],
    ['initial', LOST, false, false, true], // the slot check reports the lost slot
    ['initial_only', NEW, true, false, false],
    ['initial_only', DONE, false, false, false],
    ['initial_only', UNFINISHED, true, false, false],
    ['no_data', NEW, false, false, true],
    ['no_data', UNFINISHED, false, false, true],
    ['always', NEW, true, false, true],
    ['always', DONE, true, false, true],
    ['when_needed', NEW, true, false, true],
    ['when_needed', DONE, false, false, true],
    ['when_needed', UNFINISHED, true, false, true],
    ['when_needed', LOST, true, true, true],
  ] as const)('%s with %o → snapshot %s, drop %s, stream %s', (mode, facts, snapshot, dropSlot, stream) => {
    const decision = decideSnapshot(mode, facts);
    expect({ snapshot: decision.snapshot, dropSlot: decision.dropSlot, stream: decision.stream }).toEqual({ snapshot, dropSlot, stream });
    expect(decision.reason).not.toBe('');
  });
});
