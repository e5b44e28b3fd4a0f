import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { errorKind } from '../../src/errors.ts';
import type { ChangeEvent, ConnectSchema } from '../../src/types.ts';
import type { RedisRule } from './redis-config.ts';
import { createPlanner } from './redis-plan.ts';

const value: ConnectSchema = {
  type: 'struct',
  optional: true,
  fields: [
    { field: 'id', type: 'int32', optional: false },
    { field: 'slug', type: 'string', optional: true },
  ],
};
const schemas = { key: { type: 'struct', optional: false, fields: [{ field: 'id', type: 'int32', optional: false }] }, value, envelope: value, topicStem: 'app.public.products' };

function event(op: ChangeEvent['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null, commitLsn = 0x100n, lsn = 0xf0n): ChangeEvent {
  const row = after ?? before;
  return { op, schema: 'public', table: 'products', key: row ? { id: row.id } : null, before, after, schemas, commitLsn, lsn } as unknown as ChangeEvent;
}

function planner(rules: RedisRule[]) {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  return { planner: createPlanner({ sinkName: 'cache', rules, fencePrefix: 'f:', topicPrefix: 'app', schemasEnable: false, logger }), warnings };
}

const C = '0000000000000100'; // commit LSN 0x100 as the script wants it

describe('redis write plan', () => {
  it('encodes deletes (once per key), fenced sets and publishes in event order', () => {
    const { planner: p } = planner([
      { tables: ['public.*'], invalidate: ['p:{id}', 'p:{id}', 's:{before.slug}'], publish: 'ch' },
      { tables: ['public.products'], invalidate: [], refresh: { key: 'r:{id}', ttl: 60 } },
    ]);
    const plan = p.plan([event('u', { id: 1, slug: 'a' }, { id: 1, slug: 'b' })], 'ckpt');
    expect(plan.keys).toEqual(['ckpt', 'p:1', 's:a', 'r:1', 'f:r:1']);
    expect(plan.argv).toEqual([
      'D', C, '2',
      'D', C, '3',
      'P', C, 'ch', JSON.stringify({ table: 'public.products', op: 'u', keys: ['p:1', 's:a'], lsn: '0/F0' }),
      'S', C, '4', '5', `${C}00000000000000f0`, '{"id":1,"slug":"b"}', '60',
    ]);
    expect(plan.operations).toBe(4);
  });

  it('deletes a refresh key on delete, leaving a fence', () => {
    const { planner: p } = planner([{ tables: ['public.products'], invalidate: [], refresh: { key: 'r:{id}', ttl: 0 } }]);
    expect(p.plan([event('d', { id: 2, slug: null }, null)], 'ckpt').argv).toEqual(['X', C, '2', '3', `${C}00000000000000f0`]);
  });

  it('skips a key whose value the change lacks, warning only when that is not the operation\'s nature', () => {
    const { planner: p, warnings } = planner([{ tables: ['public.products'], invalidate: ['s:{before.slug}', 'n:{after.slug}'] }]);
    expect(p.plan([event('c', null, { id: 1, slug: 'x' })], 'ckpt').argv).toEqual(['D', C, '2']); // insert: no old row, no warning
    expect(warnings).toEqual([]);
    expect(p.plan([event('u', null, { id: 1, slug: 'y' })], 'ckpt').argv).toEqual(['D', C, '2']); // update without REPLICA IDENTITY FULL
    expect(warnings).toEqual([expect.stringContaining('set REPLICA IDENTITY FULL')]);
  });

  it('leaves truncates and messages alone, and rules of other tables', () => {
    const { planner: p } = planner([{ tables: ['public.orders'], invalidate: ['o:{id}'] }]);
    const truncate = { ...event('c', null, { id: 1 }), op: 't', key: null, after: null } as ChangeEvent;
    expect(p.plan([event('c', null, { id: 1 }), truncate], 'ckpt').operations).toBe(0);
  });

  it('rejects a template naming a column the table lacks, naming rule, table and columns', () => {
    const { planner: p } = planner([{ tables: ['public.products'], invalidate: ['p:{id}'] }, { tables: ['*.*'], invalidate: ['x:{sku}'] }]);
    let caught: unknown;
    try {
      p.plan([event('c', null, { id: 1 })], 'ckpt');
    } catch (err) {
      caught = err;
    }
    expect(errorKind(caught)).toBe('operator');
    expect((caught as Error).message).toBe('sink "cache": rule 2: key template "x:{sku}" names column(s) sku, which public.products does not have (columns: id, slug)');
  });
});
