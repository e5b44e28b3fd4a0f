/**
 * `slotline verify` refuses bad inputs with one line and a hint (exit 1; a
 * configuration error no restart fixes exits 78, EX_CONFIG; a usage error
 * exits 2), and never moves the production slot: its
 * confirmed_flush_lsn is the same before and after every attempt. The worker
 * has run once (slot, publication, documents) and is stopped.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, expectOneLineAndHint, runInProcess, runSlotline } from './support.ts';
import { confirmedLsn } from './verify-support.ts';

describe('slotline verify: bad inputs', () => {
  let db: FreshDatabase;
  let config: string;
  let slot: string;
  let confirmed: string | null;
  const client = esClient(esNode());

  beforeAll(async () => {
    db = await freshDatabase('verify_bad');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text); CREATE TABLE public.other (id int PRIMARY KEY); CREATE TABLE public.loose (id int PRIMARY KEY)');
    await db.sql("INSERT INTO public.items VALUES (1, 'a'), (2, 'b')");
    slot = uniqueName('verify_bad');
    const publication = uniqueName('pub');
    const prefix = uniqueName('vbad');
    config = await writeEsConfig({
      db, slot, publication, topicPrefix: prefix, node: esNode(), tables: ['public.items', 'public.other'],
      mainExtra: 'snapshot: { mode: initial }',
      sinkExtra: `index: "{prefix}.{schema}.{table}"\ntables: ["public.items"]`,
    });
    const worker = await runInProcess(config);
    const index = `${prefix}.public.items`;
    await eventually(async () => (await client.exists({ index, id: '1' }).catch(() => false)) && (await client.exists({ index, id: '2' }).catch(() => false)), 60_000, 'the documents');
    await worker.stop();
    // The publication carries a table slotline does not capture (not in source.tables).
    await db.sql(`ALTER PUBLICATION ${publication} ADD TABLE public.loose`);
    confirmed = await confirmedLsn(db, slot);
    expect(confirmed).not.toBeNull();
  });
  afterAll(async () => {
    await client.close();
  });

  const shadowSink = async (name: string, text: string): Promise<string> => {
    const file = join(dirname(config), `${name}.yaml`);
    await writeFile(file, text);
    return file;
  };

  it.each([
    { name: 'an unknown sink', args: () => ['--sink', 'nope'], line: /^slotline verify: no sink named "nope" in .*slotline\.yaml, and no such sink file$/, hint: /give a sink name \(search\) or the path of a sink file/ },
    { name: 'a table outside the publication', args: () => ['--sink', 'search', '--tables', 'public.missing'], line: /table public\.missing is not in publication "pub_\w+", so slotline does not capture it$/, hint: /verify only tables slotline captures/ },
    { name: 'a published table outside source.tables', args: () => ['--sink', 'search', '--tables', 'public.loose'], line: /table public\.loose is not in source\.tables, so slotline does not capture it$/, hint: /add it to source\.tables in/ },
    { name: 'a table the sink does not route', args: () => ['--sink', 'search', '--tables', 'public.other'], line: /sink "search" does not route table public\.other$/, hint: /its tables and exclude_tables in .*search\.yaml leave it out/ },
    { name: 'a bad table name', args: () => ['--sink', 'search', '--tables', 'items'], line: /^slotline verify: --tables: "items" is not a schema-qualified table name$/, hint: /write tables as schema\.table/, code: 2 },
    { name: 'a bad --wait', args: () => ['--sink', 'search', '--wait', 'soon'], line: /^slotline verify: --wait "soon" is not a duration$/, hint: /e\.g\. --wait 30s/, code: 2 },
    {
      name: 'an unreachable sink',
      args: async () => ['--sink', await shadowSink('down', `name: down\ntype: elasticsearch\nnode: http://127.0.0.1:${await freePort()}\n`)],
      line: /connecting to Elasticsearch http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED|connecting to Elasticsearch http:\/\/127\.0\.0\.1:\d+: .*(connect|refused)/i,
      hint: /check that `node`\/`nodes` in the sink file name a running Elasticsearch/,
    },
    {
      name: 'an unreachable Redis sink',
      args: async () => ['--sink', await shadowSink('redis-down', `name: cache\ntype: redis\nurl: redis://127.0.0.1:${await freePort()}\nrules:\n  - tables: ["public.items"]\n    refresh: { key: "item:{id}" }\n`)],
      line: /^slotline verify: sink "cache" \(redis\) cannot be reached: connecting to Redis redis:\/\/127\.0\.0\.1:\d+\/?: .*ECONNREFUSED/,
      hint: /check that redis is running and that the address in .*redis-down\.yaml is right/,
    },
    {
      name: 'an unreachable Kafka sink',
      args: async () => ['--sink', await shadowSink('kafka-down', `name: stream\ntype: kafka\nbrokers: [127.0.0.1:${await freePort()}]\nrequest_timeout_ms: 2000\n`)],
      line: /^slotline verify: sink "stream" \(kafka\) cannot be reached: connecting to Kafka 127\.0\.0\.1:\d+: /,
      hint: /check that kafka is running and that the address in .*kafka-down\.yaml is right/,
    },
    {
      name: 'a sink type verify cannot read back',
      args: async () => ['--sink', await shadowSink('console', 'name: print\ntype: console\n')],
      line: /sink "print" is of type console, which verify cannot read back$/,
      hint: /verify reconciles elasticsearch, redis and kafka sinks/,
    },
    {
      name: 'a sink file with a config error',
      args: async () => ['--sink', await shadowSink('broken', 'name: broken\ntype: elasticsearch\nnode: 127.0.0.1:9200\n')],
      line: /broken\.yaml:3:7 node: invalid node "127\.0\.0\.1:9200": expected an http:\/\/ or https:\/\/ URL$/,
      hint: /fix the configuration at the positions above/,
      code: 78,
    },
  ])('$name: exits 1 (78 for a config error, 2 for an option value that cannot be read), one line and a hint, the slot untouched', async ({ args, line, hint, code = 1 }) => {
    expectOneLineAndHint(await runSlotline(['verify', '--config', config, ...(await args())]), code, line, hint);
    expect(await confirmedLsn(db, slot)).toBe(confirmed);
  });

  it('a usage error (no --sink) exits 2 with the usage', async () => {
    const result = await runSlotline(['verify', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^slotline verify: missing --sink <name or sink file>\n\nUsage: slotline verify --config <file> --sink/);
  });

  it('a stopped worker: the report says the sink may be behind, finds no drift in the unchanged rows, and the slot stays', async () => {
    // WAL written since the worker stopped (the ALTER PUBLICATION) is past its confirmed position.
    const result = await runSlotline(['verify', '--config', config, '--sink', 'search', '--wait', '2s']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/sink position: slot "verify_bad_\w+" confirmed position: NOT caught up: slot "verify_bad_\w+" had confirmed [0-9A-F]+\/[0-9A-F]+, not [0-9A-F]+\/[0-9A-F]+ after 2 s/);
    expect(result.stdout).toMatch(/^no drift: 2 rows/m);
    expect(await confirmedLsn(db, slot)).toBe(confirmed);
  });
});
