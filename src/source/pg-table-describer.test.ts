/**
 * describeTable against a real PostgreSQL: columns in table order (dropped
 * ones left out), the event key's columns, and what old rows carry under each
 * replica identity.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../test/harness/context.ts';
import { createTableDescriber } from './pg-table-describer.ts';

let pool: pg.Pool;
let describeTable: ReturnType<typeof createTableDescriber>;

beforeAll(async () => {
  const db = await freshDatabase('table_describer');
  await db.sql(`
    CREATE TABLE public.products (id int PRIMARY KEY, slug text, gone int, price numeric);
    ALTER TABLE public.products DROP COLUMN gone;
    CREATE TABLE public.full_rows (a int, b int NOT NULL, c text);
    CREATE UNIQUE INDEX full_rows_b ON public.full_rows (b);
    ALTER TABLE public.full_rows REPLICA IDENTITY FULL;
    CREATE TABLE public.by_index (id int PRIMARY KEY, code text NOT NULL, note text);
    CREATE UNIQUE INDEX by_index_code ON public.by_index (code);
    ALTER TABLE public.by_index REPLICA IDENTITY USING INDEX by_index_code;
    CREATE TABLE public.silent (k int PRIMARY KEY, v text);
    ALTER TABLE public.silent REPLICA IDENTITY NOTHING;
    CREATE SCHEMA "Mixed";
    CREATE TABLE "Mixed"."Case" ("Id" int PRIMARY KEY);
  `);
  await db.sql('CREATE VIEW public.product_view AS SELECT id FROM public.products');
  pool = new pg.Pool({ connectionString: db.databaseUrl, max: 1 });
  describeTable = createTableDescriber(pool);
});

afterAll(async () => pool?.end());

describe('describeTable', () => {
  it.each([
    ['public', 'products', { columns: ['id', 'slug', 'price'], keyColumns: ['id'], replicaIdentity: 'default', identityColumns: ['id'] }],
    ['public', 'full_rows', { columns: ['a', 'b', 'c'], keyColumns: ['b'], replicaIdentity: 'full', identityColumns: ['a', 'b', 'c'] }],
    ['public', 'by_index', { columns: ['id', 'code', 'note'], keyColumns: ['id'], replicaIdentity: 'index', identityColumns: ['code'] }],
    ['public', 'silent', { columns: ['k', 'v'], keyColumns: ['k'], replicaIdentity: 'nothing', identityColumns: [] }],
    ['Mixed', 'Case', { columns: ['Id'], keyColumns: ['Id'], replicaIdentity: 'default', identityColumns: ['Id'] }],
  ])('%s.%s', async (schema, table, expected) => {
    expect(await describeTable({ schema, table })).toEqual(expected);
  });

  it.each([
    ['a missing table', 'public', 'nope'],
    ['a view', 'public', 'product_view'],
    ['a name in the wrong case', 'mixed', 'case'],
  ])('%s is null', async (_what, schema, table) => {
    expect(await describeTable({ schema, table })).toBeNull();
  });
});
