import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
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
    expect(config.url).toBeUndefined(); // the sink then uses redis://127.0.0.1:6379
    expect(config).toMatchObject({
      tls: false,
      wait: { timeout_ms: 5_000 },
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
    [{ url: 'redis://a:6379', sentinel: { name: 'm', sentinels: ['s:26379'] }, rules: [{ tables: ['*.*'] }] }, 'sentinel: give only one of url, cluster and sentinel (this file has url and sentinel)'],
    [{ cluster: { nodes: ['a:7000'] }, sentinel: { name: 'm', sentinels: ['s:26379'] }, rules: [{ tables: ['*.*'] }] }, 'sentinel: give only one of url, cluster and sentinel (this file has cluster and sentinel)'],
    [{ sentinel: { name: 'm', sentinels: [] }, rules: [{ tables: ['*.*'] }] }, 'sentinel.sentinels: Too small'],
    [{ sentinel: { name: 'm', sentinels: ['s'] }, rules: [{ tables: ['*.*'] }] }, 'sentinel.sentinels.0: expected host:port'],
    [{ sentinel: { sentinels: ['s:1'] }, rules: [{ tables: ['*.*'] }] }, 'sentinel.name: Invalid input'],
    [{ cluster: { nodes: ['a:7000'] }, wait: { replicas: 1 }, rules: [{ tables: ['*.*'] }] }, 'wait.replicas: wait.replicas is not supported with cluster yet'],
    [{ wait: { replicas: -1 }, rules: [{ tables: ['*.*'] }] }, 'wait.replicas: Too small'],
  ])('reports %j', (input, expected) => {
    expect(messages(input).join('\n')).toContain(expected);
  });

  afterAll(removeFixtures);

  it('reports url and sentinel together with the sink file, line and key', async () => {
    const dir = await writeFixture({
      'slotline.yaml': 'source:\n  url: postgres://u@localhost/app\n  slot: s\n  publication: p\ntopic_prefix: app\nsinks: [sinks/redis.yaml]\n',
      'sinks/redis.yaml': 'name: cache\ntype: redis\nurl: redis://cache:6379\nsentinel:\n  name: main\n  sentinels: ["s1:26379"]\nrules:\n  - tables: ["public.t"]\n    invalidate: ["t:{id}"]\n',
    });
    const err = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: { redis: redisConfigSchema } }).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message.replaceAll(dir + path.sep, '')).toContain('sinks/redis.yaml:5:3 sentinel: give only one of url, cluster and sentinel (this file has url and sentinel)');
  });

  it('takes a sentinel block with defaults', () => {
    const config = redisConfigSchema.parse({ sentinel: { name: 'main', sentinels: ['s1:26379', 's2:26379'], password: 'x' }, rules: [{ tables: ['*.*'] }] });
    expect(config.sentinel).toEqual({ name: 'main', sentinels: ['s1:26379', 's2:26379'], password: 'x', db: 0 });
    expect(config.wait).toEqual({ timeout_ms: 5_000 });
  });

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
