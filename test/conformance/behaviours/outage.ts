/**
 * An outage survived with bounded memory (DESIGN.md, invariants 1 and 4): the
 * sink is taken away under a write load. The worker stays up; the in-flight
 * bytes it reports on /status fill up to the ceiling and stay under it (plus
 * the one batch being written) while the WAL grows far past it — the slot
 * holds the rest; once the sink is back, everything arrives.
 */
import { expect, it } from 'vitest';
import { seededRandom, startLoad, testSeed } from '../../e2e/failure-support.ts';
import { eventually } from '../../e2e/support.ts';
import type { SinkAdapter } from '../adapter.ts';
import { converged, historyProblems, newRun, startWorker, stopWorker, walLsn, withSeed, workerStatus } from '../run.ts';

const CEILING = 256 * 1024;
const BATCH_BYTES = 64 * 1024;

export function outageWithBoundedMemory(adapter: SinkAdapter): void {
  it('survives an outage of the sink with bounded memory, and loses nothing', async () => {
    const seed = testSeed();
    await withSeed(seed, async () => {
      const run = await newRun(adapter, 'outage', { runtime: { max_in_flight_bytes: CEILING, batch_max_bytes: BATCH_BYTES } });
      const worker = await startWorker(run);
      const load = startLoad(run.db, { table: 'items', keys: 200, opsPerTx: [1, 5], payloadBytes: 400, pauseMs: 1, random: seededRandom(seed) });
      let summary: Awaited<ReturnType<typeof load.stop>>;
      const inFlight: number[] = [];
      try {
        await eventually(async () => (await adapter.read(run)).rows.size >= 10, 60_000, 'the first rows in the sink');
        await adapter.break(run);
        const walAtBreak = await walLsn(run);
        // Down until the worker has filled its budget and the WAL has grown four ceilings past the break.
        await eventually(async () => {
          expect(worker.child.exitCode, 'the worker stopped during the outage').toBeNull();
          const status = await workerStatus(run);
          if (status !== null) inFlight.push(status.inFlight.bytes);
          return Math.max(0, ...inFlight) >= CEILING / 2 && (await walLsn(run)) - walAtBreak > BigInt(4 * CEILING);
        }, 120_000, 'the in-flight bytes to reach the ceiling while the WAL grows');
        await adapter.restore(run);
      } finally {
        summary = await load.stop();
      }
      expect(Math.max(...inFlight), `in-flight bytes sampled during the outage: ${inFlight.join(', ')}`).toBeLessThanOrEqual(CEILING + BATCH_BYTES);
      const contents = await converged(adapter, run, 'the sink to catch up after the outage', 120_000);
      if (contents.history) expect(historyProblems(contents.history, summary.lastEvent)).toEqual([]);
      await stopWorker(worker);
    });
  }, 300_000);
}
