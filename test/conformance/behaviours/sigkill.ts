/**
 * At-least-once across SIGKILL (DESIGN.md, invariant 1): the worker runs as a
 * child process under a write load and is killed at seeded random points —
 * some from spawn on (start-up, the first fetch), the others once the session
 * has written to the sink, while it catches up — then restarted. In the end
 * the sink holds the table's rows; a log sink holds every change of every
 * key, replays being suffixes resent from a confirmed position.
 */
import { expect, it } from 'vitest';
import { seededRandom, sleep, startLoad, testSeed } from '../../e2e/failure-support.ts';
import { eventually } from '../../e2e/support.ts';
import type { SinkAdapter, SinkContents } from '../adapter.ts';
import { converged, historyProblems, killWorker, newRun, spawnWorker, startWorker, stopWorker, withSeed } from '../run.ts';

const KILLS = 4;

/** Something the sink holds changed (a session wrote to it). */
const changed = (a: SinkContents, b: SinkContents): boolean =>
  JSON.stringify([...a.rows, ...(a.history ?? [])]) !== JSON.stringify([...b.rows, ...(b.history ?? [])]);

export function atLeastOnceAcrossSigkill(adapter: SinkAdapter): void {
  it('SIGKILL at random points loses nothing', async () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    await withSeed(seed, async () => {
      // Small batches: catching up takes many writes, so a kill often lands between two.
      const run = await newRun(adapter, 'kill', { runtime: { batch_max_events: 50 } });
      let worker = await startWorker(run);
      const load = startLoad(run.db, { table: 'items', keys: 25, opsPerTx: [1, 4], payloadBytes: 120, pauseMs: 2, random });
      const kills: string[] = [];
      let summary: Awaited<ReturnType<typeof load.stop>>;
      try {
        for (let i = 0; i < KILLS; i++) {
          if (i > 0) worker = spawnWorker(run);
          const early = i % 2 === 1;
          if (!early) {
            const before = await adapter.read(run);
            const w = worker;
            await eventually(async () => changed(await adapter.read(run), before) || w.child.exitCode !== null, 60_000, `session ${i} writing to the sink`);
          }
          const delay = Math.floor(random() * (early ? 2500 : 500));
          await sleep(delay); // the random kill point
          expect(worker.child.exitCode, `slotline exited on its own before kill ${i + 1}`).toBeNull();
          await killWorker(run, worker);
          kills.push(`kill ${i + 1}: ${early ? 'from spawn' : 'after its first write'} +${delay} ms`);
          await sleep(Math.floor(random() * 1000)); // down a while: the next session starts with a backlog
        }
      } finally {
        summary = await load.stop();
      }
      expect(summary.transactions, kills.join('; ')).toBeGreaterThan(20);
      worker = spawnWorker(run);
      const contents = await converged(adapter, run, `the sink to hold the table after ${kills.join('; ')}`);
      if (contents.history) expect(historyProblems(contents.history, summary.lastEvent), kills.join('; ')).toEqual([]);
      console.log(`[conformance ${adapter.type} SIGKILL] seed ${seed}: ${summary.transactions} transactions, ${summary.changes} changes; ${kills.join('; ')}`);
      await stopWorker(worker);
    });
  }, 240_000);
}
