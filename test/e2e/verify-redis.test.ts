/**
 * `slotline verify` against a real Redis fed by a running worker:
 * - refresh keys in sync: exit 0; cache keys of invalidation rules that exist
 *   are counted, not compared, and the report says what it could not check;
 * - damaged behind the worker's back (a refresh key deleted, one rewritten, one
 *   no row has — with a fence, so slotline wrote it — and one without a fence):
 *   exit 1 with exactly those counts and keys; an entry of a ttl rule that is
 *   gone is not missing;
 * - a range of refresh keys flushed (more than a re-check batch) while the
 *   rows stay as they are: each one missing, the first keys in key order;
 * - while a write load keeps changing rows and the worker keeps up: no drift.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisUrl, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { redisClient, writeRedisConfig } from './redis-support.ts';
import { eventually, runInProcess } from './support.ts';
import { expectNoDriftUnderLoad, runVerify } from './verify-support.ts';

const ROWS = 2000;

describe('slotline verify: Redis', () => {
  let db: FreshDatabase;
  let config: string;
  let redis: Redis;
  const p = uniqueName('vr');
  const stops: Array<() => Promise<unknown>> = [];
  const keysOf = async (pattern: string): Promise<number> => (await redis.keys(pattern)).length;

  beforeAll(async () => {
    db = await freshDatabase('verify_redis');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text, n int); CREATE TABLE public.products (id int PRIMARY KEY, slug text NOT NULL)');
    await db.sql(`INSERT INTO public.items SELECT i, 'item ' || i, i FROM generate_series(1, ${ROWS}) i`);
    await db.sql("INSERT INTO public.products SELECT i, 'p-' || i FROM generate_series(1, 50) i");
    redis = redisClient(redisUrl());
    config = await writeRedisConfig(
      { db, slot: uniqueName('verify_redis'), publication: uniqueName('pub'), topicPrefix: p, mainExtra: 'snapshot: { mode: initial }' },
      `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint:{sink}"
fence_prefix: "${p}:fence:"
rules:
  - tables: ["public.items"]
    refresh: { key: "${p}:item:{id}" }
    invalidate: ["${p}:item-page:{id}"]
  - tables: ["public.products"]
    refresh: { key: "${p}:product:{id}", ttl: 3600 }
    publish: ${p}:changes`,
    );
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
    await eventually(async () => (await keysOf(`${p}:item:*`)) === ROWS && (await keysOf(`${p}:product:*`)) === 50, 120_000, 'the initial snapshot in Redis');
  });
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    redis?.disconnect();
  });

  it('finds no drift in the refresh keys, and counts the invalidation keys that exist without judging them', async () => {
    await redis.set(`${p}:item-page:1`, '<html>1</html>');
    await redis.set(`${p}:item-page:2`, '<html>2</html>');
    const run = await runVerify(config, 'cache');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.report!;
    expect(report.totals).toEqual({ rows: ROWS + 50, matched: ROWS + 50, missing: 0, stale: 0, extra: 0, inFlight: 0 });
    expect(report.tables.map((t) => [t.table, t.extrasChecked])).toEqual([['public.items', true], ['public.products', true]]);
    expect(report.tables[0].notes).toContain('2 cache entries of invalidation rules exist; their content is the application\'s and is not compared');
    expect(report.notes).toEqual([
      expect.stringMatching(/^invalidate rules: only keys that exist can be checked/),
      'refresh rules with a ttl: an entry may have expired, so an absent one is not counted missing',
      'stream and publish rules carry changes, not state: not verified',
    ]);
    expect(run.stdout).toContain('note: invalidate rules: only keys that exist can be checked');
  });

  it('reports a deleted key as missing, a rewritten one as stale, a fenced key no row has as extra: exit 1', async () => {
    await redis.del(`${p}:item:5`);
    const seven = JSON.parse((await redis.get(`${p}:item:7`))!);
    await redis.set(`${p}:item:7`, JSON.stringify({ ...seven, n: -1 }));
    await redis.set(`${p}:item:999999`, JSON.stringify({ id: 999999, name: 'ghost', n: 0 }));
    await redis.set(`${p}:fence:${p}:item:999999`, `${'1'.padStart(16, '0')}${'1'.padStart(16, '0')}`);
    await redis.set(`${p}:item:888888`, 'written by someone else');
    await redis.del(`${p}:product:3`); // a ttl entry that expired: not drift

    const run = await runVerify(config, 'cache');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const [items, products] = run.report!.tables;
    expect(items).toMatchObject({ rows: ROWS, matched: ROWS - 2, missing: 1, stale: 1, extra: 1, inFlight: 0 });
    expect(items.examples.missing).toEqual([{ key: '5', at: `${p}:item:5` }]);
    expect(items.examples.stale).toEqual([{ key: '7', at: `${p}:item:7`, fields: ['n'] }]);
    expect(items.examples.extra).toEqual([{ at: `${p}:item:999999` }]);
    expect(products).toMatchObject({ rows: 50, matched: 50, missing: 0, stale: 0, extra: 0 });
    expect(run.report!.notes).toContain('1 keys match a refresh pattern but have no fence (not written by slotline, or the fence expired): not judged');

    await redis.del(`${p}:item:999999`, `${p}:fence:${p}:item:999999`, `${p}:item:888888`);
    await db.sql('UPDATE public.items SET n = n WHERE id IN (5, 7)');
    await eventually(async () => (await runVerify(config, 'cache', ['--tables', 'public.items'])).code === 0, 60_000, 'verify to pass again');
  });

  it('reports every key of a flushed range missing, with the first keys in key order, though nothing changes meanwhile', async () => {
    // More than a re-check's batch of keys (1000): rows that differ and do not change are judged without waiting on the slot.
    const gone = Array.from({ length: 1200 }, (_, i) => `${p}:item:${101 + i}`);
    await redis.del(...gone);

    const run = await runVerify(config, 'cache', ['--tables', 'public.items']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const [items] = run.report!.tables;
    expect(items).toMatchObject({ rows: ROWS, matched: ROWS - 1200, missing: 1200, stale: 0, extra: 0, inFlight: 0 });
    expect(items.examples.missing).toEqual([101, 102, 103, 104, 105].map((id) => ({ key: String(id), at: `${p}:item:${id}` })));
    expect(run.report!.sinkWait.caughtUp).toBe(true);
    expect(run.stdout).toMatch(new RegExp(`^ {2}public\\.items missing: 101 \\(${p}:item:101\\), 102 .* … 1195 more$`, 'm'));
    expect(run.stdout).toMatch(/^DRIFT: 2000 rows in [\d.]+ s \(\d+ rows\/s\) — 1200 missing, 0 stale, 0 extra$/m);

    await db.sql('UPDATE public.items SET n = n WHERE id BETWEEN 101 AND 1300');
    await eventually(async () => (await runVerify(config, 'cache', ['--tables', 'public.items'])).code === 0, 60_000, 'verify to pass again');
  });

  it('reports no drift while rows keep changing and the worker keeps up', async () => {
    await expectNoDriftUnderLoad(db, ROWS, config, 'cache');
  });
});
