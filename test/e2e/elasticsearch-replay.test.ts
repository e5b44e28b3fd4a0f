/**
 * Replay safety, end to end: the same changes delivered twice — as after a crash
 * that lost the confirmed position — never move a document back in time.
 *
 * Two slots are created before any change. A first slotline run on slot A brings
 * the index to the table's state; a second run on slot B (same index) replays
 * every change from the start. Each replayed write carries an older LSN version
 * than the stored document, Elasticsearch answers 409, the sink counts that as
 * applied, and the index and its versions stay exactly as they were.
 *
 * The TOAST case: updates that leave a TOASTed column unchanged arrive without
 * its value. The sink fills it from the stored document (_mget) and indexes the
 * merged document with the update's version; on replay, the fetched document is
 * the newer one, but the index is refused (409), so nothing regresses.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, readVersions, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess } from './support.ts';

const SETUP = `
CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL, label text);
CREATE TABLE public.docs (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL);
ALTER TABLE public.docs ALTER COLUMN body SET STORAGE EXTERNAL;
`;

/** Incompressible text well past the TOAST threshold (~2 kB), stored out of line. */
const bigText = (): string => randomBytes(6000).toString('base64');

describe('Elasticsearch replay safety', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  const client = esClient(esNode());
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await client.close();
  });

  it('a full replay of inserts, updates, deletes and TOAST updates leaves every document and version as it was', async () => {
    const db = await freshDatabase('es_replay');
    await db.sql(SETUP);
    const [publication, slotA, slotB, prefix] = [uniqueName('pub'), uniqueName('es_a'), uniqueName('es_b'), uniqueName('esreplay')];
    await db.sql(`CREATE PUBLICATION ${publication} FOR TABLE public.items, public.docs`);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slotA]);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slotB]);
    cleanup.push(() => db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ANY($1) AND NOT active', [[slotA, slotB]]));
    const config = (slot: string) => writeEsConfig({ db, slot, publication, topicPrefix: prefix, mainExtra: 'snapshot: { mode: no_data } # the test made the slot', node: esNode(), batchMaxEvents: 1, tables: ['public.items', 'public.docs'], sinkExtra: 'index: "{prefix}.{schema}.{table}"' });
    const items = `${prefix}.public.items`;
    const docs = `${prefix}.public.docs`;
    const [bodyA, bodyB] = [bigText(), bigText()];

    const first = await runInProcess(await config(slotA));
    cleanup.push(() => first.stop());
    await db.sql("INSERT INTO public.items SELECT g, 0, 'x' || g FROM generate_series(1, 20) g");
    await db.sql('UPDATE public.items SET n = n + 1 WHERE id <= 10');
    await db.sql('UPDATE public.items SET n = n + 1 WHERE id <= 5');
    await db.sql('DELETE FROM public.items WHERE id > 15');
    await db.sql("INSERT INTO public.docs VALUES (1, 't1', $1), (2, 'u1', $1)", [bodyA]);
    await db.sql("UPDATE public.docs SET title = 't2' WHERE id = 1");
    // The unchanged body survived the update that did not carry it.
    await eventually(async () => (await readIndex(client, docs)).get('1')?.title === 't2', 30_000, 'the first TOAST update');
    expect((await readIndex(client, docs)).get('1')).toEqual({ id: 1, title: 't2', body: bodyA });
    await db.sql('UPDATE public.docs SET body = $1 WHERE id = 1', [bodyB]);
    await db.sql("UPDATE public.docs SET title = 't3' WHERE id = 1");
    await db.sql("UPDATE public.docs SET title = 'u2' WHERE id = 2");
    await eventually(async () => (await readIndex(client, docs)).get('2')?.title === 'u2', 30_000, 'all changes');
    await first.stop();

    const expectedItems = new Map((await db.sql('SELECT id, n, label FROM public.items ORDER BY id')).map((r) => [String(r.id), { id: r.id, n: r.n, label: r.label }]));
    const expectedDocs = new Map([['1', { id: 1, title: 't3', body: bodyB }], ['2', { id: 2, title: 'u2', body: bodyA }]]);
    expect(await readIndex(client, items)).toEqual(expectedItems);
    expect(await readIndex(client, docs)).toEqual(expectedDocs);
    const versionsBefore = [await readVersions(client, items), await readVersions(client, docs)];

    // Replay everything from the start on slot B: every write is older than the stored document.
    const end = (await db.sql('SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn;
    const second = await runInProcess(await config(slotB));
    cleanup.push(() => second.stop());
    await eventually(async () => {
      const [row] = await db.sql('SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1', [slotB, end]);
      return row.done === true;
    }, 60_000, 'the replay to be confirmed');
    await second.stop();
    await expect(second.running).resolves.toBeUndefined();

    expect(await readIndex(client, items)).toEqual(expectedItems);
    expect(await readIndex(client, docs)).toEqual(expectedDocs);
    expect([await readVersions(client, items), await readVersions(client, docs)]).toEqual(versionsBefore);
  });
});
