/**
 * The capture scope against a real catalog: listed tables, partitions (at any
 * depth) of a listed partitioned table, names that need quoting, and tables
 * the list leaves out — by relation id as the stream names them, and by name
 * as a snapshot lists them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../../test/harness/context.ts';
import { createTableScope } from './table-scope.ts';

let db: FreshDatabase;
let client: pg.Client;
const oid = async (name: string): Promise<number> => (await db.sql(`SELECT $1::regclass::oid::int AS oid`, [name]))[0].oid;

beforeAll(async () => {
  db = await freshDatabase('table_scope');
  await db.sql(`
    CREATE TABLE public.orders (id int PRIMARY KEY);
    CREATE TABLE public.products (id int PRIMARY KEY);
    CREATE TABLE public.readings (id int, site int, day int) PARTITION BY LIST (site);
    CREATE TABLE public.readings_1 PARTITION OF public.readings FOR VALUES IN (1) PARTITION BY RANGE (day);
    CREATE TABLE public.readings_1_a PARTITION OF public.readings_1 FOR VALUES FROM (0) TO (100);
    CREATE TABLE public.other (id int, site int) PARTITION BY LIST (site);
    CREATE TABLE public.other_1 PARTITION OF public.other FOR VALUES IN (1);
    CREATE SCHEMA "Sales";
    CREATE TABLE "Sales"."Order Lines" (id int PRIMARY KEY);
  `);
  client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

describe('createTableScope', () => {
  it('without a table list, captures everything and asks nothing', async () => {
    const scope = createTableScope(client, undefined);
    expect(scope.all).toBe(true);
    expect(scope.admit({ relationId: 1, schema: 'x', table: 'y' })).toBeUndefined();
    expect(scope.captured(1)).toBe(true);
    expect(await scope.includes({ schema: 'public', table: 'products' })).toBe(true);
  });

  it('captures the listed tables and the partitions of a listed partitioned table, nothing else', async () => {
    const scope = createTableScope(client, ['public.orders', 'public.readings', '"Sales"."Order Lines"']);
    const cases: Array<[string, string, string, boolean]> = [
      ['public.orders', 'public', 'orders', true],
      ['public.products', 'public', 'products', false],
      ['public.readings_1', 'public', 'readings_1', true],
      ['public.readings_1_a', 'public', 'readings_1_a', true],
      ['public.other_1', 'public', 'other_1', false],
      ['"Sales"."Order Lines"', 'Sales', 'Order Lines', true],
    ];
    for (const [qualified, schema, table, expected] of cases) {
      const relationId = await oid(qualified);
      await scope.admit({ relationId, schema, table });
      expect([qualified, scope.captured(relationId)]).toEqual([qualified, expected]);
      expect([qualified, await scope.includes({ schema, table })]).toEqual([qualified, expected]);
    }
    expect(scope.captured(123456789)).toBe(false); // never admitted
    expect(await scope.includes({ schema: 'public', table: 'no_such_table' })).toBe(false);
  });

  it('answers a listed name without asking the catalog', () => {
    const scope = createTableScope(client, ['public.orders']);
    expect(scope.admit({ relationId: 42, schema: 'public', table: 'orders' })).toBeUndefined();
    expect(scope.captured(42)).toBe(true);
  });
});
