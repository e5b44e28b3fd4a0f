import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError } from './config-error.ts';
import { OperatorError } from '../errors.ts';
import { loadConfig } from './load-config.ts';
import { problemLines, removeFixtures, SINK_TYPES, writeFixture } from './config-fixtures.ts';

afterAll(removeFixtures);

const MAIN = 'source:\n  url: postgres://app@db/app\ntopic_prefix: app\n';
const KAFKA = 'name: events\ntype: kafka\nbrokers: [localhost:9092]\n';
const CONSOLE = 'name: tap\ntype: console\n';

interface Case {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  lines: string[];
}

const cases: Case[] = [
  {
    name: 'host and hosts together',
    files: { 'slotline.yaml': 'source:\n  host: db\n  hosts: [a, b]\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:3:10 source.hosts: give `host` or `hosts`, not both'],
  },
  {
    name: 'an empty name in a host list',
    files: { 'slotline.yaml': 'source:\n  host: "a,,b"\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:9 source.host: "a,,b" has an empty host name: list hosts as a,b or a:5432,b:5432'],
  },
  {
    name: 'a port out of range in a multi-host url',
    files: { 'slotline.yaml': 'source:\n  url: "postgres://app@a:5432,b:99999/app"\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:8 source.url: port 99999 of "b:99999" is not between 1 and 65535'],
  },
  {
    name: 'unknown key, close to a known one',
    files: { 'slotline.yaml': 'source:\n  url: postgres://app@db/app\n  sloot: x\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:3:3 source.sloot: unknown key (did you mean "slot"?)'],
  },
  {
    name: 'unknown key, two neighbouring letters swapped',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'outptu: stdout\n' },
    lines: ['sinks/c.yaml:3:1 outptu: unknown key (did you mean "output"?)'],
  },
  {
    name: 'unknown key in a sink file',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'colour: red\n' },
    lines: ['sinks/c.yaml:3:1 colour: unknown key; known keys: name, type, tables, exclude_tables, messages, transforms, output, pretty, schemas_enable'],
  },
  {
    name: 'transforms: an unknown transform type',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'transforms:\n  - type: flatten\n' },
    lines: ['sinks/c.yaml:4:11 transforms[0].type: unknown transform type "flatten"; known: unwrap, key, mask, outbox, filter, route'],
  },
  {
    name: 'transforms: an unknown unwrap option, close to a known one',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'transforms:\n  - type: unwrap\n    add_field: [op]\n' },
    lines: ['sinks/c.yaml:5:5 transforms[0].add_field: unknown key (did you mean "add_fields"?)'],
  },
  {
    name: 'transforms: an add_fields entry that names no envelope field',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'transforms:\n  - type: unwrap\n    add_fields: [op, source.tx]\n' },
    lines: ['sinks/c.yaml:5:22 transforms[0].add_fields[1]: "source.tx" is no envelope field (op, ts_ms, ts_us, ts_ns, source.<version|connector|name|ts_ms|snapshot|db|sequence|ts_us|ts_ns|schema|table|txId|lsn|xmin|origin|origin_lsn>, transaction.<id|total_order|data_collection_order>)'],
  },
  {
    name: 'transforms: mask after unwrap',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'transforms:\n  - type: unwrap\n  - type: mask\n    rules: [{ columns: [public.users.email], mask_with_chars: 4 }]\n' },
    lines: ['sinks/c.yaml:5:11 transforms[1].type: "mask" must come before "unwrap": Debezium applies it in the connector, before any record transform'],
  },
  {
    name: 'transforms: a mask rule with two actions',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + 'transforms:\n  - type: mask\n    rules:\n      - columns: [public.users.email]\n        mask_with_chars: 4\n        truncate_to_chars: 2\n' },
    lines: ['sinks/c.yaml:6:9 transforms[0].rules[0]: a mask rule has exactly one of mask_with_chars, hash, truncate_to_chars'],
  },
  {
    name: 'transforms: a filter condition that does not parse, with its position',
    files: { 'slotline.yaml': MAIN, 'sinks/c.yaml': CONSOLE + "transforms:\n  - type: filter\n    condition: \"after.status = 'paid'\"\n" },
    lines: ['sinks/c.yaml:5:16 transforms[0].condition: unexpected "=" at character 14 in "after.status = \'paid\'"'],
  },
  {
    name: 'wrong type',
    files: { 'slotline.yaml': MAIN + 'runtime:\n  batch_max_events: lots\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:5:21 runtime.batch_max_events: expected integer, got string "lots"'],
  },
  {
    name: 'a mapping where a value belongs',
    files: { 'slotline.yaml': MAIN + 'schemas_enable: { on: true }\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:17 schemas_enable: expected boolean, got a mapping'],
  },
  {
    name: 'bad enum value',
    files: { 'slotline.yaml': MAIN + 'decimal_handling_mode: exact\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:24 decimal_handling_mode: expected one of precise, double, string; got string "exact"'],
  },
  {
    name: 'debezium_compat: an unknown word',
    files: { 'slotline.yaml': MAIN + 'debezium_compat: exact\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:18 debezium_compat: expected one of lossless, strict; got string "exact"'],
  },
  {
    name: 'debezium_compat: a boolean',
    files: { 'slotline.yaml': MAIN + 'debezium_compat: true\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:18 debezium_compat: expected one of lossless, strict; got true'],
  },
  {
    name: 'missing required key',
    files: { 'slotline.yaml': 'source:\n  url: postgres://app@db/app\n', 'sinks/k.yaml': 'name: events\ntype: kafka\n' },
    lines: ['slotline.yaml:1:1 topic_prefix: required', 'sinks/k.yaml:1:1 brokers: required'],
  },
  {
    name: 'missing required key inside a flow mapping',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': KAFKA + 'sasl: { mechanism: plain, username: u }\n' },
    lines: ['sinks/k.yaml:4:7 sasl.password: required'],
  },
  {
    name: 'missing environment variable',
    files: { 'slotline.yaml': 'source:\n  url: ${DB_URL}\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:8 source.url: environment variable DB_URL is not set (use ${DB_URL:-default} for a default)'],
  },
  {
    name: 'missing environment variable inside a longer string',
    files: { 'slotline.yaml': 'source:\n  url: "postgres://app:${DB_PASSWORD}@db/app"\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:24 source.url: environment variable DB_PASSWORD is not set (use ${DB_PASSWORD:-default} for a default)'],
  },
  {
    name: 'interpolated value that is not a number',
    files: { 'slotline.yaml': MAIN.replace('topic_prefix', '  port: ${PGPORT}\ntopic_prefix'), 'sinks/k.yaml': KAFKA },
    env: { PGPORT: 'fivefourthreetwo' },
    lines: ['slotline.yaml:3:9 source.port: expected integer, got string "fivefourthreetwo"'],
  },
  {
    name: 'bad size unit',
    files: { 'slotline.yaml': MAIN + 'runtime:\n  max_in_flight_bytes: 64MiBs\n', 'sinks/k.yaml': KAFKA },
    lines: [
      'slotline.yaml:5:24 runtime.max_in_flight_bytes: invalid size "64MiBs": expected bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)',
    ],
  },
  {
    name: 'bad http listen address',
    files: { 'slotline.yaml': MAIN + 'http:\n  listen: "localhost:port"\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:5:11 http.listen: "localhost:port" is not host:port (e.g. 127.0.0.1:9187, 0.0.0.0:9187, :9187)'],
  },
  {
    name: 'http port out of range',
    files: { 'slotline.yaml': MAIN + 'http:\n  listen: 70000\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:5:11 http.listen: port 70000 is out of range (0-65535)'],
  },
  {
    name: 'zero size',
    files: { 'slotline.yaml': MAIN + 'runtime:\n  batch_max_bytes: 0KiB\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:5:20 runtime.batch_max_bytes: must be at least 1 byte, got "0KiB"'],
  },
  {
    name: 'bad table glob',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': KAFKA + 'tables: [public.orders, orders]\nexclude_tables: ["public.[ab]"]\n' },
    lines: [
      'sinks/k.yaml:4:25 tables[1]: invalid table glob "orders": expected "schema.table" (e.g. "public.*")',
      'sinks/k.yaml:5:18 exclude_tables[0]: invalid table glob "public.[ab]": character "[" is not allowed (globs use * and ?)',
    ],
  },
  {
    name: 'bad topic template placeholder',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': KAFKA + 'topic: "{prefix}.{tabel}"\nmessage_topic: "{prefix}.{table}"\n' },
    lines: [
      'sinks/k.yaml:4:8 topic: unknown placeholder "{tabel}" in topic template (allowed: {prefix}, {schema}, {table})',
      'sinks/k.yaml:5:16 message_topic: unknown placeholder "{table}" in topic template (allowed: {prefix})',
    ],
  },
  {
    name: 'topic template with a character Kafka refuses',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': KAFKA + 'topic: "{prefix}/{table}"\n' },
    lines: ['sinks/k.yaml:4:8 topic: character "/" is not allowed in a Kafka topic name (use letters, digits, ".", "_", "-")'],
  },
  {
    name: 'bad broker',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': 'name: events\ntype: kafka\nbrokers: [localhost]\n' },
    lines: ['sinks/k.yaml:3:11 brokers[0]: invalid broker "localhost": expected host:port'],
  },
  {
    name: 'duplicate sink name names both files',
    files: { 'slotline.yaml': MAIN, 'sinks/a.yaml': KAFKA, 'sinks/b.yaml': 'name: events\ntype: console\n' },
    lines: ['sinks/b.yaml:1:7 name: duplicate sink name "events" (also in sinks/a.yaml)'],
  },
  {
    name: 'unknown sink type',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': 'name: events\ntype: kafak\nbrokers: [localhost:9092]\n' },
    lines: ['sinks/k.yaml:2:7 type: unknown sink type "kafak" (known types: console, kafka)'],
  },
  {
    name: 'missing sink type still checks the common keys',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': 'name: events\ntables: [nodot]\n' },
    lines: [
      'sinks/k.yaml:1:1 type: required (known types: console, kafka)',
      'sinks/k.yaml:2:10 tables[0]: invalid table glob "nodot": expected "schema.table" (e.g. "public.*")',
    ],
  },
  {
    name: 'YAML syntax error',
    files: { 'slotline.yaml': 'source:\n  url: postgres://app@db/app\n topic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:3:1 YAML syntax error: All mapping items must start at the same column'],
  },
  {
    name: 'duplicate key',
    files: { 'slotline.yaml': MAIN + 'topic_prefix: app2\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:1 topic_prefix: duplicate key (first defined at line 3)'],
  },
  {
    name: 'empty sinks directory',
    files: { 'slotline.yaml': MAIN + 'sinks: sinks/\n', 'sinks/': '' },
    lines: ['slotline.yaml:4:8 sinks: no sink files (*.yaml, *.yml) in directory sinks/'],
  },
  {
    name: 'missing sink file in a list',
    files: { 'slotline.yaml': MAIN + 'sinks: [sinks/k.yaml, sinks/gone.yaml]\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:23 sinks[1]: no such file or directory: sinks/gone.yaml'],
  },
  {
    name: 'sink file that is not a mapping',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': '- name: events\n  type: kafka\n' },
    lines: ['sinks/k.yaml:1:1 sink file must be a mapping of settings, got a list'],
  },
  {
    name: 'empty sink file',
    files: { 'slotline.yaml': MAIN, 'sinks/k.yaml': '# nothing yet\n' },
    lines: ['sinks/k.yaml:1:1 sink file is empty: expected a mapping of settings'],
  },
  {
    name: 'bad connection url',
    files: { 'slotline.yaml': 'source:\n  url: mysql://db/app\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:8 source.url: expected a postgres:// or postgresql:// URL, got mysql://'],
  },
  {
    name: 'cross-field check',
    files: { 'slotline.yaml': MAIN + 'runtime:\n  retry: { initial_delay_ms: 500, max_delay_ms: 100 }\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:5:49 runtime.retry.max_delay_ms: max_delay_ms must be >= initial_delay_ms'],
  },
  {
    name: 'skipped operations as a bad Debezium string',
    files: { 'slotline.yaml': MAIN + 'skipped_operations: "c,x"\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:4:21 skipped_operations: unknown operation "x": expected a list of c, u, d, t, or "none"'],
  },
  {
    name: 'topic prefix Debezium would refuse',
    files: { 'slotline.yaml': 'source: {}\ntopic_prefix: "app/prod"\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:15 topic_prefix: invalid topic prefix "app/prod": use letters, digits, ".", "_" and "-"'],
  },
  {
    name: 'a rewind retention without a unit',
    files: { 'slotline.yaml': 'source:\n  rewind: { retain: 3600 }\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:21 source.rewind.retain: retention "3600" has no unit: write a duration like 1h or a WAL size like 2GiB'],
  },
  {
    name: 'a rewind retention that is neither a duration nor a size',
    files: { 'slotline.yaml': 'source:\n  rewind: { retain: 1 hour }\ntopic_prefix: app\n', 'sinks/k.yaml': KAFKA },
    lines: ['slotline.yaml:2:21 source.rewind.retain: invalid retention "1 hour": expected a duration like 1h, 90m or 1h30m (units ms, s, m, h, d), or a WAL size like 2GiB'],
  },
  {
    name: 'a rewind slot name that would be too long',
    files: { 'slotline.yaml': `source:\n  slot: ${'s'.repeat(60)}\n  rewind: { retain: 1h }\ntopic_prefix: app\n`, 'sinks/k.yaml': KAFKA },
    lines: [`slotline.yaml:3:11 source.rewind: the rewind slot name "${'s'.repeat(60)}_rewind" is longer than 63 characters: set rewind.slot`],
  },
  {
    name: 'every problem of every file, in file order',
    files: {
      'slotline.yaml': 'source:\n  slot: Bad-Slot\ntopic_prefix: app\nlog: { level: loud }\n',
      'sinks/a.yaml': 'name: events\ntype: kafka\nbrokers: []\ncompression: brotli\n',
      'sinks/b.yaml': 'name: tap\ntype: console\npretty: maybe\n',
    },
    lines: [
      'slotline.yaml:2:9 source.slot: a slot name has 1-63 lower-case letters, digits and underscores',
      'slotline.yaml:4:15 log.level: expected one of fatal, error, warn, info, debug, trace, silent; got string "loud"',
      'sinks/a.yaml:3:10 brokers: list at least one broker',
      'sinks/a.yaml:4:14 compression: expected one of none, gzip, snappy, lz4, zstd; got string "brotli"',
      'sinks/b.yaml:3:9 pretty: expected boolean, got string "maybe"',
    ],
  },
];

