/**
 * End to end, what the Elasticsearch sink does with what it cannot index, and
 * how it reports configuration a person must fix:
 * - what a dead-letter entry holds: the envelope, the error and the LSN
 *   (that the record is dead-lettered and the stream goes on, and
 *   on_record_error: fail, are in the conformance suite, test/conformance/,
 *   as are wrong credentials);
 * - a bad index template and an unreachable node give one clear error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, readConfig, runInProcess } from './support.ts';

describe('Elasticsearch sink errors', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  const client = esClient(esNode());
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await client.close();
  });

  /** A table whose `qty` is text, indexed into an index that maps qty as integer. */
  const prepare = async (name: string): Promise<{ db: FreshDatabase; prefix: string; index: string }> => {
    const db = await freshDatabase(name);
    await db.sql('CREATE TABLE public.stock (id int PRIMARY KEY, qty text)');
    const prefix = uniqueName(name);
    const index = `${prefix}.public.stock`;
    await client.indices.create({ index, mappings: { properties: { qty: { type: 'integer' } } } });
    return { db, prefix, index };
  };

  it('dead-letters the one document the mapping rejects, with envelope, error and LSN, and indexes the rest', async () => {
    const { db, prefix, index } = await prepare('es_dlq');
    const dlq = `${prefix}-dlq`;
    const config = await writeEsConfig({
      db, slot: uniqueName('es_dlq'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), tables: ['public.stock'],
      sinkExtra: `index: "{prefix}.{schema}.{table}"\non_record_error: dead_letter\ndead_letter_index: ${dlq}`,
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await db.sql("INSERT INTO public.stock VALUES (1, '5'), (2, 'lots'), (3, '7')");
    const [{ lsn }] = await db.sql('SELECT pg_current_wal_lsn()::text AS lsn');
    await db.sql("INSERT INTO public.stock VALUES (4, '8')");
    // Within one write, the dead-letter entry is written after the bulk that indexed the others.
    await eventually(async () => (await readIndex(client, index)).size === 3 && (await readIndex(client, dlq)).size === 1, 30_000, 'documents 1, 3, 4 and the dead letter');
    expect([...(await readIndex(client, index)).keys()].sort()).toEqual(['1', '3', '4']);

    const dead = [...(await readIndex(client, dlq)).values()];
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ sink: 'search', index, id: '2', op: 'c', table: 'public.stock' });
    expect(String(dead[0].error)).toMatch(/HTTP 400 .*(document_parsing_exception|mapper_parsing_exception)/);
    expect(JSON.parse(String(dead[0].envelope)).after).toEqual({ id: 2, qty: 'lots' });
    // The LSN is the insert's: before the WAL position read after the first transaction.
    expect(parseLsn(String(dead[0].lsn))).toBeLessThan(parseLsn(lsn));
  });

  it('refuses a bad index template when the config is read', async () => {
    const db = await freshDatabase('es_badcfg');
    const base = { db, slot: uniqueName('s'), publication: uniqueName('p'), topicPrefix: 'x', node: esNode() };
    await expect(readConfig(await writeEsConfig({ ...base, sinkExtra: 'index: "{schema}/{table}"' }))).rejects.toThrow(/character "\/" is not allowed in an index name/);
    await expect(readConfig(await writeEsConfig({ ...base, sinkExtra: 'index: "{db}.{table}"' }))).rejects.toThrow(/unknown placeholder "\{db\}"/);
    await expect(readConfig(await writeEsConfig({ ...base, sinkExtra: 'index: "_{table}"' }))).rejects.toThrow(/must not start with/);
  });

  it('fails at start with a clear error when the node is unreachable', async () => {
    const db = await freshDatabase('es_down');
    await db.sql('CREATE TABLE public.t (id int PRIMARY KEY)');
    const config = await writeEsConfig({ db, slot: uniqueName('s'), publication: uniqueName('p'), topicPrefix: 'x', node: 'http://127.0.0.1:1', tables: ['public.t'] });
    await expect(runInProcess(config)).rejects.toThrow(/connecting to Elasticsearch http:\/\/127\.0\.0\.1:1/);
  });
});
