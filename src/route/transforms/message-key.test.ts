import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../errors.ts';
import { serializeRecords } from '../../normalize/json-converter.ts';
import { orders, transforms } from './testing.ts';

describe('key (message.key.columns)', () => {
  const t = transforms({ type: 'key', columns: { 'public.orders': ['tenant_id'] } });

  it('builds the key from the named columns, with a Debezium key schema', () => {
    const [record] = serializeRecords(t.apply(orders.insert(1, 7))!, { schemasEnable: true }, false);
    expect(record.key).toBe('{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"tenant_id"}],"optional":false,"name":"pg.public.orders.Key"},"payload":{"tenant_id":7}}');
  });

  it('gives one tenant\'s orders the same key bytes (so the same partition), whatever their ids', () => {
    const keyOf = (id: number, tenant: number) => serializeRecords(t.apply(orders.insert(id, tenant))!, { schemasEnable: false }, false)[0].key;
    expect(new Set([1, 2, 3, 4, 5].map((id) => keyOf(id, 7)))).toEqual(new Set(['{"tenant_id":7}']));
    expect(keyOf(1, 8)).toBe('{"tenant_id":8}');
  });

  it('keeps columns in table order and leaves other tables alone', () => {
    const both = transforms({ type: 'key', columns: { 'public.orders': ['status', 'tenant_id'] } });
    expect(both.apply(orders.insert(1, 7, 'paid'))!.key).toEqual({ tenant_id: 7, status: 'paid' });
    const other = transforms({ type: 'key', columns: { 'public.other': ['x'] } });
    expect(other.apply(orders.insert())!.key).toEqual({ id: 1 });
  });

  it('fails at start-up on a column the table does not have', async () => {
    const bad = transforms({ type: 'key', columns: { 'public.orders': ['tenant'] } });
    const describe = async () => ({ columns: ['id', 'tenant_id'], keyColumns: ['id'], replicaIdentity: 'default' as const, identityColumns: ['id'] });
    const err = await bad.check!(describe as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).message).toMatch(/key transform names columns public.orders does not have: tenant/);
  });
});
