import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { removeFixtures, writeFixture } from '../../src/config/config-fixtures.ts';
import { redisConfigSchema } from './redis-config.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

const messages = (input: unknown): string[] => {
  const result = redisConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('redis sink config', () => {
  it('fills the defaults', () => {
    const config = redisConfigSchema.parse({ rules: [{ tables: ['public.products'], invalidate: ['product:{id}'] }] });
    expect(config).toMatchObject({
      url: 'redis://127.0.0.1:6379',
      tls: false,
      unlink: false,
      checkpoint_key: 'slotline:checkpoint:{sink}',
      fence_prefix: 'slotline:fence:',
      fence_ttl: 604_800,
      request_timeout_ms: 10_000,
    });
    expect(config.rules[0]).toEqual({ tables: ['public.products'], invalidate: ['product:{id}'] });
  });

  it.each([
    [{ rules: [] }, 'rules: Too small'],
    [{ url: 'http://localhost:6379', rules: [{ tables: ['*.*'] }] }, 'url: invalid Redis URL "http://localhost:6379"'],
    [{ rules: [{ tables: ['public.products'], invalidate: ['product:{id'] }] }, 'rules.0.invalidate.0: unclosed "{"'],
    [{ rules: [{ tables: ['public.orders'], refresh: { key: 'order:{new.id}' } }] }, 'rules.0.refresh.key: bad placeholder "{new.id}"'],
    [{ rules: [{ tables: ['public.orders'], refresh: { key: 'order:{id}', ttl: -1 } }] }, 'rules.0.refresh.ttl: Too small'],
    [{ rules: [{ tables: ['public.orders'], invalidat: ['x'] }] }, 'rules.0: Unrecognized key: "invalidat"'],
  ])('reports %j', (input, expected) => {
    expect(messages(input).join('\n')).toContain(expected);
  });

  afterAll(removeFixtures);

  it('loads the sample sink file config/sinks/redis.yaml', async () => {
    const sample = await readFile(path.join(REPO, 'config/sinks/redis.yaml'), 'utf8');
    const dir = await writeFixture({
      'slotline.yaml': 'source:\n  url: postgres://u@localhost/app\n  slot: s\n  publication: p\ntopic_prefix: app\nsinks: [sinks/redis.yaml]\n',
      'sinks/redis.yaml': sample,
    });
    const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: { redis: redisConfigSchema }, env: { REDIS_URL: 'redis://cache:6379' } });
    expect(config.sinks[0]).toMatchObject({ name: 'cache', type: 'redis', url: 'redis://cache:6379', rules: [{ publish: 'cache_invalidation' }, { refresh: { key: 'order:{id}', ttl: 3600 } }] });
  });
});
