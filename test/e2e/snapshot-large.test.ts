/**
 * A one-million-row table snapshots with bounded memory: slotline runs as a
 * child process with a 256 MB heap and a 16 MiB in-flight ceiling (the
 * console sink's JSON with schemas needs room beside the events in flight) and `snapshot.mode: initial_only`, reads
 * the table through a cursor under the in-flight ceiling, writes every row
 * (console sink into /dev/null), records the snapshot as done and exits 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { peakRssKiB, withRuntime } from './failure-support.ts';
import { spawnWorker, writeConfig, type WorkerProcess } from './support.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const ROWS = 1_000_000;
const HEAP_MB = 256;

describe('snapshot of a 1M-row table', () => {
  let worker: WorkerProcess | null = null;
  afterAll(() => {
    worker?.child.kill('SIGKILL');
  });

  it('reads every row with a capped heap and exits after initial_only', async () => {
    const db = await freshDatabase('snap_large');
    const slot = uniqueName('snap_large');
    await db.sql(`CREATE TABLE public.big (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz NOT NULL DEFAULT now());
                  INSERT INTO public.big SELECT g, repeat(md5(g::text), 3), g / 100.0, now() FROM generate_series(1, ${ROWS}) g; ANALYZE public.big`);
    const config = await writeConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('snapl'), mainExtra: 'snapshot: { mode: initial_only }',
    });
    await withRuntime(config, { max_in_flight_bytes: '16MiB' });
    const sinkFile = join(dirname(config), 'sinks', 'console.yaml');
    await writeFile(sinkFile, (await readFile(sinkFile, 'utf8')).replace(/output: .*/, 'output: /dev/null'));

    const started = Date.now();
    worker = spawnWorker(config, { heapMb: HEAP_MB, env: { SLOTLINE_TEST_LOG: 'info' } });
    let peakKiB = 0;
    const sampler = setInterval(() => {
      const kib = worker?.child.pid ? peakRssKiB(worker.child.pid) : null;
      if (kib !== null && kib !== undefined) peakKiB = Math.max(peakKiB, kib);
    }, 200);
    const code = await worker.exited;
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    expect(code, worker.output().slice(-3000)).toBe(0);

    const [state] = await db.sql("SELECT status, rows_read::int AS rows FROM public.slotline_snapshots WHERE slot_name = $1 AND kind = 'initial'", [slot]);
    expect(state).toEqual({ status: 'done', rows: ROWS });
    // initial_only: the slot exists for a later `run`, and nothing was streamed.
    const [{ n }] = await db.sql('SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
    expect(n).toBe(1);
    console.log(`1M-row snapshot: ${seconds.toFixed(1)} s in all (${Math.round(ROWS / seconds)} rows/s with start-up), peak RSS ${(peakKiB / 1024).toFixed(0)} MiB, heap ${HEAP_MB} MB`);
    // Bounded by the heap cap (an unbounded read would abort); RSS adds native buffers, loosely bounded here.
    expect(peakKiB / 1024).toBeLessThan(640);
  }, 240_000);
});
