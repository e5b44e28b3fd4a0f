import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/types.ts';
import { committedBefore } from './kafka-exactly-once.ts';

const event = (op: string, lsn: bigint, commitLsn: bigint) => ({ op, lsn, commitLsn }) as ChangeEvent;

describe('committedBefore (what a restart skips)', () => {
  // The checkpoint is a transaction's end LSN; its commit record (commitLsn) lies before it.
  it.each([
    ['a change of a transaction that ended at the checkpoint', event('c', 0x90n, 0x99n), 0x100n, true],
    ['a change of the next transaction', event('u', 0x110n, 0x120n), 0x100n, false],
    ['no checkpoint yet', event('c', 0x90n, 0x99n), null, false],
    ['a snapshot read, whatever its position', event('r', 0x10n, 0x10n), 0x100n, false],
    ['a non-transactional message at the checkpoint', event('m', 0x100n, 0n), 0x100n, true],
    ['a non-transactional message after it', event('m', 0x101n, 0n), 0x100n, false],
  ])('%s → %s', (_name, e, checkpoint, skipped) => {
    expect(committedBefore(e, checkpoint)).toBe(skipped);
  });
});
