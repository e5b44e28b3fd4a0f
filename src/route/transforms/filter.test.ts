import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../errors.ts';
import { filterTransformSchema } from '../../config/transform-schema.ts';
import { ExpressionError, evaluate, parseCondition } from './filter-expression.ts';
import { orders, transforms } from './testing.ts';

const row = (after: Record<string, unknown> | null, op = 'c', before: Record<string, unknown> | null = null) => ({ op, schema: 'public', table: 'orders', before, after });

describe('filter conditions', () => {
  it.each([
    ["after.status == 'paid' and op != 'd'", row({ status: 'paid' }), true],
    ["after.status == 'paid' and op != 'd'", row(null, 'd', { status: 'paid' }), false],
    ["op in ['c', 'r'] or (before.qty > 10 and not after.archived)", row({ archived: false }, 'u', { qty: 11 }), true],
    ["op in ['c', 'r'] or (before.qty > 10 and not after.archived)", row({ archived: true }, 'u', { qty: 11 }), false],
    ['after.qty >= 9007199254740993', row({ qty: 9007199254740993n }), true],
    ["after.price > 10", row({ price: '10.50' }), true], // decimal_handling_mode string
    ['after.note == null', row({ note: null }), true],
    ['after.note < 3', row({ note: null }), false],
    ['after.flag', row({ flag: true }), true],
    ["table == 'orders' and schema == \"public\"", row({}), true],
    ["after.name == 'it\\'s'", row({ name: "it's" }), true],
  ])('%s', (text, input, expected) => {
    expect(evaluate(parseCondition(text), input)).toBe(expected);
  });

  it.each([
    ["after.status = 'paid'", /unexpected "=" at character 14/],
    ["after.status == ", /unexpected end \(expected a value\) at character 17/],
    ['status == 1', /unknown name "status" .* at character 1/],
    ["op in 'c'", /"in" wants a \[list\] at character 4/],
    ["(op == 'c'", /expected "\)"/],
    ['eval(1)', /unknown name "eval"/],
  ])('rejects %s with its position', (text, message) => {
    expect(() => parseCondition(text)).toThrow(ExpressionError);
    expect(() => parseCondition(text)).toThrow(message);
  });

  it('is a validate error', () => {
    const parsed = filterTransformSchema.safeParse({ type: 'filter', condition: 'after.x ==' });
    expect(parsed.error?.issues[0].message).toBe('unexpected end (expected a value) at character 11 in "after.x =="');
  });
});

describe('filter transform', () => {
  it('drops what the condition rejects, passes other tables and messages', () => {
    const t = transforms({ type: 'filter', condition: "after.status == 'paid'", tables: ['public.orders'] });
    expect(t.apply(orders.insert(1, 7, 'paid'))).not.toBeNull();
    expect(t.apply(orders.insert(1, 7, 'new'))).toBeNull();
    const other = transforms({ type: 'filter', condition: "after.status == 'paid'", tables: ['public.other'] });
    expect(other.apply(orders.insert(1, 7, 'new'))).not.toBeNull();
  });

  it('stops on a column the table does not have: at start-up for named tables, at the first change for globs', async () => {
    const t = transforms({ type: 'filter', condition: 'after.state == 1', tables: ['public.orders'] });
    const describe = async () => ({ columns: ['id', 'tenant_id', 'status', 'email'], keyColumns: ['id'], replicaIdentity: 'default' as const, identityColumns: ['id'] });
    await expect(t.check!(describe as never)).rejects.toThrow(/names column state, which public.orders does not have/);
    const globbed = transforms({ type: 'filter', condition: 'after.state == 1' });
    expect(() => globbed.apply(orders.insert())).toThrow(OperatorError);
  });
});
