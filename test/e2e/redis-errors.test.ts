/**
 * Clear errors from the Redis sink: a missing password and a missing
 * permission are operator errors with a hint (a wrong password: the
 * conformance suite, test/conformance/); an unreachable server is a
 * retryable error naming the address; a template naming a column the table
 * does not have stops the worker naming rule, template, table and columns.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisConfigSchema, type RedisSinkConfig } from '../../connectors/redis/redis-config.ts';
import { createRedisSink } from '../../connectors/redis/redis-sink.ts';
import { errorKind, SlotlineError } from '../../src/errors.ts';
import type { SinkContext } from '../../src/sink.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { writeRedisConfig } from './redis-support.ts';
import { runInProcess } from './support.ts';

// No table exists for these sinks: describeTable says so, and the sink only warns (silently here).
const context = { logger: pino({ level: 'silent' }), topicPrefix: 't', schemasEnable: false, tombstonesOnDelete: false, describeTable: async () => null } as unknown as SinkContext;

function sinkConfig(extra: Record<string, unknown>): RedisSinkConfig {
  const parsed = redisConfigSchema.parse({ rules: [{ tables: ['public.t'], invalidate: ['t:{id}'] }], request_timeout_ms: 2000, ...extra });
  return { ...parsed, name: 'cache', type: 'redis', tables: ['*.*'], exclude_tables: [], messages: false, transforms: [], file: '/dev/null' } as RedisSinkConfig;
}

async function startError(config: RedisSinkConfig): Promise<SlotlineError> {
  const sink = createRedisSink(config, context);
  try {
    await sink.start();
  } catch (err) {
    return err as SlotlineError;
  } finally {
    await sink.stop();
  }
  throw new Error('start() succeeded');
}

describe('redis sink errors', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', 'secret', '--user', 'reader', 'on', '>readerpw', '~*', '+get', '+ping', '+hello', '+auth', '+client'] });
  }, 30_000);
  afterAll(async () => server?.close());

  it('no password is an operator error with a hint', async () => {
    const err = await startError(sinkConfig({ url: server.url }));
    expect(errorKind(err)).toBe('operator');
    expect(err.message).toMatch(/NOAUTH/);
    expect(err.hint).toMatch(/check username\/password/);
  });

  it('a user without the needed permissions gets an operator error naming them', async () => {
    const sink = createRedisSink(sinkConfig({ url: server.url, username: 'reader', password: 'readerpw' }), context);
    await sink.start();
    const event = { op: 'c', schema: 'public', table: 't', key: { id: 1 }, before: null, after: { id: 1 }, lsn: 16n, commitLsn: 32n, schemas: { key: null, value: { type: 'struct', optional: true, fields: [{ field: 'id', type: 'int32', optional: false }] } } };
    const err = await sink.write([event as never], { commits: [{ commitLsn: 32n, endLsn: 48n }] }).then(() => null, (e) => e as SlotlineError);
    await sink.stop();
    expect(errorKind(err)).toBe('operator');
    expect(err!.message).toMatch(/NOPERM/);
    expect(err!.hint).toMatch(/\+eval/);
  });

  it('an unreachable server is retryable and named', async () => {
    const port = await freePort();
    const err = await startError(sinkConfig({ url: `redis://127.0.0.1:${port}` }));
    expect(errorKind(err)).toBe('retryable');
    expect(err.message).toContain(`connecting to Redis redis://127.0.0.1:${port}`);
  });

  it('a template naming a column the table lacks stops the worker with rule, template, table and columns', async () => {
    const db = await freshDatabase('redis_errors');
    const p = uniqueName('rer');
    await db.sql('CREATE TABLE public.products (id int PRIMARY KEY, slug text)');
    const config = await writeRedisConfig(
      { db, slot: p, publication: p, topicPrefix: p },
      `url: ${server.url}\npassword: secret\nrules:\n  - tables: ["public.*"]\n    invalidate: ["product:{id}", "product:{sku}"]`,
    );
    const worker = await runInProcess(config);
    await db.sql("INSERT INTO public.products VALUES (1, 'a')");
    const err = await worker.running.then(() => null, (e) => e as SlotlineError);
    expect(errorKind(err)).toBe('operator');
    expect(err!.message).toBe('sink "cache": rule 1: key template "product:{sku}" names column(s) sku, which public.products does not have (columns: id, slug)');
  }, 60_000);
});
