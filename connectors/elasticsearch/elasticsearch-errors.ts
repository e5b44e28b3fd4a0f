/**
 * Elasticsearch failures → slotline's three kinds (STYLE.md, habit 4): the one
 * place that knows HTTP statuses, error types and the client's error classes.
 *
 * Bulk items are classified one by one (`classifyBulkItem`): a bulk request
 * succeeds as a whole even when some of its documents fail.
 */
import { errors } from '@elastic/elasticsearch';
import { OperatorError, RetryableError, type SlotlineError } from '../../src/errors.ts';

export const TLS_HINT =
  'the node\'s TLS certificate is not trusted: set `tls: { ca: <PEM file of the CA that signed it> }` in the sink file, and name the node by a host or IP its certificate lists';

/**
 * Node's (OpenSSL's) words for a certificate that fails verification. The
 * client keeps only the message of a connection error, not its code.
 */
const CERTIFICATE_PROBLEM = /certificate|self[- ]signed|altnames|unable to get (local )?issuer/i;

export const AUTH_HINT = 'check `auth` in the sink file (api_key, or username and password) and that the user may write (index, create_index) the sink\'s indices';

/** What became of one bulk item. */
export type ItemOutcome =
  | { kind: 'done' }
  /** A version conflict: the document already holds this change or a later one. */
  | { kind: 'already_applied' }
  | { kind: 'retry'; reason: string }
  | { kind: 'operator'; reason: string }
  | { kind: 'record'; reason: string };

export interface BulkItemResult {
  status: number;
  result?: string;
  error?: { type?: string; reason?: string | null; caused_by?: { type?: string; reason?: string | null } } | null;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const RETRY_TYPES = new Set(['es_rejected_execution_exception', 'circuit_breaking_exception', 'unavailable_shards_exception', 'cluster_block_exception']);

export function classifyBulkItem(item: BulkItemResult, op: 'index' | 'delete'): ItemOutcome {
  const { status, error } = item;
  if (status >= 200 && status < 300) return { kind: 'done' };
  // A delete of a document (or in an index) that is not there has nothing to remove.
  if (op === 'delete' && status === 404) return { kind: 'done' };
  if (status === 409) return { kind: 'already_applied' };
  const reason = describeItemError(item);
  if (RETRY_STATUSES.has(status) || (error?.type !== undefined && RETRY_TYPES.has(error.type))) return { kind: 'retry', reason };
  if (status === 401 || status === 403) return { kind: 'operator', reason };
  if (status >= 500) return { kind: 'retry', reason };
  return { kind: 'record', reason };
}

export function describeItemError(item: BulkItemResult): string {
  const e = item.error;
  if (!e) return `HTTP ${item.status}`;
  const cause = e.caused_by?.reason ? ` (caused by ${e.caused_by.type}: ${e.caused_by.reason})` : '';
  return `HTTP ${item.status} ${e.type ?? 'error'}: ${e.reason ?? ''}${cause}`;
}

/** A whole request failed (connection, timeout, HTTP status). */
export function classifyEsError(err: unknown, what: string, nodes: string): SlotlineError {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const message = `${what}: HTTP ${status} ${err.message}`;
    if (status === 401 || status === 403) return new OperatorError(message, { cause: err, hint: AUTH_HINT, permanent: true });
    return new RetryableError(message, { cause: err });
  }
  if (err instanceof errors.ProductNotSupportedError) {
    return new OperatorError(`${what}: ${nodes} is not Elasticsearch (${err.message})`, { cause: err, hint: 'point `node`/`nodes` at Elasticsearch 8 or 9; OpenSearch is not supported', permanent: true });
  }
  if (err instanceof errors.ConfigurationError) {
    return new OperatorError(`${what}: ${err.message}`, { cause: err, hint: 'check `node`, `nodes`, `auth` and `tls` in the sink file', permanent: true });
  }
  const message = err instanceof Error ? err.message : String(err);
  // Retrying cannot make an untrusted certificate trusted.
  if (err instanceof errors.ConnectionError && CERTIFICATE_PROBLEM.test(message)) {
    return new OperatorError(`${what}: TLS certificate problem: ${message}`, { cause: err, hint: TLS_HINT, permanent: true });
  }
  // Connection refused or reset, timeouts, no living connections: the cluster may come back.
  return new RetryableError(`${what}: ${message}`, { cause: err });
}

/** At start, an unreachable cluster is a configuration problem to report, not a retry loop. */
export function startupError(err: unknown, nodes: string): SlotlineError {
  const classified = classifyEsError(err, `connecting to Elasticsearch ${nodes}`, nodes);
  if (classified instanceof RetryableError) {
    return new OperatorError(classified.message, { cause: err, hint: 'check that `node`/`nodes` in the sink file name a running Elasticsearch reachable from here (scheme, host, port; a node that serves HTTPS closes plain http:// connections)' });
  }
  return classified;
}
