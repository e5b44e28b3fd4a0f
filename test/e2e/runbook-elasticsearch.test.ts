/**
 * docs/runbook.md, drill (a): an Elasticsearch index deleted. The production
 * sink writes through the alias `orders`; its index is deleted while the
 * worker runs. As the page says: stop the worker, rebuild into a new index
 * with `slotline drill` (the command and the shadow sink file read from the
 * page, runbook-support.ts), point the alias at it (the page's curl, done
 * with the client), start the worker, and verify the production sink: no
 * drift, the changes made while the worker was stopped included.
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { slotsOf } from './drill-support.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { runbookDrill, runRunbookCommand, writeRunbookFiles } from './runbook-support.ts';
import { eventually, runInProcess } from './support.ts';

const ROWS = 500;

describe('runbook drill (a): an Elasticsearch index deleted', () => {
  let db: FreshDatabase;
  let dir: string;
  let slot: string;
  const client = esClient(esNode());
  const count = async (index: string): Promise<number> => {
    await client.indices.refresh({ index });
    return (await client.count({ index })).count;
  };

  beforeAll(async () => {
    db = await freshDatabase('runbook_es');
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, customer text, total int)');
    await db.sql(`INSERT INTO public.orders SELECT i, 'customer ' || i, i FROM generate_series(1, ${ROWS}) i`);
    await client.indices.create({ index: 'orders-v1', aliases: { orders: {} } });
    slot = uniqueName('runbook_es');
    const config = await writeEsConfig({
      db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('rba'), node: esNode(), tables: ['public.orders'],
      sourceExtra: 'rewind: { retain: 1h }',
      mainExtra: 'snapshot: { mode: initial }',
      sinkExtra: 'index: orders',
    });
    dir = dirname(config);
  }, 60_000);
  afterAll(() => client.close());

  it('rebuilds into a new index, the alias moved to it, and the production sink verifies with no drift', async () => {
    let worker = await runInProcess(join(dir, 'slotline.yaml'));
    await eventually(async () => (await count('orders')) === ROWS, 60_000, 'the initial snapshot through the alias');
    await client.indices.delete({ index: 'orders-v1' });
    // Step 1: stop the worker; the application goes on writing.
    await worker.stop();
    await db.sql('UPDATE public.orders SET total = total + 1 WHERE id <= 30; DELETE FROM public.orders WHERE id BETWEEN 41 AND 45');
    await db.sql(`INSERT INTO public.orders SELECT i, 'new', 0 FROM generate_series(${ROWS + 1}, ${ROWS + 10}) i`);
    const before = await slotsOf(db);

    const drill = await runbookDrill('a');
    expect(drill.commands.map((c) => c[1])).toEqual(['drill', 'verify']);
    await writeRunbookFiles(drill, dir, { 'http://elasticsearch:9200': esNode() });
    const rebuilt = await runRunbookCommand(drill, 0, dir);
    expect(rebuilt.code, rebuilt.stdout + rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^drill into sink "search-drill" \(elasticsearch, .*search-drill\.yaml\): rebuilt from nothing up to the live position [0-9A-F]+\/[0-9A-F]+ in [\d.]+ s$/m);
    expect(rebuilt.stdout).toMatch(new RegExp(`^drill passed in [\\d.]+ s: the rebuilt sink matches the tables \\(${ROWS + 5} rows, no drift\\); exit 0$`, 'm'));
    expect(await slotsOf(db)).toEqual(before);

    // Step 4, the page's curl: the alias onto the rebuilt index.
    await client.indices.updateAliases({ actions: [{ add: { index: 'orders-rebuilt-1', alias: 'orders' } }] });
    worker = await runInProcess(join(dir, 'slotline.yaml'));
    try {
      await db.sql("UPDATE public.orders SET customer = 'after the swap' WHERE id = 1");
      await eventually(async () => (await client.search({ index: 'orders', query: { term: { 'customer.keyword': 'after the swap' } } })).hits.hits.length === 1, 60_000, 'a change after the swap through the alias');
      const proved = await runRunbookCommand(drill, 1, dir);
      expect(proved.code, proved.stdout + proved.stderr).toBe(0);
      expect(proved.stdout).toMatch(new RegExp(`^no drift: ${ROWS + 5} rows in`, 'm'));
      // Nothing created a concrete index under the alias's name.
      expect(Object.keys(await client.indices.get({ index: 'orders' }))).toEqual(['orders-rebuilt-1']);
    } finally {
      await worker.stop();
    }
  }, 240_000);
});
