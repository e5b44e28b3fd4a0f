/**
 * The type catalog against a real PostgreSQL, and the normalizer's text
 * assumptions checked end to end: values printed by the server with the
 * replication session's settings, converted and written as JsonConverter JSON.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../../test/harness/context.ts';
import { schemaJson, writeValue } from '../normalize/json-converter.ts';
import { buildTableModel } from '../normalize/table-model.ts';
import { mapColumnType } from '../normalize/type-mapping.ts';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from '../normalize/options.ts';
import type { Relation } from '../types.ts';
import { createTypeCatalog, type TypeCatalog } from './type-catalog.ts';

const SESSION = '-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C';
const OPTIONS: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, topicPrefix: 'pg', database: 'app' };

let db: FreshDatabase;
let client: pg.Client;
let catalog: TypeCatalog;

beforeAll(async () => {
  db = await freshDatabase('type_catalog');
  client = new pg.Client({ connectionString: db.databaseUrl, options: SESSION });
  await client.connect();
  await client.query(`
    CREATE EXTENSION hstore; CREATE EXTENSION ltree; CREATE EXTENSION citext;
    CREATE TYPE mood AS ENUM ('sad', 'happy');
    ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
    CREATE DOMAIN price AS numeric(10,2);
    CREATE DOMAIN price_alias AS price;
    CREATE DOMAIN email AS text NOT NULL;
    CREATE TYPE pair AS (a int, b text);
  `);
  catalog = createTypeCatalog(client);
});

afterAll(async () => {
  await client?.end();
});

async function oidOf(type: string): Promise<number> {
  const { rows } = await client.query('SELECT $1::regtype::oid AS oid', [type]);
  return Number(rows[0].oid);
}

async function relationOf(table: string): Promise<Relation> {
  const { rows } = await client.query(
    `SELECT c.oid, a.attname, a.atttypid, a.atttypmod FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.oid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table],
  );
  return {
    relationId: Number(rows[0].oid),
    schema: 'public',
    table,
    replicaIdentity: 'default',
    columns: rows.map((r) => ({ name: r.attname, isKey: false, typeOid: Number(r.atttypid), typeMod: r.atttypmod })),
  };
}

describe('resolve / lookup', () => {
  it('loads enums with labels in enumsortorder order, domains, arrays of custom types and extension types', async () => {
    const oids = await Promise.all(['mood', 'mood[]', 'price_alias', 'email', 'pair', 'hstore', 'ltree[]', 'citext'].map(oidOf));
    await catalog.resolve(oids);
    const [mood, moodArray, priceAlias, email, pair, hstore, ltreeArray, citext] = oids.map((o) => catalog.lookup(o));
    expect(mood).toMatchObject({ name: 'mood', kind: 'enum', enumValues: ['sad', 'ok', 'happy'] });
    expect(moodArray).toMatchObject({ kind: 'array', elementOid: mood.oid });
    expect(priceAlias).toMatchObject({ kind: 'domain', baseTypmod: -1 });
    expect(catalog.lookup(priceAlias.baseOid)).toMatchObject({ name: 'price', kind: 'domain', baseOid: 1700, baseTypmod: (10 << 16 | 2) + 4 });
    expect(email).toMatchObject({ kind: 'domain', baseOid: 25, notNull: true });
    expect(pair.kind).toBe('composite');
    expect([hstore.name, hstore.schema, citext.name]).toEqual(['hstore', 'public', 'citext']);
    expect(catalog.lookup(ltreeArray.elementOid).name).toBe('ltree');
    expect(mapColumnType(priceAlias.oid, -1, catalog.lookup, OPTIONS)!.schema.parameters).toEqual({ scale: '2', 'connect.decimal.precision': '10' });
  });

  it('sees new enum labels when resolving again', async () => {
    await client.query("ALTER TYPE mood ADD VALUE 'ecstatic'");
    const mood = await oidOf('mood');
    await catalog.resolve([mood]);
    expect(catalog.lookup(mood).enumValues).toEqual(['sad', 'ok', 'happy', 'ecstatic']);
  });

  it('throws for a type it was never asked to resolve', () => {
    expect(() => catalog.lookup(999_999_999)).toThrow(/not resolved/);
  });
});

describe('resolveRelation', () => {
  it('reads NOT NULL (also from a NOT NULL domain), defaults and the primary key in key order', async () => {
    await client.query(`CREATE TABLE keyed (a int, b text, c email, d timestamptz DEFAULT now(), e serial, PRIMARY KEY (b, a))`);
    const meta = await catalog.resolveRelation(await relationOf('keyed'));
    expect(meta.keyColumns).toEqual(['b', 'a']);
    expect(Object.fromEntries([...meta.columns].map(([k, v]) => [k, v.notNull]))).toEqual({ a: true, b: true, c: true, d: false, e: true });
    expect(meta.columns.get('d')!.defaultExpression).toBe('now()');
    expect(meta.columns.get('e')!.defaultExpression).toBe("nextval('keyed_e_seq'::regclass)");
  });

  it('falls back to the first unique index by name over plain columns', async () => {
    await client.query(`CREATE TABLE uniq (x int NOT NULL, y int, z text);
      CREATE UNIQUE INDEX a_expr ON uniq (lower(z)); CREATE UNIQUE INDEX b_xy ON uniq (y, x); CREATE UNIQUE INDEX c_z ON uniq (z)`);
    expect((await catalog.resolveRelation(await relationOf('uniq'))).keyColumns).toEqual(['y', 'x']);
  });

  it('gives no key columns for a table with neither', async () => {
    await client.query('CREATE TABLE bare (v int)');
    expect((await catalog.resolveRelation(await relationOf('bare'))).keyColumns).toEqual([]);
  });

  it('prints literal defaults in the forms the default converter reads (Debezium schema defaults)', async () => {
    await client.query(`CREATE TABLE defaults (
      id serial PRIMARY KEY, n int DEFAULT -1, t text DEFAULT 'new', ts timestamp DEFAULT '2020-01-02 03:04:05',
      tz timestamptz(3) DEFAULT CURRENT_TIMESTAMP, i interval DEFAULT '1 day', b bit(1) DEFAULT B'1', m mood DEFAULT 'ok',
      p numeric(10,2) DEFAULT 1.5, f float8 DEFAULT 2.5, nul text DEFAULT NULL, d date DEFAULT '2024-05-01')`);
    const rel = await relationOf('defaults');
    await catalog.resolve(rel.columns.map((c) => c.typeOid));
    const model = buildTableModel(rel, catalog.lookup, OPTIONS, await catalog.resolveRelation(rel));
    const defaults = Object.fromEntries(model.columns.map((c) => [c.name, c.field.default === undefined ? undefined : writeValue(c.field, c.field.default)]));
    expect(defaults).toEqual({
      id: '0', n: '-1', t: '"new"', ts: '1577934245000000', tz: '"1970-01-01T00:00:00.000Z"', i: '86400000000', b: 'true', m: '"ok"',
      p: '"AJY="', f: '2.5', nul: undefined, d: '19844',
    });
    expect(schemaJson(model.schemas.key!)).toBe(
      '{"type":"struct","fields":[{"type":"int32","optional":false,"default":0,"field":"id"}],"optional":false,"name":"pg.public.defaults.Key"}',
    );
  });
});

describe('server text → Debezium JSON (replication session settings)', () => {
  // [SQL expression, expected JSON value]
  const cases: [string, string][] = [
    ["1.5::money * 1000", '"Aknw"'],
    ["'NaN'::float8", '"NaN"'],
    ["1.1::float4", '1.1'],
    ["'-0'::float8", '-0.0'],
    ["12.340::numeric", '{"scale":2,"value":"BNI="}'],
    ["12.34::numeric(10,2)", '"BNI="'],
    ["'\\x0102ff'::bytea", '"AQL/"'],
    ["'0044-03-15 BC'::date", '-735160'],
    ["'infinity'::date", '-2147472692'],
    ["'10:00:00.123456'::time", '36000123456'],
    ["'24:00:00'::time", '86400000000'],
    ["'2024-05-01 10:00:00.5'::timestamp", '1714557600500000'],
    ["'-infinity'::timestamp", '-9223372036832400000'],
    ["'2024-05-01 10:00:00+02'::timestamptz", '"2024-05-01T08:00:00.000000Z"'],
    ["'0044-03-15 10:00:00+00 BC'::timestamptz", '"-0043-03-15T10:00:00.000000Z"'],
    ["'10:00:00.123-03:30'::timetz", '"13:30:00.123Z"'],
    ["'1 year 2 mons 3 days 04:05:06.78'::interval", '37091106780000'],
    ["'-1 year +2 mons -3 days -04:05:06.78'::interval", '-26571906780000'],
    ["'101'::bit(3)", '"BQ=="'],
    ["'(1.5,2)'::point", '{"x":1.5,"y":2.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAABA","srid":null}'],
    ['\'{1,2,NULL}\'::int[]', '[1,2,null]'],
    ['\'{{1,2},{3,4}}\'::int[]', '[1,2,3,4]'],
    ['\'{"a b","c\\"d","e\\\\f",NULL,"NULL",""}\'::text[]', '["a b","c\\"d","e\\\\f",null,"NULL",""]'],
    ["array['\\x01'::bytea, '\\x'::bytea]", '["AQ==",""]'],
    ["array['2024-01-01 10:00:00+00'::timestamptz]", '["2024-01-01T10:00:00.000000Z"]'],
    ["'a=>1, \"b c\"=>NULL, x=>\"q\\\"uote\"'::hstore", '"{\\"a\\":\\"1\\",\\"b c\\":null,\\"x\\":\\"q\\\\\\"uote\\"}"'],
    ["'happy'::mood", '"happy"'],
    ["12.3::price_alias", '"BM4="'],
    ["'((0,0),(1,1))'::box", '"(1,1),(0,0)"'],
    ["row(1, 'a b')::pair", '"(1,\\"a b\\")"'],
  ];
  it.each(cases)('%s', async (expression, json) => {
    const { rows, fields } = await client.query({ text: `SELECT (${expression})::text AS v, pg_typeof(${expression})::oid AS t, ${typmodOf(expression)} AS m`, rowMode: 'array' });
    expect(fields.length).toBe(3);
    const [text, oid, typmod] = rows[0] as [string, string, number];
    await catalog.resolve([Number(oid)]);
    const mapping = mapColumnType(Number(oid), typmod, catalog.lookup, OPTIONS)!;
    expect(writeValue(mapping.schema, mapping.convert(text))).toBe(json);
  });
});

/** The typmod the expression's column would have, for the few cases that declare one. */
function typmodOf(expression: string): string {
  const m = /::(numeric|bit)\((\d+)(?:,(\d+))?\)$/.exec(expression);
  if (m === null) return '-1';
  return m[1] === 'bit' ? m[2] : String(((Number(m[2]) << 16) | Number(m[3] ?? 0)) + 4);
}
