import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { classifyBulkItem, classifyEsError } from './elasticsearch-errors.ts';

describe('classifyBulkItem', () => {
  it.each([
    { name: 'created', item: { status: 201, result: 'created' }, op: 'index', kind: 'done' },
    { name: 'delete of a missing document', item: { status: 404, result: 'not_found' }, op: 'delete', kind: 'done' },
    { name: 'delete in a missing index', item: { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } }, op: 'delete', kind: 'done' },
    { name: 'version conflict on replay', item: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'current version [9] is higher' } }, op: 'index', kind: 'already_applied' },
    { name: 'too many requests', item: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }, op: 'index', kind: 'retry' },
    { name: 'rejected execution with another status', item: { status: 500, error: { type: 'es_rejected_execution_exception' } }, op: 'index', kind: 'retry' },
    { name: 'bad gateway', item: { status: 502 }, op: 'index', kind: 'retry' },
    { name: 'unavailable', item: { status: 503, error: { type: 'unavailable_shards_exception' } }, op: 'delete', kind: 'retry' },
    { name: 'gateway timeout', item: { status: 504 }, op: 'index', kind: 'retry' },
    { name: 'unauthorized', item: { status: 401, error: { type: 'security_exception' } }, op: 'index', kind: 'operator' },
    { name: 'forbidden', item: { status: 403, error: { type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized' } }, op: 'index', kind: 'operator' },
    { name: 'mapping error', item: { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [qty]' } }, op: 'index', kind: 'record' },
    { name: 'index closed', item: { status: 400, error: { type: 'index_closed_exception' } }, op: 'index', kind: 'record' },
  ] as const)('$name → $kind', ({ item, op, kind }) => {
    expect(classifyBulkItem(item, op).kind).toBe(kind);
  });
});

describe('classifyEsError', () => {
  it.each([
    { name: 'untrusted certificate', message: 'unable to verify the first certificate', kind: 'operator' },
    { name: 'self-signed certificate', message: 'self-signed certificate in certificate chain', kind: 'operator' },
    { name: 'host not in the certificate', message: "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list", kind: 'operator' },
    { name: 'connection refused', message: 'connect ECONNREFUSED 127.0.0.1:1', kind: 'retryable' },
    { name: 'plain http to an https node', message: 'other side closed - Local: 127.0.0.1:5, Remote: 127.0.0.1:9200', kind: 'retryable' },
  ])('$name → $kind', ({ message, kind }) => {
    const classified = classifyEsError(new errors.ConnectionError(message), 'connecting', 'https://127.0.0.1:9200');
    expect(classified.kind).toBe(kind);
    if (kind === 'operator') {
      expect(classified.message).toContain('TLS certificate problem');
      expect(classified.hint).toMatch(/set `tls: \{ ca:/);
    }
  });
});
