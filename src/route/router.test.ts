import { describe, expect, it } from 'vitest';
import { createRouter, globToRegExp } from './router.ts';

describe('router', () => {
  const router = createRouter([
    { tables: ['public.*'], exclude_tables: ['public.audit_*'], messages: true },
    { tables: ['public.products', 'inventory.?tem'], exclude_tables: [], messages: false },
    { tables: ['*'], exclude_tables: [], messages: false },
  ]);

  it.each([
    ['public', 'products', [0, 1, 2]],
    ['public', 'orders', [0, 2]],
    ['public', 'audit_log', [2]],
    ['inventory', 'item', [1, 2]],
    ['inventory', 'items', [2]],
    ['Public', 'products', [2]],
  ])('%s.%s goes to sinks %j', (schema, table, expected) => {
    expect(router.sinksFor(schema, table)).toEqual(expected);
  });

  it('routes messages to sinks that ask for them', () => {
    expect(router.messageSinks()).toEqual([0]);
  });

  it('treats regex characters in names literally', () => {
    expect(globToRegExp('s.t(1)').test('s.t(1)')).toBe(true);
    expect(globToRegExp('s.t').test('sxt')).toBe(false);
    expect(globToRegExp('"My Schema".*').test('"My Schema".Ünïcode table')).toBe(true);
  });
});
