import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { removeFixtures, writeFixture } from '../config/config-fixtures.ts';
import { loadConfig } from '../config/load-config.ts';
import { resolveReplaySink } from './replay-sink.ts';

afterAll(removeFixtures);

const MAIN = 'source:\n  url: postgres://app@db/app\n  rewind: { retain: 1h }\ntopic_prefix: app\nsinks: [sinks/]\n';
const REDIS = (name: string, keyPrefix = '') => `name: ${name}\ntype: redis\nurl: redis://cache:6379\nrules:\n  - tables: ["public.items"]\n    invalidate: ["${keyPrefix}item:{id}"]\n`;
const KAFKA = (name: string, extra = '') => `name: ${name}\ntype: kafka\nbrokers: [kafka:9092]\n${extra}`;

async function setup(files: Record<string, string>) {
  const dir = await writeFixture({ 'slotline.yaml': MAIN, 'sinks/cache.yaml': REDIS('cache'), 'sinks/events.yaml': KAFKA('events', 'exactly_once: true\n'), ...files });
  const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: sinkConfigSchemas() });
  return { dir, config };
}

describe('the sink a replay writes into', () => {
  it('takes a shadow sink file the config does not list', async () => {
    const { dir, config } = await setup({ 'shadow/cache.yaml': REDIS('cache-shadow', 'shadow:') });
    const sink = await resolveReplaySink(path.join(dir, 'shadow/cache.yaml'), config, false);
    expect(sink).toMatchObject({ config: { name: 'cache-shadow', type: 'redis' }, production: null });
  });

  it.each([
    ['a file the config lists', 'sinks/cache.yaml', /sink file \S+cache\.yaml is production: \S+slotline\.yaml lists it \(sink "cache"\)/],
    ['a sink the config lists, by name', 'cache', /is production: \S+slotline\.yaml lists it \(sink "cache"\)/],
    ['a shadow with the production Redis checkpoint key', 'shadow/same-name.yaml', /keeps its checkpoint where production sink "cache" does \(redis key slotline:checkpoint:cache\)/],
    ['a shadow with the production Kafka transactional id', 'shadow/same-tx.yaml', /keeps its checkpoint where production sink "events" does \(kafka transactional\.id slotline\.app\.events\)/],
  ])('refuses %s without --into-production, and takes it with', async (_name, given, message) => {
    const { dir, config } = await setup({
      'shadow/same-name.yaml': REDIS('cache', 'shadow:'),
      'shadow/same-tx.yaml': KAFKA('events-shadow', 'exactly_once: true\ntransactional_id: slotline.app.events\ntopic: "shadow.{prefix}.{schema}.{table}"\n'),
    });
    const target = given.includes('/') ? path.join(dir, given) : given;
    const err = await resolveReplaySink(target, config, false).catch((e: unknown) => e as { message: string; hint: string; kind: string });
    expect(err).toMatchObject({ kind: 'operator' });
    expect((err as { message: string }).message).toMatch(message);
    expect((err as { hint: string }).hint).toMatch(/--into-production/);
    expect((await resolveReplaySink(target, config, true)).production).toMatch(/^(cache|events)$/);
  });

  it('says what it knows when the file does not exist', async () => {
    const { config } = await setup({});
    await expect(resolveReplaySink('/nowhere/shadow.yaml', config, false)).rejects.toMatchObject({
      message: 'sink file "/nowhere/shadow.yaml" does not exist',
      hint: expect.stringMatching(/or the name of a sink of \S+slotline\.yaml: cache, events$/),
    });
  });

  it('reports a broken sink file with its positions', async () => {
    const { dir, config } = await setup({ 'shadow/broken.yaml': 'name: broken\ntype: kafka\n' });
    await expect(resolveReplaySink(path.join(dir, 'shadow/broken.yaml'), config, false)).rejects.toThrow(/broken\.yaml:\d+:\d+ brokers: required/);
  });
});
