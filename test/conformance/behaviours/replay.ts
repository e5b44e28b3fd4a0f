/**
 * A replay that changes nothing (DESIGN.md, invariant 3): after the worker
 * has brought the sink to the table's rows and stopped, `slotline replay
 * --into-production --from rewind` sends the whole history into the same sink
 * file again. The sink holds the same rows afterwards (a log sink has them
 * twice, and its latest value per key is unchanged).
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seededRandom, startLoad, testSeed } from '../../e2e/failure-support.ts';
import { eventually, REPO } from '../../e2e/support.ts';
import { startChild } from '../../harness/child-process.ts';
import type { SinkAdapter } from '../adapter.ts';
import { confirmedLsn, converged, newRun, rowDiff, startWorker, stopWorker, tableRows, walLsn, withSeed } from '../run.ts';

export function harmlessReplay(adapter: SinkAdapter): void {
  it('a replay of the whole history into the sink changes nothing', async () => {
    const seed = testSeed();
    await withSeed(seed, async () => {
      const run = await newRun(adapter, 'replay', { rewind: true });
      const worker = await startWorker(run);
      const load = startLoad(run.db, { table: 'items', keys: 20, opsPerTx: [1, 4], payloadBytes: 50, pauseMs: 1, random: seededRandom(seed) });
      await eventually(() => load.transactions >= 150, 60_000, '150 transactions');
      await load.stop();
      const before = await converged(adapter, run, 'the sink to hold the table');
      const end = await walLsn(run);
      await eventually(async () => (await confirmedLsn(run)) >= end, 60_000, 'the worker to confirm the history');
      await stopWorker(worker);

      const replay = startChild('slotline replay', process.execPath, [join(REPO, 'bin', 'slotline.js'), 'replay', '--config', run.configPath, '--sink', run.sinkFile, '--into-production', '--from', 'rewind', '--to', 'now']);
      run.processes.push(replay);
      expect((await replay.exit).code).toBe(0);
      expect(replay.stderr() + replay.stdout()).toMatch(/replayed (\d{3,}) transactions/);

      // A log sink has each key's changes twice once the replay reached it (a reader may lag behind).
      const twice = (history: ReadonlyMap<number, number[]>) => new Map([...history].map(([key, events]) => [key, [...events, ...events]]));
      let after = await adapter.read(run);
      await eventually(async () => {
        after = await adapter.read(run);
        return !after.history || JSON.stringify([...after.history]) === JSON.stringify([...twice(before.history!)]);
      }, 60_000, 'the replayed changes in the sink').catch(() => undefined);
      if (after.history) expect(after.history).toEqual(twice(before.history!));
      expect(rowDiff(after.rows, before.rows)).toEqual([]);
      expect(rowDiff(after.rows, await tableRows(run))).toEqual([]);
    });
  }, 180_000);
}
