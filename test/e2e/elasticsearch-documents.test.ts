/**
 * End to end, PostgreSQL → slotline → Elasticsearch: inserts, updates and
 * deletes of every type family land as the documents Elasticsearch users expect
 * (connectors/elasticsearch/elasticsearch-documents.ts), with the change's LSN
 * as the document's version, default and templated ids, and column selection
 * and metadata fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, readIndex, readVersions, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';

const SETUP = `
CREATE TABLE public.products (
  id int PRIMARY KEY,
  small smallint, big bigint, huge bigint, real_v real, dbl double precision, flag boolean,
  name text, price numeric(10,2), vnum numeric, ts timestamp(6), tstz timestamptz, d date, t time,
  js jsonb, jtext json, tags text[], nums int[], raw bytea, uid uuid, secret text
);
CREATE TABLE public.lines (order_id int, line int, qty int, PRIMARY KEY (order_id, line));
`;

const FULL_ROW = `INSERT INTO public.products VALUES (
  1, -3, 9007199254740991, 9223372036854775807, 1.5, 2.25, true,
  'Widget', 12.34, 3.14159, '2024-05-01 10:00:00.123456', '2024-05-01 10:00:00+02', '2024-05-01', '13:45:30.5',
  '{"a": 1, "b": [1, 2], "c": {"d": null}}', '{"x": "y"}', '{a,b}', '{1,2,3}', '\\x0102ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'hidden')`;

const EXPECTED_1 = {
  id: 1, small: -3, big: 9007199254740991, huge: '9223372036854775807', real_v: 1.5, dbl: 2.25, flag: true,
  name: 'Widget', price: '12.34', vnum: '3.14159', ts: '2024-05-01T10:00:00.123456Z', tstz: '2024-05-01T08:00:00.000000Z', d: '2024-05-01', t: '13:45:30.500000',
  js: { a: 1, b: [1, 2], c: { d: null } }, jtext: { x: 'y' }, tags: ['a', 'b'], nums: [1, 2, 3], raw: 'AQL/', uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
};

describe('Elasticsearch documents of every type family', () => {
  let db: FreshDatabase;
  let prefix: string;
  const stops: Array<() => Promise<unknown>> = [];
  const client = esClient(esNode());

  beforeAll(async () => {
    db = await freshDatabase('es_docs');
    await db.sql(SETUP);
    prefix = uniqueName('esdocs');
    const config = await writeEsConfig({
      db, slot: uniqueName('es_docs'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(),
      sinkExtra: `index: "{prefix}.{schema}.{table}"\nexclude_columns: [secret]\nmetadata: { enabled: true, prefix: meta }`,
    });
    const worker = await runInProcess(config);
    stops.push(() => worker.stop());
  });
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await client.close();
  });

  it('indexes inserts as typed JSON, applies updates and deletes, and versions each document by LSN', async () => {
    const index = `${prefix}.public.products`;
    await db.sql(FULL_ROW);
    await db.sql("INSERT INTO public.products (id, name) VALUES (2, 'Gadget'), (3, 'Doomed')");
    await eventually(async () => (await readIndex(client, index)).size === 3, 30_000, '3 documents');
    const firstVersions = await readVersions(client, index);

    await db.sql("UPDATE public.products SET name = 'Gizmo', price = -0.5, tags = '{}' WHERE id = 2");
    await db.sql('DELETE FROM public.products WHERE id = 3');
    await eventually(async () => {
      const docs = await readIndex(client, index);
      return docs.size === 2 && docs.get('2')?.name === 'Gizmo';
    }, 30_000, 'the update and the delete');

    const docs = await readIndex(client, index);
    const { meta_op, meta_lsn, meta_source_ts_ms, meta_txid, ...first } = docs.get('1')!;
    expect(first).toEqual(EXPECTED_1);
    expect(meta_op).toBe('c');
    expect(typeof meta_lsn).toBe('number');
    expect(typeof meta_txid).toBe('number');
    expect(Math.abs(Number(meta_source_ts_ms) - Date.now())).toBeLessThan(120_000);
    expect(docs.get('2')).toMatchObject({ id: 2, name: 'Gizmo', price: '-0.50', tags: [], big: null, meta_op: 'u' });
    expect(docs.has('3')).toBe(false);
    expect(first).not.toHaveProperty('secret');

    // The version is the change's LSN: the update's is later than the insert's, and equals meta_lsn.
    const versions = await readVersions(client, index);
    expect(versions.get('1')).toBe(meta_lsn);
    expect(versions.get('2')!).toBeGreaterThan(firstVersions.get('2')!);
  });

  it('gives a composite primary key a JSON-array id, and moves a document when its key changes', async () => {
    const index = `${prefix}.public.lines`;
    await db.sql('INSERT INTO public.lines VALUES (7, 1, 10), (7, 2, 20)');
    await db.sql('UPDATE public.lines SET line = 3 WHERE order_id = 7 AND line = 2');
    await eventually(async () => (await readIndex(client, index)).has('[7,3]'), 30_000, 'the moved line');
    const docs = await readIndex(client, index);
    expect(Object.fromEntries(docs)).toEqual({ '[7,1]': expect.objectContaining({ order_id: 7, line: 1, qty: 10 }), '[7,3]': expect.objectContaining({ order_id: 7, line: 3, qty: 20 }) });
  });
});
