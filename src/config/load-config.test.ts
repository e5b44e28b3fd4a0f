import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load-config.ts';
import { normalizeOptionsOf } from './main-schema.ts';
import { DEFAULT_NORMALIZE_OPTIONS } from '../normalize/options.ts';
import { loadFixture, removeFixtures, SINK_TYPES, writeFixture } from './config-fixtures.ts';
import { sinkConfigSchemas } from '../../connectors/index.ts';

afterAll(removeFixtures);

const MAIN = 'source:\n  url: postgres://app@db/app\ntopic_prefix: app\n';
const KAFKA = 'name: events\ntype: kafka\nbrokers: [localhost:9092]\n';
const REPO_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config');

describe('loadConfig with good input', () => {
  it.each([
    ['', { create_publication: true, create_slot: true }],
    ['  create: false\n', { create_publication: false, create_slot: false }],
    ['  create_publication: false\n', { create_publication: false, create_slot: true }],
    ['  create: false\n  create_slot: true\n', { create_publication: false, create_slot: true }],
  ])('source create keys %j → %o (create is the shorthand; the specific key wins)', async (keys, expected) => {
    const dir = await writeFixture({ 'slotline.yaml': `source:\n  url: postgres://app@db/app\n${keys}topic_prefix: app\n`, 'sinks/kafka.yaml': KAFKA });
    const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES });
    expect(config.source).toMatchObject(expected);
    expect(config.source).not.toHaveProperty('create');
  });

  it('applies every default', async () => {
    const dir = await writeFixture({ 'slotline.yaml': MAIN, 'sinks/kafka.yaml': KAFKA });
    const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES, env: {} });
    expect(config).toEqual({
      file: path.join(dir, 'slotline.yaml'),
      source_name: null,
      source: {
        host: 'db',
        user: 'app',
        database: 'app',
        ssl: false,
        slot: 'slotline',
        publication: 'slotline',
        create_publication: true,
        create_slot: true,
        heartbeat_interval_ms: 10_000,
        status_interval_ms: 10_000,
        reconnect: { initial_delay_ms: 500, max_delay_ms: 30_000 },
        connect_timeout_ms: 10_000,
        standby: { enabled: false, poll_interval_ms: 1000 },
        failover: false,
      },
      topic_prefix: 'app',
      decimal_handling_mode: 'precise',
      time_precision_mode: 'adaptive',
      binary_handling_mode: 'bytes',
      interval_handling_mode: 'numeric',
      hstore_handling_mode: 'json',
      money_fraction_digits: 2,
      tombstones_on_delete: true,
      schemas_enable: true,
      unavailable_value_placeholder: '__debezium_unavailable_value',
      debezium_compat: 'lossless',
      skipped_operations: ['t'],
      snapshot: { mode: 'initial', max_connections: 1, fetch_size: 10240, chunk_size: 1024, state_table: 'public.slotline_snapshots', progress_interval_ms: 5000 },
      runtime: {
        max_in_flight_bytes: 16 * 1024 * 1024,
        batch_max_events: 2048,
        batch_max_bytes: 4 * 1024 * 1024,
        linger_ms: 5,
        shutdown_timeout_ms: 30_000,
        retry: { initial_delay_ms: 200, max_delay_ms: 30_000 },
      },
      http: { listen: { host: '127.0.0.1', port: 9187 }, slot_poll_interval_ms: 10_000, stall_timeout_ms: 120_000 },
      log: { level: 'info', format: 'auto' },
      sinks: [
        {
          file: path.join(dir, 'sinks/kafka.yaml'),
          name: 'events',
          type: 'kafka',
          tables: ['*.*'],
          exclude_tables: [],
          messages: true,
          transforms: [],
          brokers: ['localhost:9092'],
          client_id: 'slotline',
          topic: '{prefix}.{schema}.{table}',
          message_topic: '{prefix}.message',
          compression: 'none',
          batch: {},
          headers: true,
          create_topics: { enabled: false, partitions: 1, replication_factor: 1, config: {} },
          request_timeout_ms: 30_000,
          exactly_once: false,
          checkpoint_topic: 'slotline.checkpoints',
          transaction_timeout_ms: 60_000,
          ssl: false,
        },
      ],
    });
  });

  it('gives the normalizer its options', async () => {
    const config = await loadFixture({
      'slotline.yaml': MAIN + 'decimal_handling_mode: string\nmoney_fraction_digits: 4\ndebezium_compat: strict\n',
      'sinks/k.yaml': KAFKA,
    });
    expect(normalizeOptionsOf(config, 'app')).toEqual({
      ...DEFAULT_NORMALIZE_OPTIONS,
      topicPrefix: 'app',
      database: 'app',
      decimalHandlingMode: 'string',
      moneyFractionDigits: 4,
      debeziumCompat: 'strict',
    });
  });

  it('loads sink files from directories and lists, in order, each once', async () => {
    const config = await loadFixture({
      'slotline.yaml': MAIN + 'sinks: [extra/z.yaml, sinks, extra/z.yaml]\n',
      'sinks/b.yml': 'name: b\ntype: console\n',
      'sinks/a.yaml': 'name: a\ntype: console\noutput: /tmp/a.jsonl\npretty: true\nschemas_enable: false\n',
      'sinks/notes.txt': 'not a sink',
      'extra/z.yaml': 'name: z\ntype: console\n',
    });
    expect(config.sinks.map((s) => s.name)).toEqual(['z', 'a', 'b']);
    expect(config.sinks[1]).toMatchObject({ output: '/tmp/a.jsonl', pretty: true, schemas_enable: false });
    expect(config.sinks[2]).toMatchObject({ output: 'stdout', pretty: false });
    expect(config.sinks[2]).not.toHaveProperty('schemas_enable');
  });

  const sourceCases: { name: string; source: string; env?: Record<string, string>; expected: Record<string, unknown> }[] = [
    {
      name: 'url parts, percent-decoded, with sslmode',
      source: 'url: "postgres://rep%40lic:p%2Fw@db.internal:6432/shop?sslmode=verify-full"',
      expected: { host: 'db.internal', port: 6432, user: 'rep@lic', password: 'p/w', database: 'shop', ssl: true },
    },
    {
      name: 'discrete keys override the url',
      source: 'url: postgres://app:old@db/app?sslmode=require\n  password: ${PGPASSWORD}\n  port: 5433\n  ssl: false',
      env: { PGPASSWORD: 's3cret' },
      expected: { host: 'db', port: 5433, user: 'app', password: 's3cret', database: 'app', ssl: false },
    },
    {
      name: 'sslmode=require encrypts without verifying',
      source: 'url: postgresql://app@db/app?sslmode=require',
      expected: { ssl: { reject_unauthorized: false } },
    },
    {
      name: 'Unix socket directory in the host parameter',
      source: 'url: postgres:///app?host=/var/run/postgresql',
      expected: { host: '/var/run/postgresql', database: 'app' },
    },
    {
      name: 'discrete keys only, TLS files',
      source: 'host: db\n  user: app\n  ssl: { ca: /etc/ssl/ca.pem }\n  tables: [public.orders]',
      expected: { host: 'db', user: 'app', ssl: { ca: '/etc/ssl/ca.pem', reject_unauthorized: true }, tables: ['public.orders'] },
    },
    {
      name: 'a rewind slot by time, named after the slot',
      source: 'url: postgres://app@db/app\n  slot: orders\n  rewind: { retain: 1h }',
      expected: { slot: 'orders', rewind: { retain: { by: 'time', ms: 3_600_000 }, slot: 'orders_rewind', advance_interval_ms: 10_000 } },
    },
    {
      name: 'a rewind slot by WAL size, named by hand',
      source: 'url: postgres://app@db/app\n  rewind: { retain: 2GiB, slot: history, advance_interval_ms: 5000 }',
      expected: { rewind: { retain: { by: 'wal', bytes: 2 * 2 ** 30 }, slot: 'history', advance_interval_ms: 5000 } },
    },
    {
      name: 'several hosts in a list, each with or without a port; failover on',
      source: 'url: postgres://app@db/app\n  port: 5433\n  hosts: [pg-a, "pg-b:5434", "[::1]:5435"]\n  failover: true',
      expected: { port: 5433, hosts: [{ host: 'pg-a' }, { host: 'pg-b', port: 5434 }, { host: '::1', port: 5435 }], failover: true },
    },
    {
      name: "libpq's host=a,b form",
      source: 'host: "pg-a,pg-b:6432"\n  user: app',
      expected: { hosts: [{ host: 'pg-a' }, { host: 'pg-b', port: 6432 }], failover: false },
    },
    {
      name: 'a multi-host url',
      source: 'url: "postgres://app:pw@pg-a:5432,pg-b:5433/shop?sslmode=require"',
      expected: { user: 'app', password: 'pw', database: 'shop', hosts: [{ host: 'pg-a', port: 5432 }, { host: 'pg-b', port: 5433 }] },
    },
    {
      name: 'a url with ?host=a,b',
      source: 'url: "postgres:///shop?host=pg-a,pg-b"',
      expected: { hosts: [{ host: 'pg-a' }, { host: 'pg-b' }], database: 'shop' },
    },
    {
      name: 'hosts with one entry is that host',
      source: 'url: postgres://app@db/app\n  hosts: ["pg-a:6000"]',
      expected: { host: 'pg-a', port: 6000, hosts: undefined },
    },
  ];

  it.each(sourceCases)('source: $name', async ({ source, env, expected }) => {
    const config = await loadFixture({ 'slotline.yaml': `source:\n  ${source}\ntopic_prefix: app\n`, 'sinks/k.yaml': KAFKA }, env);
    expect(config.source).toMatchObject(expected);
  });

  const valueCases: { name: string; yaml: string; pick: (c: Awaited<ReturnType<typeof loadFixture>>) => unknown; expected: unknown }[] = [
    { name: 'skipped_operations none', yaml: 'skipped_operations: none', pick: (c) => c.skipped_operations, expected: [] },
    { name: 'skipped_operations []', yaml: 'skipped_operations: []', pick: (c) => c.skipped_operations, expected: [] },
    { name: 'skipped_operations Debezium string', yaml: 'skipped_operations: "c, d"', pick: (c) => c.skipped_operations, expected: ['c', 'd'] },
    { name: 'skipped_operations list, deduplicated', yaml: 'skipped_operations: [u, t, u]', pick: (c) => c.skipped_operations, expected: ['u', 't'] },
    { name: 'size in bytes', yaml: 'runtime: { max_in_flight_bytes: 1000 }', pick: (c) => c.runtime.max_in_flight_bytes, expected: 1000 },
    { name: 'decimal size unit', yaml: 'runtime: { max_in_flight_bytes: 2 MB }', pick: (c) => c.runtime.max_in_flight_bytes, expected: 2_000_000 },
    { name: 'fractional binary size', yaml: 'runtime: { batch_max_bytes: 1.5KiB }', pick: (c) => c.runtime.batch_max_bytes, expected: 1536 },
    { name: 'GiB', yaml: 'runtime: { max_in_flight_bytes: 1gib }', pick: (c) => c.runtime.max_in_flight_bytes, expected: 2 ** 30 },
  ];

  it.each(valueCases)('$name', async ({ yaml, pick, expected }) => {
    const config = await loadFixture({ 'slotline.yaml': MAIN + yaml + '\n', 'sinks/k.yaml': KAFKA });
    expect(pick(config)).toEqual(expected);
  });

  it('reads kafka settings with overrides, sizes and topic configs', async () => {
    const config = await loadFixture({
      'slotline.yaml': MAIN,
      'sinks/k.yaml': [
        'name: events',
        'type: kafka',
        'brokers: "k1:9092, k2:9093"',
        'topic: "cdc.{schema}_{table}"',
        'tombstones_on_delete: false',
        'batch: { max_bytes: 1MiB, max_events: 100 }',
        'create_topics: { enabled: true, partitions: 3, config: { cleanup.policy: compact, retention.ms: 1000 } }',
        'sasl: { mechanism: scram-sha-512, username: u, password: p }',
        'ssl: { reject_unauthorized: false }',
      ].join('\n'),
    });
    expect(config.sinks[0]).toMatchObject({
      brokers: ['k1:9092', 'k2:9093'],
      topic: 'cdc.{schema}_{table}',
      tombstones_on_delete: false,
      batch: { max_bytes: 1024 * 1024, max_events: 100 },
      create_topics: { enabled: true, partitions: 3, replication_factor: 1, config: { 'cleanup.policy': 'compact', 'retention.ms': '1000' } },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      ssl: { reject_unauthorized: false },
    });
  });
});

