/**
 * Elasticsearch in the conformance suite: a private node with security on (it
 * is stopped for the outage; wrong credentials are the operator error), one
 * index per run, written in small concurrent bulks so that order per key is
 * put to the test.
 */
import { Client } from '@elastic/elasticsearch';
import { startElasticsearch, type EsServer } from '../../harness/elasticsearch.ts';
import { readIndex } from '../../e2e/elasticsearch-support.ts';
import type { SinkAdapter } from '../adapter.ts';
import type { Run } from '../run.ts';

const [USER, PASSWORD] = ['slotline', 'conformance-secret'];
const indexOf = (run: Run): string => `${run.prefix}.public.items`;
const deadLetterIndex = (run: Run): string => `${run.prefix}-dlq`;

export function elasticsearchAdapter(): SinkAdapter {
  let es: EsServer;
  let client: Client;
  const sinkYaml = (password: string): string => `node: ${JSON.stringify(es.node)}
auth: { username: ${USER}, password: ${password} }
index: "{prefix}.{schema}.{table}"
request_timeout_ms: 5000
batch: { max_actions: 20, concurrency: 2 }`;

  return {
    type: 'elasticsearch',
    async start() {
      es = await startElasticsearch({ users: { [USER]: PASSWORD } });
      client = new Client({ node: es.node, auth: { username: USER, password: PASSWORD }, requestTimeout: 30_000 });
    },
    async close() {
      await client?.close();
      await es?.close();
    },
    sinkYaml: () => sinkYaml(PASSWORD),
    async read(run) {
      const docs = await readIndex(client, indexOf(run));
      return { rows: new Map([...docs.values()].map((doc) => [doc.id as number, doc.seq as number])) };
    },
    break: () => es.stop(),
    restore: () => es.start(),
    badRecord: {
      goodPayload: '5',
      badPayload: 'lots',
      // The index maps payload as an integer: 'lots' is a mapping error (HTTP 400).
      prepare: async (run) => {
        await client.indices.create({ index: indexOf(run), mappings: { properties: { payload: { type: 'integer' } } } });
      },
      modes: { fail: () => 'on_record_error: fail', dead_letter: (run) => `on_record_error: dead_letter\ndead_letter_index: "${deadLetterIndex(run)}"` },
      fails: { message: /Elasticsearch rejected document .*\.public\.items\/2 .*HTTP 400/, hint: /set on_record_error: dead_letter/ },
      deadLetters: async (run) =>
        [...(await readIndex(client, deadLetterIndex(run))).values()].map((entry) => ({ id: Number(entry.id), reason: String(entry.error) })),
    },
    operatorError: {
      sinkYaml: () => sinkYaml('wrong-password'),
      message: /connecting to Elasticsearch .*HTTP 401/,
      hint: /check `auth` in the sink file/,
    },
  };
}
