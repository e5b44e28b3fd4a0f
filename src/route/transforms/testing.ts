/**
 * Fixtures for the transforms' unit tests: an `orders` table and its events,
 * built by the real normalizer. Not used by production code.
 */
import pino from 'pino';
import { normalizeDelete, normalizeInsert, normalizeTruncate, normalizeUpdate, type EventContext } from '../../normalize/change-events.ts';
import { buildTableModel, type RelationMeta } from '../../normalize/table-model.ts';
import { lookup, options, relation } from '../../normalize/testing.ts';
import { transformSchema, type TransformConfig } from '../../config/transform-schema.ts';
import type { ChangeEvent } from '../../types.ts';
import { createTransformChain, type Transform } from './transform.ts';

const OPTS = options();
const ctx = (lsn: bigint): EventContext => ({
  tx: { xid: 777, commitTimeUs: 1700000000000001n, finalLsn: 0x2000n, lastCommitLsn: 0x1000n, origin: null },
  lsn,
  nowNs: 1700000000500000123n,
});

// CREATE TABLE public.orders (id int PRIMARY KEY, tenant_id int NOT NULL, status varchar(20), email text)
const ORDERS = relation([['id', 23, { key: true }], ['tenant_id', 23], ['status', 1043, { typeMod: 24 }], ['email', 25]], 'default', 'orders');
const META: RelationMeta = {
  columns: new Map([
    ['id', { notNull: true, defaultExpression: null }],
    ['tenant_id', { notNull: true, defaultExpression: null }],
    ['status', { notNull: false, defaultExpression: null }],
    ['email', { notNull: false, defaultExpression: null }],
  ]),
  keyColumns: ['id'],
};
const model = buildTableModel(ORDERS, lookup, OPTS, META);

export const orders = {
  insert: (id = 1, tenant = 7, status = 'paid', email = 'ann@example.com'): ChangeEvent =>
    normalizeInsert(model, [String(id), String(tenant), status, email], OPTS, ctx(0x2008n)),
  update: (id = 1, tenant = 7, status = 'shipped', email = 'ann@example.com'): ChangeEvent =>
    normalizeUpdate(model, { newTuple: [String(id), String(tenant), status, email] }, OPTS, ctx(0x2010n))[0],
  /** REPLICA IDENTITY DEFAULT: the old row holds the key only. */
  delete: (id = 1): ChangeEvent => normalizeDelete(model, { keyTuple: [String(id), null, null, null] }, OPTS, ctx(0x2018n)),
  truncate: (): ChangeEvent => normalizeTruncate([model], OPTS, ctx(0x2020n))[0],
};

// CREATE TABLE public.outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL,
//   aggregateid varchar(255) NOT NULL, type varchar(255) NOT NULL, payload jsonb)
const OUTBOX = relation(
  [['id', 2950, { key: true }], ['aggregatetype', 1043, { typeMod: 259 }], ['aggregateid', 1043, { typeMod: 259 }], ['type', 1043, { typeMod: 259 }], ['payload', 3802]],
  'default',
  'outbox',
);
const OUTBOX_META: RelationMeta = {
  columns: new Map(['id', 'aggregatetype', 'aggregateid', 'type', 'payload'].map((c) => [c, { notNull: c !== 'payload', defaultExpression: null }])),
  keyColumns: ['id'],
};
const outboxModel = buildTableModel(OUTBOX, lookup, OPTS, OUTBOX_META);
export const EVENT_ID = '8ac6a6c2-4b6c-4d3e-9f3a-0c1d2e3f4a5b';

export const outbox = {
  insert: (payload: string | null = '{"orderId":42,"total":9.5}', aggregate = ['order', '42', 'OrderCreated']): ChangeEvent =>
    normalizeInsert(outboxModel, [EVENT_ID, ...aggregate, payload], OPTS, ctx(0x3008n)),
  update: (): ChangeEvent => normalizeUpdate(outboxModel, { newTuple: [EVENT_ID, 'order', '42', 'OrderCreated', '{}'] }, OPTS, ctx(0x3010n))[0],
  delete: (): ChangeEvent => normalizeDelete(outboxModel, { keyTuple: [EVENT_ID, null, null, null, null] }, OPTS, ctx(0x3018n)),
};

/** The transforms of a sink file's `transforms:` list, parsed as the config loader does. */
export function transforms(...configs: unknown[]): Transform {
  const parsed = configs.map((c) => transformSchema.parse(c) as TransformConfig);
  return createTransformChain(parsed, { logger: pino({ level: 'silent' }), sink: 'test', topicPrefix: 'pg' })!;
}