describe('environment interpolation in loadConfig', () => {
  const env = { PGPORT: '6543', PW: '12345', BROKERS: 'a:9092,b:9092', EMPTY: '', DEBUG_SSL: 'TRUE', PREFIX: 'shop' };
  const main = [
    'source:',
    '  host: db',
    '  port: ${PGPORT}', // a number where the schema wants one
    '  password: ${PW}', // stays a string although all digits
    '  create: ${CREATE:-false}', // default, then a boolean
    '  slot: ${EMPTY:-fallback_slot}', // empty counts as unset for :-
    'topic_prefix: ${PREFIX}.v1', // inside a longer string
    'unavailable_value_placeholder: "$${not_a_var}"', // escaped
  ].join('\n');
  const sink = 'name: events\ntype: kafka\nbrokers: ${BROKERS}\nssl: ${DEBUG_SSL}\nclient_id: ${EMPTY}x\n';

  it('replaces references and converts only where numbers or booleans are wanted', async () => {
    const config = await loadFixture({ 'slotline.yaml': main, 'sinks/k.yaml': sink }, env);
    expect(config.source).toMatchObject({ host: 'db', port: 6543, password: '12345', create_publication: false, create_slot: false, slot: 'fallback_slot' });
    expect(config.topic_prefix).toBe('shop.v1');
    expect(config.unavailable_value_placeholder).toBe('${not_a_var}');
    expect(config.sinks[0]).toMatchObject({ brokers: ['a:9092', 'b:9092'], ssl: true, client_id: 'x' });
  });

  it('uses process.env when no env is given', async () => {
    const dir = await writeFixture({ 'slotline.yaml': MAIN.replace('topic_prefix: app', 'topic_prefix: ${SLOTLINE_TEST_PREFIX}'), 'sinks/k.yaml': KAFKA });
    process.env.SLOTLINE_TEST_PREFIX = 'from_env';
    try {
      const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES });
      expect(config.topic_prefix).toBe('from_env');
    } finally {
      delete process.env.SLOTLINE_TEST_PREFIX;
    }
  });
});

