/**
 * A fixed-size latency histogram: O(1) per sample and a few KiB whatever the
 * sample count, so that measuring a million events does not itself show up in
 * the worker's peak RSS. Buckets grow by 2% from 1 µs; a quantile is reported
 * as its bucket's upper bound, so it is at most 2% high.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 µs × 1.02^1400 ≈ 10^12 µs: more than enough. */
const BUCKETS = 1400;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LatencyHistogram {
  record(latencyUs: number): void;
  summary(): LatencySummary | null;
}

export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Float64Array(BUCKETS);
  let count = 0;
  let maxUs = 0;
  const upperBoundUs = (bucket: number): number => GROWTH ** bucket;
  const quantileUs = (q: number): number => {
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += counts[b];
      if (seen >= rank) return Math.min(upperBoundUs(b), maxUs);
    }
    return maxUs;
  };
  return {
    record(latencyUs) {
      // A negative latency is clock skew between the server and us (same host: sub-ms); count it as 0.
      const us = Math.max(latencyUs, 1);
      const bucket = Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_GROWTH));
      counts[bucket]++;
      count++;
      if (us > maxUs) maxUs = us;
    },
    summary() {
      if (count === 0) return null;
      const ms = (us: number): number => Math.round(us) / 1000;
      return { count, p50Ms: ms(quantileUs(0.5)), p90Ms: ms(quantileUs(0.9)), p99Ms: ms(quantileUs(0.99)), maxMs: ms(maxUs) };
    },
  };
}