describe('loadConfig problems', () => {
  it.each(cases)('$name', async ({ files, env, lines }) => {
    expect(await problemLines(files, env)).toEqual(lines);
  });

  it('throws a ConfigError, an OperatorError carrying the problems', async () => {
    const dir = await writeFixture({ 'slotline.yaml': 'source: {}\n', 'sinks/k.yaml': KAFKA });
    const main = path.join(dir, 'slotline.yaml');
    const err = await loadConfig(main, { sinkTypes: SINK_TYPES, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as ConfigError).kind).toBe('operator');
    expect((err as ConfigError).problems).toEqual([{ file: main, line: 1, column: 1, path: 'topic_prefix', message: 'required' }]);
  });

  it('reports a missing main file without a position', async () => {
    const dir = await writeFixture({});
    const main = path.join(dir, 'slotline.yaml');
    const err = await loadConfig(main, { sinkTypes: SINK_TYPES }).catch((e: unknown) => e);
    expect((err as ConfigError).message).toBe(`${main}: main file not found`);
    expect((err as ConfigError).hint).toBe(`check the path given to --config (a relative path starts at the current directory, ${process.cwd()})`);
  });

  it('a missing or unreadable file gets a hint for that file, not the one about positions', async () => {
    const dir = await writeFixture({ 'slotline.yaml': MAIN + 'sinks: [nosuch.yaml]\n', 'as-dir.yaml/': '' });
    const missingSink = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES }).then(() => { throw new Error('loaded'); }, (e: unknown) => e as ConfigError);
    expect(missingSink.message).toBe(`${path.join(dir, 'slotline.yaml')}:4:9 sinks[0]: no such file or directory: ${path.join(dir, 'nosuch.yaml')}`);
    expect(missingSink.hint).toBe(`sink paths are relative to the main file's directory, ${dir}`);
    const directory = await loadConfig(path.join(dir, 'as-dir.yaml'), { sinkTypes: SINK_TYPES }).then(() => { throw new Error('loaded'); }, (e: unknown) => e as ConfigError);
    expect(directory.message).toBe(`${path.join(dir, 'as-dir.yaml')}: main file is a directory`);
    expect(directory.hint).toBe('--config names the main YAML file, not a directory');
  });

  it('a missing file among problems at positions keeps the general hint', async () => {
    const dir = await writeFixture({ 'slotline.yaml': MAIN + 'sinks: [nosuch.yaml]\nbogus: 1\n' });
    const err = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES }).then(() => { throw new Error('loaded'); }, (e: unknown) => e as ConfigError);
    expect(err.problems).toHaveLength(2);
    expect(err.hint).toMatch(/^fix the configuration at the positions above/);
  });
});
