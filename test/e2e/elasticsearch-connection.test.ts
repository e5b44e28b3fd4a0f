/**
 * End to end, how the Elasticsearch sink connects, from Postgres through the
 * whole pipeline:
 * - `auth: { api_key }` on a node with security on: a key the node does not
 *   know stops the start with a 401 and a hint;
 * - HTTPS with a CA made for the test: `tls: { ca }` works; no CA or a wrong
 *   one stops the start with an error that names the certificate problem and
 *   what to set;
 * - a `nodes:` list whose first node is a closed port: the rows land through
 *   the second, and the unreachable one is logged;
 * - only the failed items of a bulk are retried: a real 503 from an index
 *   whose primary shard cannot be allocated, next to a healthy index in the
 *   same bulk.
 *
 * A valid API key is not tested: creating one (POST /_security/api_key) makes
 * Elasticsearch create its `.security` index, whose mapping needs the
 * `pattern_capture` filter of the analysis-common module, which the
 * integ-test-zip the harness runs does not have (`illegal_argument_exception:
 * Unknown filter type [pattern_capture] for [email]`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startElasticsearch, type EsServer } from '../harness/elasticsearch.ts';
import { freePort } from '../harness/ports.ts';
import { makeTestCa } from '../harness/tls-certs.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess, spawnWorker, startError } from './support.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

const ADMIN = { username: 'admin', password: 'admin-password' };

describe('Elasticsearch sink connections', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  /** One private node with security and HTTPS serves the api_key and TLS cases. */
  let secured: Promise<{ es: EsServer; client: Client }> | undefined;
  const securedNode = (): Promise<{ es: EsServer; client: Client }> => {
    secured ??= (async () => {
      const es = await startElasticsearch({ users: { [ADMIN.username]: ADMIN.password }, tls: true });
      cleanup.push(() => es.close());
      const client = new Client({ node: es.node, auth: ADMIN, tls: { ca: readFileSync(es.caFile!, 'utf8') } });
      cleanup.push(() => client.close());
      return { es, client };
    })();
    return secured;
  };

  /** A config on a fresh database with table public.t; the sink file gets `sinkExtra`. */
  const configOn = async (name: string, node: string | string[], sinkExtra: string) => {
    const db = await freshDatabase(name);
    await db.sql('CREATE TABLE public.t (id int PRIMARY KEY, note text)');
    const prefix = uniqueName(name);
    const config = await writeEsConfig({
      db, slot: uniqueName(name), publication: uniqueName('pub'), topicPrefix: prefix, node, tables: ['public.t'],
      sinkExtra: `index: "{prefix}.{schema}.{table}"\n${sinkExtra}`,
    });
    return { db, index: `${prefix}.public.t`, config };
  };
  /** Starts slotline on configOn's config. */
  const runOn = async (name: string, node: string | string[], sinkExtra: string) => {
    const { config, ...rest } = await configOn(name, node, sinkExtra);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    return { ...rest, worker };
  };
  /** The error slotline stops with at start on configOn's config. */
  const failure = async (name: string, node: string | string[], sinkExtra: string) => startError((await configOn(name, node, sinkExtra)).config);

  /**
   * Publication and slot made before a child-process worker starts, so no
   * change is written before the slot exists (runInProcess waits for that itself).
   */
  const prepareSlot = async (db: FreshDatabase, tables: string[]): Promise<{ slot: string; publication: string }> => {
    const [slot, publication] = [uniqueName('es_conn'), uniqueName('pub')];
    // The configs using it set snapshot.mode no_data: the test made the slot to stream from it.
    await db.sql(`CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(', ')}`);
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    cleanup.push(() => db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]));
    return { slot, publication };
  };

  it('stops at start with a 401 and a hint when the API key is not one the node knows', async () => {
    const { es } = await securedNode();
    const key = Buffer.from('no-such-id:no-such-secret').toString('base64');
    const err = await failure('es_apikey', es.node, `auth: { api_key: ${key} }\ntls: { ca: ${JSON.stringify(es.caFile)} }`);
    expect(err?.message).toMatch(/connecting to Elasticsearch .*HTTP 401/);
    expect(err?.hint).toMatch(/check `auth` in the sink file \(api_key/);
  }, 180_000);

  it('writes over HTTPS with tls.ca, and names the certificate problem without the CA or with a wrong one', async () => {
    const { es, client } = await securedNode();
    const auth = `auth: { username: ${ADMIN.username}, password: ${ADMIN.password} }`;

    const { db, index, worker } = await runOn('es_tls', es.node, `${auth}\ntls: { ca: ${JSON.stringify(es.caFile)} }`);
    await db.sql("INSERT INTO public.t VALUES (1, 'over https'), (2, 'also')");
    await eventually(async () => (await readIndex(client, index)).size === 2, 30_000, 'two documents on the HTTPS node');
    expect((await readIndex(client, index)).get('1')).toEqual({ id: 1, note: 'over https' });
    await worker.stop();

    const noCa = await failure('es_tls_noca', es.node, auth);
    expect(noCa?.message).toMatch(/connecting to Elasticsearch https:\/\/127\.0\.0\.1:\d+: TLS certificate problem: unable to verify/);
    expect(noCa?.hint).toMatch(/set `tls: \{ ca: <PEM file/);

    const other = await makeTestCa(await testTempDir('other-ca'), 'other-ca');
    const wrongCa = await failure('es_tls_wrongca', es.node, `${auth}\ntls: { ca: ${JSON.stringify(other.certFile)}, reject_unauthorized: true }`);
    expect(wrongCa?.message).toMatch(/TLS certificate problem/);
    expect(wrongCa?.hint).toMatch(/set `tls: \{ ca: <PEM file/);

    const missing = await failure('es_tls_nofile', es.node, `${auth}\ntls: { ca: /nonexistent/ca.pem }`);
    expect(missing?.message).toMatch(/cannot read tls\.ca file \/nonexistent\/ca\.pem: ENOENT/);
  }, 180_000);

  it('fails over to the second of `nodes` when the first is a closed port, and logs the unreachable one', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const db = await freshDatabase('es_failover');
    await db.sql('CREATE TABLE public.t (id int PRIMARY KEY, note text)');
    const prefix = uniqueName('esfail');
    const config = await writeEsConfig({
      db, ...(await prepareSlot(db, ['public.t'])), mainExtra: 'snapshot: { mode: no_data }', topicPrefix: prefix, node: [closed, esNode()], tables: ['public.t'],
      sinkExtra: 'index: "{prefix}.{schema}.{table}"',
    });
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    const client = esClient(esNode());
    cleanup.push(() => client.close());
    // Several transactions, so several requests: the client tries the closed port for some of them.
    for (let i = 1; i <= 10; i++) await db.sql('INSERT INTO public.t VALUES ($1, $2)', [i, `row ${i}`]);
    await eventually(async () => (await readIndex(client, `${prefix}.public.t`)).size === 10, 60_000, 'ten documents through the second node');
    expect(worker.output()).toContain(`1 of 2 Elasticsearch nodes unreachable at start`);
    expect(worker.output()).toContain(closed);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 120_000);

  // The fault: an index whose only (primary) shard may be allocated to no node
  // (`index.routing.allocation.require._name: nowhere`). Its bulk items wait
  // `bulk_timeout_ms` and fail with 503 unavailable_shards_exception, while the
  // items of a healthy index in the same bulk succeed. This is deterministic;
  // a write queue of size 1 (429) depends on timing and concurrency.
  it('retries only the items that failed with 503, and never sends the indexed ones again', async () => {
    const es = await startElasticsearch();
    cleanup.push(() => es.close());
    const client = esClient(es.node);
    cleanup.push(() => client.close());
    const db = await freshDatabase('es_partial');
    await db.sql('CREATE TABLE public.good (id int PRIMARY KEY, note text)');
    await db.sql('CREATE TABLE public.stuck (id int PRIMARY KEY, note text)');
    const prefix = uniqueName('espart');
    const [good, stuck] = [`${prefix}.public.good`, `${prefix}.public.stuck`];
    await client.indices.create({ index: good, settings: { number_of_replicas: 0 } });
    await client.indices.create({ index: stuck, settings: { number_of_replicas: 0, 'index.routing.allocation.require._name': 'nowhere' }, wait_for_active_shards: 0 });
    const config = await writeEsConfig({
      db, ...(await prepareSlot(db, ['public.good', 'public.stuck'])),
      // A long linger keeps the transaction's 25 events in one batch even when the machine is loaded.
      lingerMs: 3000, mainExtra: 'snapshot: { mode: no_data }', topicPrefix: prefix, node: es.node, tables: ['public.good', 'public.stuck'],
      sinkExtra: 'index: "{prefix}.{schema}.{table}"\nbulk_timeout_ms: 1000',
    });
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));

    // One transaction: one write, one bulk with the items of both indices (the linger above;
    // were the runner to cut it into writes, the assertions below still hold).
    await db.sql(`WITH g AS (INSERT INTO public.good SELECT i, 'good ' || i FROM generate_series(1, 20) i)
      INSERT INTO public.stuck SELECT i, 'stuck ' || i FROM generate_series(1, 5) i`);
    const failures = () =>
      [...worker.output().matchAll(/"err":"(\d+) of (\d+) documents not indexed yet \(HTTP 503 unavailable_shards_exception[^"]*","attempt":(\d+)/g)].map(([, left, sent, attempt]) => ({
        left: Number(left), sent: Number(sent), attempt: Number(attempt),
      }));
    const withOutput = (err: Error) => {
      throw new Error(`${err.message}; the worker wrote:\n${worker.output()}`);
    };
    await eventually(() => failures().length >= 3, 60_000, 'the first 503s and two retries').catch(withOutput);
    // Only the stuck documents fail; the retries send only them, never the ones indexed.
    const seen = failures();
    expect(seen.every((f) => f.left >= 1 && f.left <= 5), worker.output()).toBe(true);
    expect(seen.filter((f) => f.attempt > 1).every((f) => f.sent === f.left), worker.output()).toBe(true);
    expect((await readIndex(client, good)).size).toBe(20);

    await client.indices.putSettings({ index: stuck, settings: { 'index.routing.allocation.require._name': null } });
    await eventually(async () => (await readIndex(client, stuck)).size === 5, 60_000, `the stuck index's documents:\n${worker.output()}`);
    expect((await readIndex(client, stuck)).get('3')).toEqual({ id: 3, note: 'stuck 3' });

    // A document sent again would show as a failed index operation (a version conflict).
    const indexing = async (index: string) => (await client.indices.stats({ index, metric: 'indexing' }))._all.primaries!.indexing!;
    expect(await indexing(good)).toMatchObject({ index_total: 20, index_failed: 0 });
    expect(await indexing(stuck)).toMatchObject({ index_total: 5, index_failed: 0 });
    expect(worker.child.exitCode, worker.output()).toBeNull();
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 180_000);
});
