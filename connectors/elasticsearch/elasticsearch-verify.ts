/**
 * Reads an Elasticsearch sink back for `slotline verify`: a row's document is
 * built by the sink's own code (index and id templates, column selection,
 * type mapping) and compared with the stored `_source`; metadata fields
 * (`metadata.enabled`) describe the last change, not the row, and are left
 * out. The stored `_version` is the LSN of the document's last change.
 *
 * Documents by id through `_mget` (real-time: no refresh needed); extras by
 * walking the index with a point in time sorted by `_shard_doc`, ids and
 * versions only, after a refresh so recent writes are in it.
 */
import { Client } from '@elastic/elasticsearch';
import { fingerprint } from '../../src/verify/fingerprints.ts';
import type { Expectation, Held, Json, SinkVerifier, Unclaimed, VerifierContext } from '../../src/verify/sink-verifier.ts';
import { clientOptions, nodesOf } from './elasticsearch-client.ts';
import type { ElasticsearchSinkConfig } from './elasticsearch-config.ts';
import { rowDocument } from './elasticsearch-documents.ts';
import { classifyEsError, startupError } from './elasticsearch-errors.ts';
import { createIdMaker, createIndexNamer } from './elasticsearch-names.ts';

const SCAN_PAGE = 10_000;
const SEP = '\u0000';

export function createElasticsearchVerifier(config: ElasticsearchSinkConfig, context: VerifierContext): SinkVerifier {
  const nodes = nodesOf(config).join(',');
  const indexOf = createIndexNamer(config.index, context.topicPrefix);
  const idOf = createIdMaker(config.id);
  const documentOptions = { include: config.include_columns, exclude: config.exclude_columns, metadata: null };
  const prefix = config.metadata.prefix;
  const metadata = config.metadata.enabled ? [`${prefix}_op`, `${prefix}_lsn`, `${prefix}_source_ts_ms`, `${prefix}_txid`] : [];
  let client: Client | null = null;

  const request = async <T>(what: string, call: (c: Client) => Promise<T>): Promise<T> => {
    try {
      return await call(client!);
    } catch (err) {
      throw classifyEsError(err, what, nodes);
    }
  };

  return {
    async start() {
      client = new Client(clientOptions(config));
      try {
        await client.cluster.health({ timeout: '5s' });
      } catch (err) {
        // No `monitor` privilege is no reason not to read documents.
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 403) throw startupError(err, nodes);
      }
    },
    spaces: (table) => [indexOf(table)],
    expect(row) {
      const after = row.after ?? {};
      const index = indexOf(row);
      const id = idOf(row, after);
      return [{ address: `${index}${SEP}${id}`, label: `${index}/${id}`, space: index, value: rowDocument(row, after, documentOptions) as Json, required: true }];
    },
    async read(entries: readonly Expectation[]): Promise<Held[]> {
      if (entries.length === 0) return [];
      const docs = entries.map((e) => {
        const at = e.address.indexOf(SEP);
        return { _index: e.address.slice(0, at), _id: e.address.slice(at + 1) };
      });
      const response = await request(`reading ${docs.length} documents`, (c) => c.mget<Record<string, Json>>({ docs, realtime: true }));
      return response.docs.map((doc) => {
        // A missing index answers each of its documents with an error: not there either way.
        if (!('found' in doc) || !doc.found) return { present: false, lsn: null };
        const source = { ...(doc._source ?? {}) };
        for (const field of metadata) delete source[field];
        return { present: true, value: source, lsn: doc._version === undefined ? null : BigInt(doc._version) };
      });
    },
    async *unclaimed(space, claimed): AsyncIterable<Unclaimed> {
      if (!(await request(`checking index ${space}`, (c) => c.indices.exists({ index: space })))) return;
      await client!.indices.refresh({ index: space }).catch(() => undefined);
      const pit = await request(`opening a point in time on ${space}`, (c) => c.openPointInTime({ index: space, keep_alive: '2m' }));
      let pitId = pit.id;
      try {
        let after: Array<string | number> | undefined;
        for (;;) {
          const page = await request(`listing the documents of ${space}`, (c) =>
            c.search({ pit: { id: pitId, keep_alive: '2m' }, size: SCAN_PAGE, sort: [{ _shard_doc: 'asc' }], _source: false, version: true, track_total_hits: false, search_after: after }),
          );
          pitId = page.pit_id ?? pitId;
          for (const hit of page.hits.hits) {
            const address = `${space}${SEP}${hit._id}`;
            if (!claimed(fingerprint(address))) yield { address, label: `${space}/${hit._id}`, lsn: hit._version === undefined ? null : BigInt(hit._version) };
          }
          if (page.hits.hits.length < SCAN_PAGE) return;
          after = page.hits.hits[page.hits.hits.length - 1].sort as Array<string | number>;
        }
      } finally {
        await client!.closePointInTime({ id: pitId }).catch(() => undefined);
      }
    },
    notes: () => [],
    async stop() {
      await client?.close();
      client = null;
    },
  };
}
