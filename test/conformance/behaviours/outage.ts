/**
 * An outage survived with bounded memory (DESIGN.md, invariants 1 and 4): the
 * sink is taken away under a write load. The worker stays up; the in-flight
 * bytes it reports on /status fill up to the ceiling and stay under it (plus
 * the one batch being written); it stops reading the replication socket (the
 * walsender's sent_lsn stands still while the WAL grows) and the slot holds
 * its confirmed position; once the sink is back, everything arrives.
 */
import { expect, it } from 'vitest';
import { formatLsn, type Lsn } from '../../../src/lsn.ts';
import { openProbe, seededRandom, startLoad, testSeed } from '../../e2e/failure-support.ts';
import { eventually } from '../../e2e/support.ts';
import type { SinkAdapter } from '../adapter.ts';
import { converged, historyProblems, newRun, startWorker, stopWorker, withSeed, workerStatus } from '../run.ts';

const CEILING = 256 * 1024;
const BATCH_BYTES = 64 * 1024;
/** The socket counts as unread once sent_lsn stood still this long while the WAL grew STALL_WAL. */
const STALL_MS = 2000;
const STALL_WAL = 1024n * 1024n;

export function outageWithBoundedMemory(adapter: SinkAdapter): void {
  it('survives an outage of the sink with bounded memory, and loses nothing', async () => {
    const seed = testSeed();
    await withSeed(seed, async () => {
      const run = await newRun(adapter, 'outage', { runtime: { max_in_flight_bytes: CEILING, batch_max_bytes: BATCH_BYTES } });
      const probe = await openProbe(run.db);
      const worker = await startWorker(run);
      // Wide rows, so the socket buffers between the walsender and the worker fill within seconds once it stops reading.
      const load = startLoad(run.db, { table: 'items', keys: 200, opsPerTx: [2, 6], payloadBytes: 1500, pauseMs: 2, random: seededRandom(seed) });
      let summary: Awaited<ReturnType<typeof load.stop>>;
      const inFlight: number[] = [];
      let stall: { sent: Lsn; since: number; wal: Lsn; confirmed: Lsn } | null = null;
      try {
        await eventually(async () => (await adapter.read(run)).rows.size >= 10, 60_000, 'the first rows in the sink');
        await adapter.break(run);
        const brokenAt = Date.now();
        await eventually(async () => {
          expect(worker.child.exitCode, 'the worker stopped during the outage').toBeNull();
          const status = await workerStatus(run);
          if (status !== null) inFlight.push(status.inFlight.bytes);
          const [sent, wal, { confirmedFlushLsn }] = [await probe.sentLsn(run.slot), await probe.walLsn(), await probe.slot(run.slot)];
          if (sent === null) return false;
          if (stall === null || sent !== stall.sent) {
            stall = { sent, since: Date.now(), wal, confirmed: confirmedFlushLsn };
            return false;
          }
          expect(formatLsn(confirmedFlushLsn), 'the slot\'s confirmed position while the sink is down').toBe(formatLsn(stall.confirmed));
          return Math.max(0, ...inFlight) >= CEILING / 2 && Date.now() - stall.since >= STALL_MS && wal - stall.wal >= STALL_WAL;
        }, 120_000, 'the worker to fill its in-flight budget and stop reading the slot while the WAL grows');
        console.log(
          `[conformance ${adapter.type} outage] seed ${seed}: sent_lsn stood at ${formatLsn(stall!.sent)} from ${stall!.since - brokenAt} ms after the break; ` +
            `in-flight bytes sampled: max ${Math.max(...inFlight)} of ceiling ${CEILING} (+ batch ${BATCH_BYTES}), ${inFlight.length} samples`,
        );
        await adapter.restore(run);
      } finally {
        summary = await load.stop();
        await probe.close();
      }
      expect(Math.max(...inFlight), `in-flight bytes sampled during the outage: ${inFlight.join(', ')}`).toBeLessThanOrEqual(CEILING + BATCH_BYTES);
      const contents = await converged(adapter, run, 'the sink to catch up after the outage', 120_000);
      if (contents.history) expect(historyProblems(contents.history, summary.lastEvent)).toEqual([]);
      await stopWorker(worker);
    });
  }, 300_000);
}
