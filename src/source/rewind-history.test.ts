import { describe, expect, it } from 'vitest';
import { createCommitHistory } from './rewind-history.ts';

describe('the rewind keeper\'s commit history', () => {
  it('targets the furthest position whose commits are all older than the cutoff', () => {
    const h = createCommitHistory({ bucketMs: 1, capacity: 100 });
    h.record(1000, 100n);
    h.record(2000, 200n);
    h.record(3000, 300n);
    expect(h.target(500, 1000n)).toBeNull();
    expect(h.target(1000, 1000n)).toBeNull(); // a commit at exactly the cutoff stays
    expect(h.target(1001, 1000n)).toBe(100n);
    expect(h.target(2500, 1000n)).toBe(200n);
    expect(h.target(9999, 1000n)).toBe(300n);
  });

  it('never targets past the limit, but a pair past it still vouches for the limit', () => {
    const h = createCommitHistory({ bucketMs: 1, capacity: 100 });
    h.record(1000, 100n);
    h.record(2000, 500n);
    expect(h.target(3000, 250n)).toBe(250n);
    expect(h.target(1500, 50n)).toBe(50n);
  });

  it('takes pairs in any order (a worker catching up reads old commits after new polls)', () => {
    const h = createCommitHistory({ bucketMs: 1, capacity: 100 });
    h.record(5000, 400n); // a poll: everything up to 400 committed by 5000
    h.record(1000, 100n); // old commits read later
    h.record(1500, 150n);
    expect(h.target(2000, 1000n)).toBe(150n);
    expect(h.target(6000, 1000n)).toBe(400n);
  });

  it('merges pairs within a bucket into one true pair, and holds no more than its capacity', () => {
    const h = createCommitHistory({ bucketMs: 1000, capacity: 3 });
    h.record(0, 10n);
    h.record(400, 20n);
    h.record(999, 30n);
    expect(h.size).toBe(1);
    // The merged pair is (999, 30): nothing is released until all three are older than the cutoff.
    expect(h.target(999, 100n)).toBeNull();
    expect(h.target(1000, 100n)).toBe(30n);
    for (let i = 1; i <= 10; i++) h.record(i * 1000, BigInt(30 + i * 10));
    expect(h.size).toBeLessThanOrEqual(3);
    // Merging loses precision on the old side only: the newest pair is exact.
    expect(h.target(10_001, 1000n)).toBe(130n);
    expect(h.target(5000, 1000n) ?? 0n).toBeLessThanOrEqual(70n);
  });

  it('knows since when a position holds every commit, and forgets what the slot passed', () => {
    const h = createCommitHistory({ bucketMs: 1, capacity: 100 });
    h.record(1000, 100n);
    h.record(2000, 200n);
    h.record(3000, 300n);
    expect(h.timeAt(150n)).toBe(2000);
    expect(h.timeAt(200n)).toBe(2000);
    expect(h.timeAt(301n)).toBeNull();
    h.forget(200n);
    expect(h.size).toBe(2);
    expect(h.target(9999, 1000n)).toBe(300n);
    expect(h.timeAt(200n)).toBe(2000);
  });
});
