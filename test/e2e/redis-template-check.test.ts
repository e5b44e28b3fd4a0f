/**
 * Key templates checked against the tables at start-up (rules naming exact
 * tables), through startWorker with real Postgres and Redis:
 *
 * - a template naming a column the table lacks stops the worker in start(),
 *   before a change that waits in the slot is written or confirmed;
 * - `{before.slug}` on a table without REPLICA IDENTITY FULL is a start-up
 *   warning naming table and template, and at run time skips only that key;
 *   the same rule on a FULL table gets no warning and invalidates both keys.
 */
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { errorKind, type SlotlineError } from '../../src/errors.ts';
import { startWorker, type Worker } from '../../src/runtime/worker.ts';
import { freshDatabase, redisUrl, uniqueName } from '../harness/context.ts';
import { redisClient, writeRedisConfig } from './redis-support.ts';
import { eventually, readConfig, runInProcess } from './support.ts';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** startWorker with a logger whose lines the test reads. */
async function startLogged(configPath: string): Promise<{ worker: Worker; running: Promise<void>; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const worker = await startWorker(await readConfig(configPath), logger);
  const running = worker.run();
  running.catch(() => undefined);
  return { worker, running, logs };
}

describe('redis sink: templates checked at start-up', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('an unknown column stops the worker before a pending change is written', async () => {
    const db = await freshDatabase('redis_tcheck');
    const p = uniqueName('rtc');
    const redis: Redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    await db.sql('CREATE TABLE public.products (id int PRIMARY KEY, slug text, price numeric)');
    const sink = (template: string) => `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint"
rules:
  - tables: ["public.products"]
    invalidate: ["${p}:product:{id}", "${template}"]`;
    // A good run creates the slot, then a change waits in it while the worker is down.
    const good = await writeRedisConfig({ db, slot: p, publication: p, topicPrefix: p }, sink(`${p}:product:{slug}`));
    const first = await runInProcess(good);
    await db.sql("INSERT INTO public.products VALUES (1, 'a', 1)");
    await eventually(async () => (await redis.exists(`${p}:checkpoint`)) === 1, 30_000, 'the first write');
    await first.stop();
    const checkpoint = await redis.get(`${p}:checkpoint`);
    const [{ confirmed: confirmedBefore }] = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [p]);
    await redis.set(`${p}:product:1`, 'cached');
    await db.sql('UPDATE public.products SET price = 2 WHERE id = 1');

    const bad = await writeRedisConfig({ db, slot: p, publication: p, topicPrefix: p }, sink(`${p}:product:slug:{sluggg}`));
    const err = await startLogged(bad).then(() => null, (e: unknown) => e as SlotlineError);
    expect(errorKind(err)).toBe('operator');
    expect(err!.message).toMatch(/^sink "cache" \(\/.+\/sinks\/redis\.yaml\): rule 1: key template ".+:product:slug:\{sluggg\}" names column sluggg, which table public\.products does not have$/);
    expect(err!.hint).toMatch(/^public\.products has columns id, slug, price: fix the template in \/.+\/sinks\/redis\.yaml$/);

    // Nothing of the pending update reached Redis, and Postgres still holds it.
    expect(await redis.get(`${p}:product:1`)).toBe('cached');
    expect(await redis.get(`${p}:checkpoint`)).toBe(checkpoint);
    const [{ confirmed }] = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [p]);
    expect(confirmed).toBe(confirmedBefore);
  }, 90_000);

  it('{before.slug} without REPLICA IDENTITY FULL is a start-up warning and skips only that key', async () => {
    const db = await freshDatabase('redis_tcheck');
    const p = uniqueName('rtw');
    const redis: Redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    await db.sql('CREATE TABLE public.products (id int PRIMARY KEY, slug text NOT NULL)');
    await db.sql('CREATE TABLE public.pages (id int PRIMARY KEY, slug text NOT NULL)');
    await db.sql('ALTER TABLE public.pages REPLICA IDENTITY FULL');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${redisUrl()}
checkpoint_key: "${p}:checkpoint"
rules:
  - tables: ["public.products", "public.pages"]
    invalidate: ["${p}:{id}", "${p}:slug:{before.slug}"]`,
    );
    const { worker, logs } = await startLogged(config);
    cleanup.push(() => worker.stop());
    await eventually(() => logs.some((l) => l.msg === 'redis sink ready'), 30_000, 'the sink to start');

    const warnings = logs.filter((l) => l.level === 40 && typeof l.template === 'string');
    expect(warnings.map((l) => [l.table, l.template, l.replicaIdentity])).toEqual([['public.products', `${p}:slug:{before.slug}`, 'default']]);
    expect(warnings[0].msg).toBe(
      `sink "cache" (${join(dirname(config), 'sinks', 'redis.yaml')}): rule 1: key template "${p}:slug:{before.slug}" on table public.products: {before.slug} is not in the old row (REPLICA IDENTITY DEFAULT sends old rows with only id): this key is skipped on every update and delete; set REPLICA IDENTITY FULL on the table`,
    );
    // Warned before any change: the warning comes from start-up, not from an event.
    expect(warnings[0].lsn).toBeUndefined();

    await db.sql("INSERT INTO public.products VALUES (1, 'old'); INSERT INTO public.pages VALUES (1, 'old')");
    await redis.mset(`${p}:1`, 'cached', `${p}:slug:old`, 'cached');
    await db.sql("UPDATE public.products SET slug = 'new' WHERE id = 1");
    // products: {id} is invalidated, {before.slug} is skipped (the old row is not sent).
    await eventually(async () => (await redis.exists(`${p}:1`)) === 0, 30_000, 'the products update');
    expect(await redis.get(`${p}:slug:old`)).toBe('cached');
    // pages (FULL): both keys go.
    await redis.set(`${p}:1`, 'cached');
    await db.sql("UPDATE public.pages SET slug = 'new' WHERE id = 1");
    await eventually(async () => (await redis.exists(`${p}:slug:old`)) === 0, 30_000, 'the pages update');
    expect(await redis.exists(`${p}:1`)).toBe(0);
  }, 90_000);
});
