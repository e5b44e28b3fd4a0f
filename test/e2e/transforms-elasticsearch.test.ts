/**
 * End to end through PostgreSQL and Elasticsearch: what `unwrap` and `route`
 * change for a sink that already writes rows. Documents carry the added
 * fields; under `rewrite` a delete is a soft delete (the document stays, with
 * `__deleted: "true"`); `route` picks the index from the row (lower-cased).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';

describe('transforms through Elasticsearch', () => {
  const client = esClient(esNode());
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await client.close();
  });

  it('indexes unwrapped rows with their added fields, soft-deletes, and routes by tenant', async () => {
    const db = await freshDatabase('tr_es');
    await db.sql('CREATE TABLE public.orders (id int PRIMARY KEY, tenant text NOT NULL, total int)');
    await db.sql('ALTER TABLE public.orders REPLICA IDENTITY FULL');
    const prefix = uniqueName('tr_es');
    const config = await writeEsConfig({
      db, slot: uniqueName('tr_es'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(),
      sinkExtra: `index: "{prefix}.{schema}.{table}"
transforms:
  - type: unwrap
    delete_tombstone_handling_mode: rewrite
    add_fields: [op, source.ts_ms]
  - type: route
    topic: "{prefix}.orders.{after.tenant}"`,
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql("INSERT INTO public.orders VALUES (1, 'Acme', 10), (2, 'Acme', 20), (3, 'Globex', 30)");
    await db.sql('UPDATE public.orders SET total = 11 WHERE id = 1');
    await db.sql('DELETE FROM public.orders WHERE id = 2');
    const acme = `${prefix}.orders.acme`;
    await eventually(async () => (await readIndex(client, acme)).get('2')?.__deleted === 'true', 60_000, 'the soft delete in the routed index');

    const docs = await readIndex(client, acme);
    expect([...docs.keys()].sort()).toEqual(['1', '2']);
    expect(docs.get('1')).toMatchObject({ id: 1, tenant: 'Acme', total: 11, __deleted: 'false', __op: 'u' });
    expect(typeof docs.get('1')!.__source_ts_ms).toBe('number');
    expect(docs.get('2')).toMatchObject({ id: 2, tenant: 'Acme', total: 20, __deleted: 'true', __op: 'd' });
    expect([...(await readIndex(client, `${prefix}.orders.globex`)).keys()]).toEqual(['3']);
    // The sink's own index template was not used.
    expect(await client.indices.exists({ index: `${prefix}.public.orders` })).toBe(false);
  });
});
