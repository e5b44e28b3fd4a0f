/**
 * `slotline drill` refuses bad inputs with one line and a hint — exit 1
 * (78 for a configuration error, 2 for a usage error) — and leaves every
 * slot as it was: the production slot's and the rewind slot's
 * confirmed_flush_lsn do not move, no temporary slot is left, and nothing is
 * written to the production index. The worker has run once and is stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { releasedSlotsOf, slotsOf, writeShadowSink, type Slots } from './drill-support.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, expectOneLineAndHint, runInProcess, runSlotline } from './support.ts';

describe('slotline drill: bad inputs', () => {
  let db: FreshDatabase;
  let config: string;
  let prefix: string;
  let slots: Slots;
  let shadow: string;
  const client = esClient(esNode());
  const production = async (): Promise<number> => {
    await client.indices.refresh({ index: `${prefix}.public.items` });
    return (await client.count({ index: `${prefix}.public.items` })).count;
  };

  beforeAll(async () => {
    db = await freshDatabase('drill_bad');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text); CREATE TABLE public.loose (id int PRIMARY KEY)');
    await db.sql("INSERT INTO public.items VALUES (1, 'a'), (2, 'b')");
    prefix = uniqueName('dbad');
    config = await writeEsConfig({
      db, slot: uniqueName('drill_bad'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.items'],
      sourceExtra: 'rewind: { retain: 1h }',
      mainExtra: 'snapshot: { mode: initial }',
      sinkExtra: 'index: "{prefix}.{schema}.{table}"',
    });
    const worker = await runInProcess(config);
    await eventually(async () => (await client.exists({ index: `${prefix}.public.items`, id: '2' }).catch(() => false)) === true, 60_000, 'the documents');
    await worker.stop();
    shadow = await writeShadowSink(config, 'shadow.yaml', `name: shadow\ntype: elasticsearch\nnode: ${JSON.stringify(esNode())}\nindex: "shadow.{prefix}.{schema}.{table}"\n`);
    slots = await releasedSlotsOf(db);
    expect(Object.keys(slots)).toHaveLength(2); // the production slot and its rewind slot
  }, 120_000);
  afterAll(async () => {
    await client.close();
  });

  it.each([
    { name: 'an unknown sink', args: () => ['--sink', 'nope'], line: /^slotline drill: sink file "nope" does not exist$/, hint: /give the path of a sink file .* or the name of a sink of .*slotline\.yaml: search$/ },
    {
      name: 'a production sink file', args: () => ['--sink', config.replace(/slotline\.yaml$/, 'sinks/search.yaml')],
      line: /^slotline drill: sink file \S+search\.yaml is production: \S+slotline\.yaml lists it \(sink "search"\)$/, hint: /a drill never writes into a production sink/,
    },
    { name: 'a production sink by name', args: () => ['--sink', 'search'], line: /is production: \S+slotline\.yaml lists it \(sink "search"\)$/, hint: /a drill never writes into a production sink/ },
    {
      name: 'a table outside the publication', args: () => ['--sink', shadow, '--tables', 'public.loose'],
      line: /^slotline drill: table public\.loose is not in publication "pub_\w+", so the slot never carried its changes$/, hint: /check --tables/,
    },
    {
      name: 'an unreachable sink',
      args: async () => ['--sink', await writeShadowSink(config, 'down.yaml', `name: down\ntype: elasticsearch\nnode: http://127.0.0.1:${await freePort()}\n`)],
      line: /^slotline drill: .*connecting to Elasticsearch http:\/\/127\.0\.0\.1:\d+: /i,
      hint: /check that `node`\/`nodes` in the sink file name a running Elasticsearch/,
    },
    { name: 'a --from that is not an LSN, a time or rewind', args: () => ['--sink', shadow, '--from', 'yesterday'], line: /^slotline drill: --from "yesterday" is not an LSN, an ISO time or "rewind"$/, hint: /an LSN looks like 0\/16B3748/, code: 2 },
    { name: 'a --from LSN in the future', args: () => ['--sink', shadow, '--from', 'FF/0'], line: /^slotline drill: --from FF\/0 is in the future: the server's WAL is at [0-9A-F]+\/[0-9A-F]+$/, hint: /give an LSN the server has written/ },
    { name: 'a --from time in the future', args: () => ['--sink', shadow, '--from', '2999-01-01T00:00:00Z'], line: /^slotline drill: --from 2999-01-01T00:00:00Z is in the future: the server's time is \d{4}-/, hint: /give a time in the past/ },
    { name: 'a table that does not exist', args: () => ['--sink', shadow, '--tables', 'public.nope'], line: /^slotline drill: table public\.nope does not exist in database "drill_bad_\w+"$/, hint: /check the name in --tables/ },
    {
      name: 'an unreachable Redis shadow sink',
      args: async () => ['--sink', await writeShadowSink(config, 'down-redis.yaml', `name: down-redis\ntype: redis\nurl: redis://127.0.0.1:${await freePort()}\nrules:\n  - tables: ["public.items"]\n    refresh: { key: "shadow:item:{id}" }\n`)],
      line: /^slotline drill: sink "down-redis" \(redis\) cannot be reached at start: connecting to Redis redis:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/,
      hint: /check that redis is running .* so run the drill again once it is reachable$/,
    },
    {
      name: 'an unreachable Kafka shadow sink',
      args: async () => ['--sink', await writeShadowSink(config, 'down-kafka.yaml', `name: down-kafka\ntype: kafka\nbrokers: 127.0.0.1:${await freePort()}\ntopic: "shadow.{prefix}.{schema}.{table}"\n`)],
      line: /^slotline drill: sink "down-kafka" \(kafka\) cannot be reached at start: connecting to Kafka 127\.0\.0\.1:\d+: /,
      hint: /check that kafka is running .* so run the drill again once it is reachable$/,
    },
    { name: 'a --from older than the rewind slot holds', args: () => ['--sink', shadow, '--from', '0/10'], line: /^slotline drill: --from 0\/10 is older than the rewind slot holds: it can go back to [0-9A-F]+\/[0-9A-F]+$/, hint: /use --from rewind/ },
    {
      name: 'a sink verify cannot read back',
      args: async () => ['--sink', await writeShadowSink(config, 'print.yaml', 'name: print\ntype: console\n')],
      line: /^slotline drill: sink "print" is of type console, which verify cannot read back, so a drill cannot prove it$/, hint: /drill into an elasticsearch, redis or kafka shadow sink/,
    },
    {
      name: 'a sink file with a config error',
      args: async () => ['--sink', await writeShadowSink(config, 'broken.yaml', 'name: broken\ntype: elasticsearch\nnode: 127.0.0.1:9200\n')],
      line: /broken\.yaml:3:7 node: invalid node "127\.0\.0\.1:9200": expected an http:\/\/ or https:\/\/ URL$/,
      hint: /fix the configuration at the positions above/,
      code: 78,
    },
  ])('$name: exits 1 (78 for a config error, 2 for an option value that cannot be read), one line and a hint, every slot as it was', async ({ args, line, hint, code = 1 }) => {
    expectOneLineAndHint(await runSlotline(['drill', '--config', config, ...(await args())]), code, line, hint);
    expect(await slotsOf(db)).toEqual(slots);
    expect(await production()).toBe(2);
  });

  it('a usage error (no --sink) exits 2 with the usage', async () => {
    const result = await runSlotline(['drill', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^slotline drill: missing --sink <shadow sink file>\n\nUsage: slotline drill --config <file> --sink <shadow sink file>/);
  });
});
