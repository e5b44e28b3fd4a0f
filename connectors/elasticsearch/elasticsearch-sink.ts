/**
 * Elasticsearch sink: one document per row, kept in sync through the Bulk API.
 *
 * - Replay-safe and order-safe: every index and delete carries the change's LSN
 *   as an external version, so Elasticsearch refuses (409) anything older than
 *   what a document holds. A 409 therefore means "already applied", never a failure:
 *   a write replayed after a crash cannot move a document back in time.
 * - Unchanged TOAST columns are filled from the stored document (_mget) before
 *   the merged document is indexed with the update's version: if the stored
 *   document is newer, the index is refused with 409 and nothing regresses. No
 *   scripts are needed.
 * - Per-item results are classified (elasticsearch-errors.ts). Only failed items
 *   are retried: a failed write keeps which operations are done, and the runner's
 *   retry of the same events re-sends the rest. A rejected document is
 *   dead-lettered or fails the pipeline (on_record_error); write() resolves only
 *   when every change is indexed, already applied or dead-lettered.
 * - Deletes keep Elasticsearch's tombstone for `index.gc_deletes` (60 s by
 *   default): a replay older than that could bring back a deleted document, so
 *   created indices set it to 1 h (override in index_settings).
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { OperatorError, RecordError, RetryableError } from '../../src/errors.ts';
import { formatLsn } from '../../src/lsn.ts';
import { serializeValue } from '../../src/normalize/json-converter.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { clientOptions, nodesOf } from './elasticsearch-client.ts';
import type { ElasticsearchSinkConfig } from './elasticsearch-config.ts';
import { AUTH_HINT, classifyBulkItem, classifyEsError, startupError, type BulkItemResult } from './elasticsearch-errors.ts';
import { tableMappings } from './elasticsearch-mapping.ts';
import { createIdMaker, createIndexNamer } from './elasticsearch-names.ts';
import { fillFromStored, opKey, planWrite, type DocOp } from './elasticsearch-plan.ts';

export function createElasticsearchSink(config: ElasticsearchSinkConfig, context: SinkContext): Sink {
  const logger = context.logger.child({ sink: config.name, type: 'elasticsearch' });
  const nodes = nodesOf(config);
  const nodesText = nodes.join(',');
  const indexOf = createIndexNamer(config.index, context.topicPrefix);
  const idOf = createIdMaker(config.id);
  const bulkTimeout = `${config.bulk_timeout_ms ?? Math.floor(config.request_timeout_ms / 2)}ms`;
  const metadata = config.metadata.enabled ? { prefix: config.metadata.prefix } : null;
  const keepColumn = (c: string): boolean => (config.include_columns ? config.include_columns.includes(c) : !(config.exclude_columns ?? []).includes(c));
  const mappingFile = config.mapping_file ? (JSON.parse(readFileSync(config.mapping_file, 'utf8')) as Record<string, unknown>) : null;
  let client: Client | null = null;
  /** Indices known to exist (create_index) in this session. */
  const ready = new Set<string>();
  /** The last write that failed part-way: the runner retries the same array; these operations are done. */
  let partial: { events: readonly ChangeEvent[]; done: Set<string> } | null = null;

  const request = async <T>(what: string, call: (c: Client) => Promise<T>): Promise<T> => {
    try {
      return await call(client!);
    } catch (err) {
      throw classifyEsError(err, what, nodesText);
    }
  };

  const ensureIndex = async (index: string, event: ChangeEvent): Promise<void> => {
    if (!config.create_index || ready.has(index)) return;
    const exists = await request(`checking index ${index}`, (c) => c.indices.exists({ index }));
    if (!exists) {
      const mappings = mappingFile ?? tableMappings(event.schemas.value, keepColumn, metadata?.prefix ?? null);
      const settings = { 'index.gc_deletes': '1h', ...config.index_settings };
      try {
        await client!.indices.create({ index, settings, mappings });
        logger.info({ index }, 'created index');
      } catch (err) {
        const type = (err as { body?: { error?: { type?: string } } }).body?.error?.type ?? (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type;
        if (type !== 'resource_already_exists_exception') {
          const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
          if (status === 400) throw new OperatorError(`creating index ${index}: ${(err as Error).message}`, { cause: err, hint: 'check index_settings and mapping_file in the sink file', permanent: true });
          throw classifyEsError(err, `creating index ${index}`, nodesText);
        }
      }
    }
    ready.add(index);
  };

  /** TOAST columns from the stored documents, fetched once per write. */
  const fillToast = async (ops: DocOp[]): Promise<void> => {
    const needing = ops.filter((op) => op.needsStored.length > 0);
    if (needing.length === 0) return;
    const response = await request(`fetching ${needing.length} documents for unchanged TOAST columns`, (c) =>
      c.mget<Record<string, unknown>>({ docs: needing.map((op) => ({ _index: op.index, _id: op.id, _source: op.needsStored })) }),
    );
    response.docs.forEach((doc, i) => {
      const found = 'found' in doc && doc.found ? (doc._source as Record<string, unknown>) : undefined;
      const op = needing[i];
      const lost = fillFromStored(op, found);
      if (lost.length > 0) {
        logger.warn({ index: op.index, id: op.id, columns: lost, lsn: formatLsn(op.version) }, 'unchanged TOAST columns not in the stored document: indexed without them');
      }
    });
  };

  const deadLetter = async (entries: Array<{ op: DocOp; event: ChangeEvent; reason: string }>): Promise<Set<DocOp>> => {
    const operations: unknown[] = [];
    for (const { op, event, reason } of entries) {
      operations.push({ index: { _index: config.dead_letter_index, _id: `${op.index}/${op.id}/${formatLsn(op.version)}` } });
      operations.push({
        sink: config.name,
        index: op.index,
        id: op.id,
        op: event.op,
        lsn: formatLsn(event.lsn),
        table: `${event.schema}.${event.table}`,
        error: reason,
        envelope: serializeValue(event, { schemasEnable: false }),
        dead_lettered_at: new Date().toISOString(),
      });
    }
    const response = await request(`writing ${entries.length} documents to dead-letter index ${config.dead_letter_index}`, (c) => c.bulk({ operations, timeout: bulkTimeout }));
    const written = new Set<DocOp>();
    response.items.forEach((item, i) => {
      const outcome = classifyBulkItem(Object.values(item)[0] as BulkItemResult, 'index');
      if (outcome.kind === 'done' || outcome.kind === 'already_applied') written.add(entries[i].op);
      else logger.warn({ index: config.dead_letter_index, reason: 'reason' in outcome ? outcome.reason : '' }, 'dead-letter write failed; will retry');
    });
    return written;
  };

  /** Sends ops (none for the same document twice) in bounded concurrent bulks; marks done ones in `done`. */
  const sendOps = async (events: readonly ChangeEvent[], ops: DocOp[], done: Set<string>, segment: number): Promise<void> => {
    const chunks: Array<{ ops: DocOp[]; body: unknown[] }> = [];
    let chunk: { ops: DocOp[]; body: unknown[] } = { ops: [], body: [] };
    let bytes = 0;
    for (const op of ops) {
      const action = { [op.kind]: { _index: op.index, _id: op.id, version: Number(op.version), version_type: 'external' } };
      const size = JSON.stringify(action).length + (op.doc ? JSON.stringify(op.doc).length : 0) + 2;
      if (chunk.ops.length > 0 && (chunk.ops.length >= config.batch.max_actions || bytes + size > config.batch.max_bytes)) {
        chunks.push(chunk);
        chunk = { ops: [], body: [] };
        bytes = 0;
      }
      chunk.ops.push(op);
      chunk.body.push(action);
      if (op.doc) chunk.body.push(op.doc);
      bytes += size;
    }
    if (chunk.ops.length > 0) chunks.push(chunk);

    const retry: string[] = [];
    let operator: string | null = null;
    let requestError: unknown = null;
    const rejected: Array<{ op: DocOp; event: ChangeEvent; reason: string }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const { ops: chunkOps, body } = chunks[next++];
        let items;
        try {
          items = (await client!.bulk({ operations: body, timeout: bulkTimeout })).items;
        } catch (err) {
          requestError ??= err;
          continue;
        }
        items.forEach((item, i) => {
          const op = chunkOps[i];
          const outcome = classifyBulkItem(Object.values(item)[0] as BulkItemResult, op.kind);
          if (outcome.kind === 'done' || outcome.kind === 'already_applied') done.add(`${segment}:${opKey(op)}`);
          else if (outcome.kind === 'retry') retry.push(outcome.reason);
          else if (outcome.kind === 'operator') operator ??= `${op.index}/${op.id}: ${outcome.reason}`;
          else rejected.push({ op, event: events[op.eventIndex], reason: outcome.reason });
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.batch.concurrency, chunks.length) }, worker));

    if (operator !== null) throw new OperatorError(`writing to Elasticsearch: ${operator}`, { hint: AUTH_HINT, permanent: true });
    if (rejected.length > 0) {
      if (config.on_record_error === 'fail') {
        const first = rejected[0];
        throw new RecordError(`Elasticsearch rejected document ${first.op.index}/${first.op.id} (LSN ${formatLsn(first.op.version)}): ${first.reason}`, first.op.eventIndex, {
          hint: 'fix the index mapping or the column, or set on_record_error: dead_letter in the sink file',
        });
      }
      for (const op of await deadLetter(rejected)) {
        done.add(`${segment}:${opKey(op)}`);
        logger.warn({ index: op.index, id: op.id, lsn: formatLsn(op.version), dead_letter_index: config.dead_letter_index }, 'document rejected: dead-lettered');
        context.deadLettered?.(1);
      }
    }
    if (requestError !== null) throw classifyEsError(requestError, `bulk request to Elasticsearch`, nodesText);
    const left = ops.filter((op) => !done.has(`${segment}:${opKey(op)}`)).length;
    if (left > 0) throw new RetryableError(`${left} of ${ops.length} documents not indexed yet (${retry[0] ?? 'dead-letter write failed'}); retrying those`);
  };

  /**
   * Asks every node for /_cluster/health: one reachable node is enough (the
   * client fails over), the others are logged. Fails when none answers, or on
   * an answer a person must act on (401, a certificate problem).
   */
  const checkReachable = async (options: ClientOptions): Promise<void> => {
    const unreachable: Array<{ node: string; err: unknown }> = [];
    for (const node of nodes) {
      const probe = new Client({ ...options, nodes: [node], maxRetries: 0 });
      try {
        // Not GET /: distributions without it exist. Health needs the `monitor` cluster privilege or 403.
        await probe.cluster.health({ timeout: '5s' });
      } catch (err) {
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
        if (status === 403) {
          logger.warn({ node, err: (err as Error).message }, 'no permission for /_cluster/health; connection and authentication are fine');
        } else {
          // Refused, reset, timed out, 5xx: this node is away. Anything else is for a person.
          if (!(classifyEsError(err, '', node) instanceof RetryableError)) throw startupError(err, node);
          unreachable.push({ node, err });
        }
      } finally {
        await probe.close();
      }
    }
    if (unreachable.length === nodes.length) {
      if (nodes.length === 1) throw startupError(unreachable[0].err, nodesText);
      const all = new Error(unreachable.map(({ node, err }) => `${node}: ${(err as Error).message}`).join('; '));
      throw startupError(all, nodesText);
    }
    if (unreachable.length > 0) {
      logger.warn({ unreachable: unreachable.map(({ node, err }) => `${node}: ${(err as Error).message}`) }, `${unreachable.length} of ${nodes.length} Elasticsearch nodes unreachable at start; writing through the others`);
    }
  };

  const truncate = async (event: ChangeEvent): Promise<void> => {
    const index = indexOf(event);
    if (config.truncate === 'ignore') {
      logger.info({ index, table: `${event.schema}.${event.table}` }, 'TRUNCATE ignored (truncate: ignore): documents kept');
      return;
    }
    await request(`deleting index ${index} after TRUNCATE`, (c) => c.indices.delete({ index, ignore_unavailable: true }));
    ready.delete(index);
    logger.info({ index }, 'TRUNCATE: index deleted (truncate: recreate_index)');
    if (config.create_index) await ensureIndex(index, event);
  };

  return {
    name: config.name,
    async start() {
      const options = clientOptions(config);
      client = new Client(options);
      await checkReachable(options);
    },
    async write(events) {
      if (!client) throw new Error('elasticsearch sink written before start()');
      const progress = partial?.events === events ? partial : { events, done: new Set<string>() };
      partial = progress;
      const segments = planWrite(events, {
        indexOf,
        idOf,
        document: { include: config.include_columns, exclude: config.exclude_columns, metadata },
        placeholder: context.normalize.unavailableValuePlaceholder,
      });
      for (const [i, segment] of segments.entries()) {
        if (segment.kind === 'truncate') {
          if (progress.done.has(`${i}:t`)) continue;
          await truncate(segment.event);
          progress.done.add(`${i}:t`);
          continue;
        }
        const ops = segment.ops.filter((op) => !progress.done.has(`${i}:${opKey(op)}`));
        if (ops.length === 0) continue;
        for (const op of ops) await ensureIndex(op.index, events[op.eventIndex]);
        await fillToast(ops);
        await sendOps(events, ops, progress.done, i);
      }
      partial = null;
    },
    async stop() {
      await client?.close();
      client = null;
    },
  };
}
