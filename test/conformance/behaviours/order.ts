/**
 * Order per key (DESIGN.md, invariant 2): under a write load, with no
 * restart, a log sink holds each key's changes once each, in commit order; a
 * sink that keeps the latest row never shows a key going back to an older
 * row (sampled while the load runs), and ends with the table's rows.
 */
import { expect, it } from 'vitest';
import { seededRandom, startLoad, testSeed } from '../../e2e/failure-support.ts';
import { eventually } from '../../e2e/support.ts';
import type { SinkAdapter } from '../adapter.ts';
import { converged, historyProblems, newRun, startWorker, stopWorker, withSeed } from '../run.ts';

/** Observations where a key's row went back: `key: seq a, then b < a`. */
function wentBack(samples: ReadonlyArray<ReadonlyMap<number, number>>): string[] {
  const latest = new Map<number, number>();
  const problems: string[] = [];
  samples.forEach((rows, at) => {
    for (const [key, seq] of rows) {
      const before = latest.get(key);
      if (before !== undefined && seq < before) problems.push(`key ${key}: seq ${before}, then ${seq} (sample ${at})`);
      latest.set(key, Math.max(seq, before ?? 0));
    }
  });
  return problems;
}

export function orderPerKey(adapter: SinkAdapter): void {
  it('keeps each key\'s changes in commit order', async () => {
    const seed = testSeed();
    await withSeed(seed, async () => {
      const run = await newRun(adapter, 'order', { runtime: { batch_max_events: 20 } });
      const worker = await startWorker(run);
      // Few keys, many changes each: batches hold several changes of one key.
      const load = startLoad(run.db, { table: 'items', keys: 10, opsPerTx: [1, 5], payloadBytes: 50, pauseMs: 1, random: seededRandom(seed) });
      const samples: Array<Map<number, number>> = [];
      let summary: Awaited<ReturnType<typeof load.stop>>;
      try {
        await eventually(async () => {
          samples.push((await adapter.read(run)).rows);
          return load.transactions >= 400;
        }, 120_000, '400 transactions');
      } finally {
        summary = await load.stop();
      }
      const contents = await converged(adapter, run, 'the sink to hold the table');
      samples.push(contents.rows);
      if (contents.history) expect(historyProblems(contents.history, summary.lastEvent, true)).toEqual([]);
      expect(wentBack(samples)).toEqual([]);
      await stopWorker(worker);
    });
  }, 180_000);
}
