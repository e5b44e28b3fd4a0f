import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { sinkConfigSchemas, sinkSharingProblems } from '../../connectors/index.ts';
import { ConfigError } from './config-error.ts';
import { UsageError } from '../errors.ts';
import { loadConfig, loadSources } from './load-config.ts';
import { removeFixtures, writeFixture } from './config-fixtures.ts';

afterAll(removeFixtures);

const OPTIONS = { sinkTypes: sinkConfigSchemas(), sharing: sinkSharingProblems, env: {} };
const TWO = [
  'sources:',
  '  - name: orders',
  '    topic_prefix: orders',
  '    url: postgres://app@db1/orders',
  '    slot: slotline_orders',
  '  - name: billing',
  '    topic_prefix: billing',
  '    url: postgres://app@db2:5433/billing',
  '    sinks: [events]',
  '    snapshot: { mode: no_data }',
  'snapshot: { mode: initial_only }',
  'decimal_handling_mode: string',
  '',
].join('\n');
const KAFKA = 'name: events\ntype: kafka\nbrokers: [localhost:9092]\n';
const TAP = 'name: tap\ntype: console\n';

async function load(files: Record<string, string>) {
  const dir = await writeFixture(files);
  return { dir, file: path.join(dir, 'slotline.yaml') };
}

/** The ConfigError lines, the temp dir cut from the paths. */
async function problems(files: Record<string, string>): Promise<string[]> {
  const { dir, file } = await load(files);
  const err = await loadSources(file, OPTIONS).then(() => null, (e: unknown) => e);
  if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
  return err.message.split('\n').map((line) => line.replaceAll(dir + path.sep, ''));
}

