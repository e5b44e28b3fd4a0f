/**
 * What the rewind keeper knows about time along the WAL: pairs (t, L), each
 * meaning "every transaction that committed at or before LSN L committed at
 * or before time t". Two sources give such pairs, both on the server's clock:
 * the commits the pipeline reads (commit time, end LSN), and the keeper's own
 * polls (the server's now(), the main slot's confirmed position), which keep
 * the window moving when nothing commits. Concurrent commits can take their
 * timestamps in one order and their WAL positions in the other, so a pair is
 * exact to within that (microseconds).
 *
 * Bounded: pairs within one bucket of time are merged ((max t, max L) is
 * again a true pair), and past the capacity the two oldest are merged. Both
 * only make the keeper advance less far — it keeps more history, never less.
 */
import type { Lsn } from '../lsn.ts';

export interface CommitHistory {
  record(atMs: number, lsn: Lsn): void;
  /**
   * The furthest position the rewind slot may move to so that it still holds
   * every transaction committed at or after `cutoffMs`, never past `limit`;
   * null when no pair is old enough.
   */
  target(cutoffMs: number, limit: Lsn): Lsn | null;
  /** The earliest time t known to bound every commit at or before `lsn`; null when none is known. */
  timeAt(lsn: Lsn): number | null;
  /** Drops the pairs below `lsn` (the rewind slot has passed them). */
  forget(lsn: Lsn): void;
  readonly size: number;
}

interface Pair {
  atMs: number;
  lsn: Lsn;
  /** When the bucket this pair stands for began. */
  bucketMs: number;
}

export function createCommitHistory(options: { bucketMs: number; capacity: number }): CommitHistory {
  let pairs: Pair[] = [];
  return {
    record(atMs, lsn) {
      const last = pairs.at(-1);
      if (last !== undefined && Math.abs(atMs - last.bucketMs) < options.bucketMs) {
        if (atMs > last.atMs) last.atMs = atMs;
        if (lsn > last.lsn) last.lsn = lsn;
        return;
      }
      pairs.push({ atMs, lsn, bucketMs: atMs });
      if (pairs.length > options.capacity) {
        const [a, b] = pairs;
        pairs.splice(0, 2, { atMs: Math.max(a.atMs, b.atMs), lsn: a.lsn > b.lsn ? a.lsn : b.lsn, bucketMs: a.bucketMs });
      }
    },
    target(cutoffMs, limit) {
      let best: Lsn | null = null;
      for (const p of pairs) {
        if (p.atMs >= cutoffMs) continue;
        // A pair past the limit still bounds every commit up to the limit.
        const lsn = p.lsn < limit ? p.lsn : limit;
        if (best === null || lsn > best) best = lsn;
      }
      return best;
    },
    timeAt(lsn) {
      let best: number | null = null;
      for (const p of pairs) if (p.lsn >= lsn && (best === null || p.atMs < best)) best = p.atMs;
      return best;
    },
    forget(lsn) {
      if (pairs.some((p) => p.lsn < lsn)) pairs = pairs.filter((p) => p.lsn >= lsn);
    },
    get size() {
      return pairs.length;
    },
  };
}
