/**
 * End to end through PostgreSQL and Elasticsearch: a masked value reaches
 * neither the index, nor the dead-letter index, nor the worker's log — even
 * when the masked column is what made Elasticsearch reject the document (its
 * error quotes the value it could not parse).
 *
 * `people.ssn` is text; the index maps it as an integer, so every non-null ssn
 * (hashed) is rejected and dead-lettered. The worker runs as a child process at debug
 * level so that everything it logs is read.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { esNode, freshDatabase, uniqueName } from '../harness/context.ts';
import { esClient, readIndex, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, spawnWorker, type WorkerProcess } from './support.ts';

const SSN = '123-45-6789';
const EMAIL = 'dora@example.com';
const SSN_HASH = createHash('sha256').update(`pepper${SSN}`).digest('hex');

describe('mask through Elasticsearch', () => {
  const client = esClient(esNode());
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await client.close();
  });

  it('keeps masked values out of documents, dead letters and logs', async () => {
    const db = await freshDatabase('tr_mask');
    await db.sql('CREATE TABLE public.people (id int PRIMARY KEY, ssn text, email text, name text)');
    const prefix = uniqueName('tr_mask');
    const index = `${prefix}.public.people`;
    const dlq = `${prefix}-dlq`;
    await client.indices.create({ index, mappings: { properties: { ssn: { type: 'integer' } } } });
    const config = await writeEsConfig({
      db, slot: uniqueName('tr_mask'), publication: uniqueName('pub'), topicPrefix: prefix, node: esNode(), logLevel: 'debug',
      sinkExtra: `index: "{prefix}.{schema}.{table}"
on_record_error: dead_letter
dead_letter_index: ${dlq}
transforms:
  - type: mask
    rules:
      - columns: ['public.people.ssn']
        hash: { algorithm: SHA-256, salt: pepper, version: 2 }
      - columns: ['*.*.email']
        mask_with_chars: 4`,
    });
    // Read by the initial snapshot (op r), then changed while streaming (op u): both paths are masked.
    await db.sql(`INSERT INTO public.people VALUES (1, NULL, '${EMAIL}', 'dora'), (2, '${SSN}', '${EMAIL}', 'eve')`);
    worker = spawnWorker(config);
    await eventually(async () => (await readIndex(client, index)).has('1'), 60_000, 'document 1 from the snapshot');
    await db.sql(`UPDATE public.people SET name = name || '!'`);
    await eventually(async () => (await readIndex(client, index)).get('1')?.name === 'dora!' && (await readIndex(client, dlq)).size === 2, 60_000, 'document 1 updated and both versions of 2 dead-lettered');

    const docs = await readIndex(client, index);
    expect([...docs.keys()]).toEqual(['1']);
    // A NULL stays NULL under a hash (and would become the mask under mask_with_chars, as in Debezium).
    expect(docs.get('1')).toMatchObject({ id: 1, ssn: null, email: '****', name: 'dora!' });

    const dead = [...(await readIndex(client, dlq)).values()].sort((a, b) => String(a.op).localeCompare(String(b.op)));
    expect(dead.map((d) => [d.id, d.op])).toEqual([['2', 'r'], ['2', 'u']]);
    for (const d of dead) {
      // Elasticsearch's error quotes the value it could not parse: the hash, never the ssn.
      expect(String(d.error)).toContain(SSN_HASH);
      expect(JSON.parse(String(d.envelope)).after).toMatchObject({ id: 2, ssn: SSN_HASH, email: '****' });
      expect(JSON.stringify(d)).not.toContain(SSN);
      expect(JSON.stringify(d)).not.toContain(EMAIL);
    }

    worker.child.kill('SIGTERM');
    await worker.exited;
    const log = worker.output();
    expect(log).toMatch(/dead-lettered/);
    expect(log).not.toContain(SSN);
    expect(log).not.toContain(EMAIL);
  });
});