describe('sources: several databases in one main file', () => {
  it('gives each source its connection, slot, prefix, snapshot and routed sinks, and the shared settings', async () => {
    const { file } = await load({ 'slotline.yaml': TWO, 'sinks/events.yaml': KAFKA, 'sinks/tap.yaml': TAP });
    const { multi, sources } = await loadSources(file, OPTIONS);
    expect(multi).toBe(true);
    expect(sources.map((s) => [s.source_name, s.topic_prefix, s.source.host, s.source.port, s.source.database, s.source.slot])).toEqual([
      ['orders', 'orders', 'db1', undefined, 'orders', 'slotline_orders'],
      ['billing', 'billing', 'db2', 5433, 'billing', 'slotline'],
    ]);
    expect(sources.map((s) => s.sinks.map((k) => k.name))).toEqual([['events', 'tap'], ['events']]);
    expect(sources.map((s) => s.snapshot.mode)).toEqual(['initial_only', 'no_data']);
    expect(sources.map((s) => s.decimal_handling_mode)).toEqual(['string', 'string']);
    // A snapshot section of its own is complete: its defaults, not the top-level values, fill it.
    expect(sources[1].snapshot.chunk_size).toBe(1024);
  });

  it('keeps the one-source form as it was: one config, no source name', async () => {
    const { file } = await load({ 'slotline.yaml': 'source:\n  url: postgres://app@db/app\ntopic_prefix: app\n', 'sinks/events.yaml': KAFKA });
    const { multi, sources } = await loadSources(file, OPTIONS);
    expect([multi, sources.length, sources[0].source_name, sources[0].topic_prefix]).toEqual([false, 1, null, 'app']);
    expect((await loadConfig(file, OPTIONS)).source.database).toBe('app');
  });

  it('picks one source for a command by --source, and never guesses between two', async () => {
    const { file } = await load({ 'slotline.yaml': TWO, 'sinks/events.yaml': KAFKA });
    expect((await loadConfig(file, { ...OPTIONS, source: 'billing' })).source.database).toBe('billing');
    const missing = await loadConfig(file, OPTIONS).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UsageError);
    expect((missing as Error).message).toContain('has 2 sources (orders, billing): say which one with --source');
    const unknown = await loadConfig(file, { ...OPTIONS, source: 'nope' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as Error).message).toContain('--source nope: ');
    expect((unknown as Error).message).toContain('no source of that name');
    expect((unknown as UsageError).hint).toBe('the sources are orders, billing (the names in its sources: list)');
  });

  it('refuses --source with a one-source file', async () => {
    const { file } = await load({ 'slotline.yaml': 'source:\n  url: postgres://app@db/app\ntopic_prefix: app\n', 'sinks/events.yaml': KAFKA });
    await expect(loadConfig(file, { ...OPTIONS, source: 'orders' })).rejects.toThrow(/has one source \(`source:`\)/);
  });

  it('refuses both forms at once, a shared topic_prefix, duplicate names, prefixes and slots, and unknown sinks, all in one report', async () => {
    const main = [
      'source: { url: postgres://app@db/app }',
      'topic_prefix: app',
      'sources:',
      '  - { name: a, topic_prefix: one, url: postgres://app@db1/x, slot: s }',
      '  - { name: a, topic_prefix: one, url: postgres://app@db1/y, slot: s, sinks: [events, nope] }',
      '',
    ].join('\n');
    expect(await problems({ 'slotline.yaml': main, 'sinks/events.yaml': KAFKA })).toEqual([
      'slotline.yaml:1:9 source: give `source` (one database) or `sources` (several), not both',
      'slotline.yaml:2:15 topic_prefix: with `sources`, each source has its own topic_prefix: move it into the entries',
      'slotline.yaml:5:13 sources[1].name: source name "a" is also used by sources[0]',
      'slotline.yaml:5:30 sources[1].topic_prefix: topic prefix "one" is also used by sources[0]',
      'slotline.yaml:5:68 sources[1].slot: slot "s" on db1:5432 is also used by sources[0]',
      'slotline.yaml:5:87 sources[1].sinks[1]: no sink file has name "nope" (sinks: events)',
    ]);
  });

  it('points at a bad key inside an entry', async () => {
    const main = 'sources:\n  - name: a\n    topic_prefix: a\n    sloot: x\n';
    expect(await problems({ 'slotline.yaml': main, 'sinks/events.yaml': KAFKA })).toEqual(['slotline.yaml:4:5 sources[0].sloot: unknown key (did you mean "slot"?)']);
  });

  it('asks a sink file that serves several sources to keep their checkpoints, fences and indexes apart', async () => {
    const main = 'sources:\n  - { name: a, topic_prefix: a, database: a }\n  - { name: b, topic_prefix: b, database: b, slot: other }\n';
    const redis = 'name: cache\ntype: redis\nurl: redis://localhost:6379\nrules:\n  - tables: ["*.*"]\n    refresh: { key: "item:{id}" }\n';
    const es = 'name: search\ntype: elasticsearch\nnodes: [http://localhost:9200]\n';
    const once = 'name: events\ntype: kafka\nbrokers: [localhost:9092]\nexactly_once: true\ntransactional_id: tx\n';
    expect(await problems({ 'slotline.yaml': main, 'sinks/cache.yaml': redis, 'sinks/search.yaml': es, 'sinks/events.yaml': once })).toEqual([
      'sinks/cache.yaml:1:1 checkpoint_key: put `{prefix}` in checkpoint_key (e.g. `slotline:checkpoint:{prefix}:{sink}`): each source needs its own checkpoint (this sink serves sources a, b)',
      'sinks/cache.yaml:1:1 fence_prefix: put `{prefix}` in fence_prefix (e.g. `slotline:fence:{prefix}:`): a refresh fence compares positions of one source only (this sink serves sources a, b)',
      'sinks/events.yaml:5:19 transactional_id: leave transactional_id out (it defaults to slotline.<topic_prefix>.<sink name>): each source needs its own producer (this sink serves sources a, b)',
      'sinks/search.yaml:1:1 index: put `{prefix}` in index (e.g. `{prefix}.{schema}.{table}`): sources must not write the same index (this sink serves sources a, b)',
    ]);
    // Served by one source each, the same files are fine.
    const split = 'sources:\n  - { name: a, topic_prefix: a, database: a, sinks: [cache, search] }\n  - { name: b, topic_prefix: b, database: b, slot: other, sinks: [events] }\n';
    const { file } = await load({ 'slotline.yaml': split, 'sinks/cache.yaml': redis, 'sinks/search.yaml': es, 'sinks/events.yaml': once });
    expect((await loadSources(file, OPTIONS)).sources).toHaveLength(2);
  });
});
