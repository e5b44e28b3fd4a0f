/**
 * The in-flight ceiling (runtime.max_in_flight_bytes) holds within one row
 * change: with three sinks, two of which accept nothing until the test lets
 * them, neither the initial snapshot (read `fetch_size` rows at a time) nor a
 * large transaction streamed afterwards takes the bytes in flight past the
 * ceiling by more than one row's events for every sink — then everything
 * arrives, in order, once the sinks take it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { withRuntime } from './failure-support.ts';
import { createGatedSink, type GatedSink } from './gated-sink.ts';
import { eventually, runInProcess, writeConfig } from './support.ts';

const CEILING = 256 * 1024;
const ROWS = 4000;

describe('the in-flight ceiling', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('is passed by at most one row change per sink, in the snapshot and in a large transaction', async () => {
    const db = await freshDatabase('ceiling');
    await db.sql(`CREATE TABLE public.items (id int PRIMARY KEY, pad text NOT NULL);
                  INSERT INTO public.items SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, ${ROWS}) g`);
    const config = await writeConfig({ db, slot: uniqueName('ceiling'), publication: uniqueName('pub'), topicPrefix: uniqueName('ceil'), tables: ['public.items'] });
    await withRuntime(config, { max_in_flight_bytes: CEILING, batch_max_events: 100 });
    const gated: GatedSink[] = [createGatedSink('held_a'), createGatedSink('held_b')];
    const worker = await runInProcess(config, { sinks: gated });
    cleanup.push(() => worker.stop());
    const sinks = 3; // the console sink of the config, and the two held ones
    const stats = () => worker.pipeline.stats();
    const largest = () => Math.max(...gated.flatMap((g) => g.received.map((e) => e.size)));

    // The snapshot (one fetch of 10 240 rows would hold every row): it stops at the ceiling.
    const atCeiling = () => stats().pausedBy.includes('budget');
    await eventually(atCeiling, 30_000, 'the ceiling to be reached by the snapshot');
    const bound = () => CEILING + sinks * largest();
    gated.forEach((g) => g.open());
    await eventually(() => gated.every((g) => g.written.filter((e) => e.op === 'r').length === ROWS), 60_000, 'every read');
    expect(stats().peakInFlightBytes).toBeLessThanOrEqual(bound());
    gated.forEach((g) => g.close());
    expect(gated.map((g) => g.written.filter((e) => e.op === 'r').length)).toEqual([ROWS, ROWS]);

    // One transaction rewriting every row: streamed, it stops at the ceiling the same way.
    await db.sql(`UPDATE public.items SET pad = repeat(md5((id + 1)::text), 8)`);
    await eventually(atCeiling, 30_000, 'the ceiling to be reached by the stream');
    gated.forEach((g) => g.open());
    await eventually(() => gated.every((g) => g.written.filter((e) => e.op === 'u').length === ROWS), 60_000, 'every update');
    expect(stats().peakInFlightBytes).toBeLessThanOrEqual(bound());
    expect(stats().peakInFlightBytes).toBeGreaterThan(CEILING);
    for (const g of gated) {
      const ids = g.written.filter((e) => e.op === 'u').map((e) => (e.after as { id: number }).id);
      expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    }
  });
});