describe('the example files in config/', () => {
  it('validate: the transform examples in config/examples/', async () => {
    const dir = await writeFixture({
      'slotline.yaml': `source: { url: postgres://localhost/app }\ntopic_prefix: app\nsinks: [${path.join(REPO_CONFIG, 'examples')}]\n`,
    });
    const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: sinkConfigSchemas(), env: { KAFKA_BROKERS: 'k:9092' } });
    expect(config.sinks.map((s) => [s.name, (s.transforms ?? []).map((t) => t.type)])).toEqual([
      ['flat', ['mask', 'key', 'unwrap']],
      ['events', ['outbox']],
    ]);
  });

  it('validate as shipped (kafka only)', async () => {
    const config = await loadConfig(path.join(REPO_CONFIG, 'slotline.yaml'), {
      sinkTypes: SINK_TYPES,
      env: { DATABASE_URL: 'postgres://slotline:secret@localhost:5432/app' },
    });
    expect(config.sinks.map((s) => [s.name, s.type])).toEqual([['kafka', 'kafka']]);
    expect(config.source).toMatchObject({ host: 'localhost', database: 'app', tables: ['public.products', 'public.orders'] });
  });

  it('validate with every sample sink file switched on', async () => {
    const dir = await writeFixture({
      'slotline.yaml': `source: { url: postgres://localhost/app }\ntopic_prefix: app\nsinks: [${path.join(REPO_CONFIG, 'sinks')}]\n`,
    });
    // Every registered type: config/sinks/ has a sample file per sink type.
    const config = await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: sinkConfigSchemas(), env: { KAFKA_BROKERS: 'k:9092' } });
    expect(config.sinks.map((s) => [s.name, s.type])).toEqual(
      expect.arrayContaining([
        ['console', 'console'],
        ['kafka', 'kafka'],
        ['cache', 'redis'],
      ]),
    );
  });
});
