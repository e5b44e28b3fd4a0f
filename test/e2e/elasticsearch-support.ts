/**
 * What the Elasticsearch end-to-end tests share: a slotline config whose only
 * sink is an Elasticsearch sink file, and reading an index back.
 */
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { writeConfig, type ConfigSpec } from './support.ts';

export interface EsConfigSpec extends Omit<ConfigSpec, 'brokers' | 'kafkaExtra'> {
  /** One URL (`node:`) or several (`nodes:`). */
  node: string | string[];
  /** The sink file's text after `name`, `type` and `node` (index, id, tables…). */
  sinkExtra?: string;
}

/** Writes slotline.yaml and sinks/search.yaml (type elasticsearch, the only sink); returns the main file's path. */
export async function writeEsConfig(spec: EsConfigSpec): Promise<string> {
  const config = await writeConfig(spec);
  const sinks = join(dirname(config), 'sinks');
  // writeConfig adds a console sink when no Kafka is given: this run has only ours.
  await rm(join(sinks, 'console.yaml'), { force: true });
  const node = Array.isArray(spec.node) ? `nodes: ${JSON.stringify(spec.node)}` : `node: ${JSON.stringify(spec.node)}`;
  await writeFile(join(sinks, 'search.yaml'), `name: search\ntype: elasticsearch\n${node}\n${spec.sinkExtra ?? ''}\n`);
  return config;
}

export function esClient(node: string): Client {
  return new Client({ node, requestTimeout: 30_000 });
}

/** Every document of `index` by id (after a refresh); an empty map when the index does not exist. */
export async function readIndex(client: Client, index: string): Promise<Map<string, Record<string, unknown>>> {
  const docs = new Map<string, Record<string, unknown>>();
  if (!(await client.indices.exists({ index }))) return docs;
  await client.indices.refresh({ index });
  let after: unknown[] | undefined;
  for (;;) {
    const page = await client.search<Record<string, unknown>>({ index, size: 1000, sort: ['_doc'], search_after: after as never, query: { match_all: {} }, version: true });
    for (const hit of page.hits.hits) docs.set(hit._id!, hit._source!);
    if (page.hits.hits.length < 1000) return docs;
    after = page.hits.hits[page.hits.hits.length - 1].sort as unknown[];
  }
}

/** The stored external version (the LSN of the last applied change) of each document. */
export async function readVersions(client: Client, index: string): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  await client.indices.refresh({ index });
  const page = await client.search({ index, size: 10_000, version: true, query: { match_all: {} } });
  for (const hit of page.hits.hits) versions.set(hit._id!, hit._version!);
  return versions;
}
