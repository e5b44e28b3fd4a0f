import { afterAll, describe, expect, it } from 'vitest';
import { problemLines, removeFixtures } from '../../src/config/config-fixtures.ts';
import { elasticsearchConfigSchema } from './elasticsearch-config.ts';

afterAll(removeFixtures);

const MAIN = 'source:\n  url: postgres://app@db/app\ntopic_prefix: app\n';
const SINK_TYPES = { elasticsearch: elasticsearchConfigSchema };

describe('elasticsearch config', () => {
  it('fills defaults', () => {
    const config = elasticsearchConfigSchema.parse({ node: 'http://127.0.0.1:9200' });
    expect(config).toMatchObject({
      index: '{schema}.{table}', truncate: 'ignore', on_record_error: 'fail', dead_letter_index: 'slotline-dlq',
      batch: { max_actions: 1000, concurrency: 2 }, request_timeout_ms: 30_000,
    });
    expect(elasticsearchConfigSchema.parse({ nodes: 'http://a:9200, https://b:9200' }).nodes).toEqual(['http://a:9200', 'https://b:9200']);
    expect(elasticsearchConfigSchema.parse({ node: 'http://a:9200' }).bulk_timeout_ms).toBeUndefined();
    expect(elasticsearchConfigSchema.safeParse({ node: 'http://a:9200', request_timeout_ms: 5000 }).success).toBe(true);
    expect(elasticsearchConfigSchema.safeParse({ node: '127.0.0.1:9200' }).success).toBe(false);
  });

  // What `slotline validate` prints: the cross-key rules with the position of the key.
  it.each([
    {
      name: 'node and nodes',
      sink: 'name: search\ntype: elasticsearch\nnode: http://a:9200\nnodes: [http://b:9200]\n',
      lines: ['sinks/es.yaml:4:8 nodes: give `node` or `nodes`, not both'],
    },
    {
      name: 'neither node nor nodes',
      sink: 'name: search\ntype: elasticsearch\n',
      lines: ['sinks/es.yaml:1:1 node: give `node` (one URL) or `nodes` (a list of URLs)'],
    },
    {
      name: 'an empty nodes list',
      sink: 'name: search\ntype: elasticsearch\nnodes: []\n',
      lines: ['sinks/es.yaml:3:8 nodes: give `node` (one URL) or `nodes` (a list of URLs)'],
    },
    {
      name: 'include_columns and exclude_columns',
      sink: 'name: search\ntype: elasticsearch\nnode: http://a:9200\ninclude_columns: [id]\nexclude_columns: [secret]\n',
      lines: ['sinks/es.yaml:5:18 exclude_columns: give `include_columns` or `exclude_columns`, not both'],
    },
    {
      name: 'bulk timeout not below the request timeout',
      sink: 'name: search\ntype: elasticsearch\nnode: http://a:9200\nrequest_timeout_ms: 5000\nbulk_timeout_ms: 5000\n',
      lines: ['sinks/es.yaml:5:18 bulk_timeout_ms: bulk_timeout_ms must be below request_timeout_ms (5000)'],
    },
  ])('$name', async ({ sink, lines }) => {
    expect(await problemLines({ 'slotline.yaml': MAIN, 'sinks/es.yaml': sink }, {}, SINK_TYPES)).toEqual(lines);
  });

  it('loads a valid file', async () => {
    const sink = 'name: search\ntype: elasticsearch\nnodes: [http://a:9200, http://b:9200]\nexclude_columns: [secret]\n';
    await expect(problemLines({ 'slotline.yaml': MAIN, 'sinks/es.yaml': sink }, {}, SINK_TYPES)).rejects.toThrow(/expected a ConfigError, but the config loaded/);
  });
});
