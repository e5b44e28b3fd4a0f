/**
 * End to end: index creation from the column types (create_index: true), and
 * the TRUNCATE policies (ignore keeps the documents; recreate_index deletes the
 * index and creates it again).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';

describe('Elasticsearch index creation and TRUNCATE', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  const client = esClient(esNode());
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await client.close();
  });

  it.each(['ignore', 'recreate_index'] as const)('creates the index with a derived mapping; truncate: %s', async (policy) => {
    const db = await freshDatabase('es_index');
    await db.sql('CREATE TABLE public.t (id bigint PRIMARY KEY, name text, price numeric(8,2), at timestamptz, d date, data jsonb, ok boolean)');
    const prefix = uniqueName('esidx');
    const index = `${prefix}.public.t`;
    const config = await writeEsConfig({
      db, slot: uniqueName('es_idx'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.t'],
      // Truncates reach sinks only when not skipped (Debezium's default skips them).
      mainExtra: 'skipped_operations: none',
      sinkExtra: `index: "{prefix}.{schema}.{table}"\ncreate_index: true\nindex_settings: { number_of_replicas: 0 }\ntruncate: ${policy}`,
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql(`INSERT INTO public.t VALUES (1, 'a', 1.50, '2024-05-01 10:00:00+00', '2024-05-01', '{"k": 1}', true), (2, 'b', null, null, null, null, false)`);
    await eventually(async () => (await readIndex(client, index)).size === 2, 30_000, 'two documents');

    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index].mappings.properties).toMatchObject({
      id: { type: 'long' }, name: { type: 'text' }, price: { type: 'keyword' }, at: { type: 'date' }, d: { type: 'date', format: 'strict_date' }, ok: { type: 'boolean' },
    });
    const settings = await client.indices.getSettings({ index });
    expect(settings[index].settings?.index?.number_of_replicas).toBe('0');

    await db.sql('TRUNCATE public.t');
    await db.sql("INSERT INTO public.t (id, name) VALUES (3, 'c')");
    // With recreate_index, the index may vanish between readIndex's exists and its search.
    await eventually(async () => (await readIndex(client, index).catch(() => new Map())).has('3'), 30_000, 'the insert after the truncate');
    const ids = [...(await readIndex(client, index)).keys()].sort();
    expect(ids).toEqual(policy === 'ignore' ? ['1', '2', '3'] : ['3']);
    // Recreated with the derived mapping again.
    expect((await client.indices.getMapping({ index }))[index].mappings.properties?.price).toEqual({ type: 'keyword' });
  });
});
