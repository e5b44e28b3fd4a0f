/**
 * Keys of a `type: elasticsearch` sink file. Index and id templates are expanded
 * by elasticsearch-names.ts; documents are built by elasticsearch-documents.ts.
 */
import { z } from 'zod';
import { count, durationMs, flag, listOrCommaString, tlsSchema } from '../../src/config/schema-parts.ts';
import { byteSize } from '../../src/config/sizes.ts';
import type { SinkConfig } from '../../src/config/sink-schema.ts';
import { indexTemplateProblems, INDEX_PLACEHOLDERS } from './elasticsearch-names.ts';

const nodeUrl = z.string().superRefine((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', input: text, message: `invalid node ${JSON.stringify(text)}: expected an http:// or https:// URL` });
  }
});

const columnList = (description: string) =>
  z.array(z.string().min(1)).optional().meta({ description, docDefault: 'none', docType: 'list of string' });

export const elasticsearchConfigSchema = z
  .strictObject({
    node: nodeUrl.optional().meta({ description: 'URL of one node, e.g. `http://127.0.0.1:9200`. Give `node` or `nodes`, not both.', docDefault: 'none' }),
    nodes: listOrCommaString(nodeUrl)
      .optional()
      .meta({ description: 'URLs of several nodes; a list, or one comma-separated string. Requests go round the nodes, and one that cannot be reached is skipped for the next; at start, one reachable node is enough.', docType: 'list of URL', docDefault: 'none' }),
    auth: z
      .union([
        z.strictObject({ api_key: z.string().min(1).describe('API key (the base64 `id:api_key` form); prefer `${ES_API_KEY}`.') }),
        z.strictObject({
          username: z.string().min(1).describe('User name for basic authentication.'),
          password: z.string().describe('Password; prefer `${ES_PASSWORD}` over writing it here.'),
        }),
      ])
      .optional()
      .meta({ description: 'Authentication: `{api_key}` or `{username, password}`.', docDefault: 'none' }),
    tls: tlsSchema('TLS options for https:// nodes (`ca`, `cert`, `key`, `reject_unauthorized`).'),
    index: z
      .string()
      .superRefine((template, ctx) => {
        for (const message of indexTemplateProblems(template)) ctx.addIssue({ code: 'custom', input: template, message });
      })
      .default('{schema}.{table}')
      .meta({
        description: `Index of a table's documents. Placeholders: ${INDEX_PLACEHOLDERS.map((p) => `\`{${p}}\``).join(', ')}. Lower-cased; checked against Elasticsearch's index name rules.`,
        docType: 'index template',
      }),
    id: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: 'Document id template over column names, e.g. `"{id}"` or `"{tenant}:{id}"`. Default: the primary-key value; several key columns as a JSON array of their values.',
        docType: 'id template',
        docDefault: 'the primary key',
      }),
    include_columns: columnList('Only these columns go into documents (all tables).'),
    exclude_columns: columnList('Columns left out of documents (all tables).'),
    metadata: z
      .strictObject({
        enabled: flag(false, 'Add `<prefix>_op`, `<prefix>_lsn`, `<prefix>_source_ts_ms` and `<prefix>_txid` to every document.'),
        prefix: z.string().regex(/^[A-Za-z0-9_]*$/).default('slotline').describe('Prefix of the metadata field names (letters, digits, `_`; may be empty: `_op`…).'),
      })
      .prefault({})
      .describe('Change metadata in documents.'),
    truncate: z
      .enum(['ignore', 'recreate_index'])
      .default('ignore')
      .describe('On TRUNCATE: `ignore` keeps the documents (logged); `recreate_index` deletes the table\'s index and, with `create_index`, creates it again.'),
    create_index: flag(false, 'Create a missing index before its first write, with `index_settings` and a mapping derived from the column types (or `mapping_file`).'),
    index_settings: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .prefault({})
      .meta({ description: 'Settings of a created index, e.g. `number_of_replicas: 0`.', docType: 'map' }),
    mapping_file: z.string().min(1).optional().meta({ description: 'JSON file with the `mappings` of a created index, instead of the derived one.', docDefault: 'none' }),
    on_record_error: z
      .enum(['dead_letter', 'fail'])
      .default('fail')
      .describe('A document the index rejects (HTTP 400, mapping error): `dead_letter` writes it to `dead_letter_index` and goes on; `fail` stops the pipeline.'),
    dead_letter_index: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('slotline-dlq').describe('Index of dead-lettered changes (envelope, error, LSN).'),
    batch: z
      .strictObject({
        max_actions: count(1000, 'Most documents in one bulk request.'),
        max_bytes: byteSize().default(5_000_000).meta({ description: 'Most bytes in one bulk request.', docType: 'size', docDefault: '`5MB`' }),
        concurrency: count(2, 'Bulk requests in flight at once. A document never has two writes in flight.'),
      })
      .prefault({})
      .describe('Bulk request sizing.'),
    request_timeout_ms: durationMs(30_000, 'Timeout of one request.', 1),
    bulk_timeout_ms: z
      .int()
      .min(1)
      .optional()
      .meta({
        description:
          'How long Elasticsearch lets a bulk item wait for an unavailable primary shard (the bulk `timeout`) before failing that item with 503; the item is retried, the rest of the bulk is not. Below `request_timeout_ms`, or the whole request would time out first.',
        docType: 'integer (ms)',
        docDefault: 'half of `request_timeout_ms`',
      }),
  })
  // Cross-key rules. src/config/sink-schema.ts carries them over when it merges
  // these keys with the common ones, so `slotline validate` reports them with
  // the file, line and column of the key.
  .superRefine((config, ctx) => {
    const hasNodes = config.nodes !== undefined && config.nodes.length > 0;
    if (config.node !== undefined && hasNodes) ctx.addIssue({ code: 'custom', path: ['nodes'], input: config.nodes, message: 'give `node` or `nodes`, not both' });
    if (config.node === undefined && !hasNodes) {
      ctx.addIssue({ code: 'custom', path: config.nodes === undefined ? ['node'] : ['nodes'], input: config.nodes, message: 'give `node` (one URL) or `nodes` (a list of URLs)' });
    }
    if (config.include_columns && config.exclude_columns) {
      ctx.addIssue({ code: 'custom', path: ['exclude_columns'], input: config.exclude_columns, message: 'give `include_columns` or `exclude_columns`, not both' });
    }
    if (config.bulk_timeout_ms !== undefined && config.bulk_timeout_ms >= config.request_timeout_ms) {
      ctx.addIssue({ code: 'custom', path: ['bulk_timeout_ms'], input: config.bulk_timeout_ms, message: `bulk_timeout_ms must be below request_timeout_ms (${config.request_timeout_ms})` });
    }
  });

export type ElasticsearchSinkConfig = SinkConfig<typeof elasticsearchConfigSchema>;
