/**
 * The type matrix that Debezium 3.6.1 and slotline stream side by side
 * (./debezium-parity-support.ts): every type either maps (scalars, arrays,
 * extension types, domains, enums), with edge values (NaN, infinity, 24:00, BC
 * dates, multi-dimensional arrays, NULL elements), TOASTed values left
 * unchanged by an update, and the types Debezium leaves out. Each column is
 * [name, type, value of row 1, value of row 3] as SQL literals; row 2 holds NULLs.
 */

type Column = [name: string, type: string, edge: string, typical: string];

const SCALARS: Column[] = [
  ['c_bool', 'boolean', 'false', 'true'],
  ['c_bit1', 'bit(1)', "B'1'", "B'0'"],
  ['c_bit5', 'bit(5)', "B'10100'", "B'00000'"],
  ['c_varbit', 'varbit', "B'1'", "B'101010101'"],
  ['c_int2', 'smallint', '-32768', '7'],
  ['c_int4', 'integer', '2147483647', '-7'],
  ['c_int8', 'bigint', '9223372036854775807', '-7'],
  ['c_oid', 'oid', '4294967295', '7'],
  ['c_float4', 'real', "'NaN'", '1.1'],
  ['c_float8', 'double precision', "'-Infinity'", '0.30000000000000004'],
  ['c_num102', 'numeric(10,2)', "'NaN'", '-12.34'],
  ['c_num', 'numeric', "'Infinity'", '12.340'],
  ['c_num_neg', 'numeric(5,-2)', '12345', '-200'],
  ['c_money', 'money', '-1234567.89', '1.5'],
  ['c_char5', 'char(5)', "'ab'", "'abcde'"],
  ['c_varchar', 'varchar(10)', "''", "'Widget'"],
  ['c_text', 'text', `E'a"b\\\\c\\n'`, "'plain'"],
  ['c_name', 'name', "'pg_class'", "'x'"],
  ['c_qchar', '"char"', "'a'", "'z'"],
  ['c_citext', 'citext', "'MiXed'", "'x'"],
  ['c_uuid', 'uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"],
  ['c_json', 'json', `'{"a": [1, 2]}'`, "'null'"],
  ['c_jsonb', 'jsonb', `'{"b": 1, "a": 2}'`, "'[]'"],
  ['c_xml', 'xml', "'<a>1</a>'", "'<b/>'"],
  ['c_tsvector', 'tsvector', "'a fat cat'", "''"],
  ['c_ltree', 'ltree', "'a.b.c'", "'top'"],
  ['c_hstore', 'hstore', `'a=>1, b=>NULL'`, "''"],
  ['c_inet', 'inet', "'10.1.2.3/16'", "'::1'"],
  ['c_cidr', 'cidr', "'10.1.0.0/16'", "'2001:db8::/32'"],
  ['c_macaddr', 'macaddr', "'08:00:2b:01:02:03'", "'00:00:00:00:00:00'"],
  ['c_macaddr8', 'macaddr8', "'08:00:2b:01:02:03:04:05'", "'00:00:00:00:00:00:00:00'"],
  ['c_int4range', 'int4range', "'[1,10)'", "'empty'"],
  ['c_int8range', 'int8range', "'(,5]'", "'[1,2)'"],
  ['c_numrange', 'numrange', "'[1.5,2.5]'", "'(,)'"],
  ['c_tsrange', 'tsrange', "'[2020-01-01 10:00,2020-01-02)'", "'empty'"],
  ['c_tstzrange', 'tstzrange', "'[2020-01-01 10:00+00,infinity)'", "'empty'"],
  ['c_daterange', 'daterange', "'[2020-01-01,2020-02-01)'", "'empty'"],
  ['c_mood', 'mood', "'sad'", "'happy'"],
  ['c_price', 'price', '12.5', '0'],
  ['c_bytea', 'bytea', "'\\x00ff10'", "''"],
  ['c_date', 'date', "'infinity'", "'0044-03-15 BC'"],
  ['c_date2', 'date', "'-infinity'", "'2020-02-29'"],
  ['c_time', 'time', "'24:00:00'", "'10:00:00.123456'"],
  ['c_time3', 'time(3)', "'23:59:59.999'", "'00:00:00'"],
  ['c_timetz', 'timetz', "'24:00:00+00'", "'10:00:00.123456+05:30'"],
  ['c_ts', 'timestamp', "'infinity'", "'2020-01-01 10:00:00.123456'"],
  ['c_ts3', 'timestamp(3)', "'-infinity'", "'1969-12-31 23:59:59.999'"],
  ['c_ts_bc', 'timestamp', "'0044-03-15 12:00:00 BC'", "'1500-01-01 00:00:00'"],
  ['c_tstz', 'timestamptz', "'-infinity'", "'2020-01-01 10:00:00.5+02'"],
  ['c_tstz0', 'timestamptz(0)', "'infinity'", "'2020-01-01 10:00:00+00'"],
  ['c_interval', 'interval', "'1 year 2 months 3 days 04:05:06.789'", "'-1 day'"],
  ['c_point', 'point', "'(1.5,-2)'", "'(0,0)'"],
];

const ARRAYS: Column[] = [
  ['a_int2', 'smallint[]', "'{1,NULL,-32768}'", "'{}'"],
  ['a_int4', 'integer[]', "'{1,2,3}'", "'{NULL}'"],
  ['a_int8', 'bigint[]', "'{9223372036854775807}'", "'{1}'"],
  ['a_oid', 'oid[]', "'{4294967295}'", "'{1}'"],
  ['a_qchar', '"char"[]', "'{a,b}'", "'{c}'"],
  ['a_varchar', 'varchar(5)[]', `'{"a b",NULL,""}'`, "'{x}'"],
  ['a_text', 'text[]', `'{"a,b","c\\"d"}'`, "'{NULL}'"],
  ['a_bpchar', 'char(3)[]', "'{a,bc}'", "'{xyz}'"],
  ['a_inet', 'inet[]', "'{10.0.0.1,::1}'", "'{}'"],
  ['a_cidr', 'cidr[]', "'{10.0.0.0/8}'", "'{}'"],
  ['a_macaddr', 'macaddr[]', "'{08:00:2b:01:02:03}'", "'{}'"],
  ['a_macaddr8', 'macaddr8[]', "'{08:00:2b:01:02:03:04:05}'", "'{}'"],
  ['a_tsrange', 'tsrange[]', `'{"[2020-01-01,2020-01-02)"}'`, "'{empty}'"],
  ['a_tstzrange', 'tstzrange[]', `'{"[2020-01-01 00:00+00,2020-01-02 00:00+00)"}'`, "'{empty}'"],
  ['a_daterange', 'daterange[]', `'{"[2020-01-01,2020-01-05)"}'`, "'{empty}'"],
  ['a_int4range', 'int4range[]', `'{"[1,5)",empty}'`, "'{}'"],
  ['a_numrange', 'numrange[]', `'{"[1.5,2)"}'`, "'{}'"],
  ['a_int8range', 'int8range[]', `'{"[1,5)"}'`, "'{}'"],
  ['a_num', 'numeric[]', "'{1.5,NaN}'", "'{1.5,-2.25,NULL,300}'"],
  ['a_num_inf', 'numeric[]', "'{Infinity}'", "'{0.000}'"],
  ['a_num52', 'numeric(5,2)[]', "'{1.50,NaN}'", "'{1.50,-2.25}'"],
  ['a_num_neg', 'numeric(5,-2)[]', "'{12345,-200}'", "'{}'"],
  ['a_float4', 'real[]', "'{NaN,Infinity,1.1}'", "'{-0}'"],
  ['a_float8', 'double precision[]', "'{-Infinity,1e-7,100}'", "'{0.1}'"],
  ['a_bool', 'boolean[]', "'{t,f,NULL}'", "'{}'"],
  ['a_date', 'date[]', "'{infinity,-infinity,2020-02-29}'", "'{0044-03-15 BC,1582-10-10,1500-01-01}'"],
  ['a_time', 'time[]', "'{24:00:00,10:00:00.123456}'", "'{00:00:00.000001,23:59:59.999999}'"],
  ['a_time3', 'time(3)[]', "'{10:00:00.123,24:00:00}'", "'{}'"],
  ['a_timetz', 'timetz[]', "'{24:00:00+00,10:00:00.123456+05:30}'", "'{00:00:00-08}'"],
  ['a_ts', 'timestamp[]', `'{infinity,-infinity,"2020-01-01 10:00:00.123456"}'`, `'{"0044-03-15 12:00:00 BC","1500-01-01 00:00:00","1969-12-31 23:59:59.999999"}'`],
  ['a_ts3', 'timestamp(3)[]', `'{"2020-01-01 10:00:00.123"}'`, "'{}'"],
  ['a_tstz', 'timestamptz[]', `'{infinity,-infinity,"2020-01-01 10:00:00.123456+02"}'`, `'{"0044-03-15 12:00:00+00 BC","1500-01-01 00:00:00+00"}'`],
  ['a_tstz0', 'timestamptz(0)[]', `'{"2020-01-01 10:00:00+00"}'`, "'{}'"],
  ['a_uuid', 'uuid[]', "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'", "'{}'"],
  ['a_json', 'json[]', `ARRAY['{"a": 1}'::json, NULL]`, "'{}'"],
  ['a_jsonb', 'jsonb[]', `ARRAY['{"a": 1}'::jsonb]`, "'{}'"],
  ['a_bytea', 'bytea[]', `'{"\\\\x00ff",NULL}'`, "'{}'"],
  ['a_citext', 'citext[]', "'{A,b}'", "'{}'"],
  ['a_hstore', 'hstore[]', `ARRAY['a=>1'::hstore, NULL]`, "'{}'"],
  ['a_ltree', 'ltree[]', "'{a.b,c}'", "'{a,NULL}'"],
  ['a_mood', 'mood[]', "'{sad,happy}'", "'{}'"],
  ['a_tsvector', 'tsvector[]', `'{"a b"}'`, "'{}'"],
  ['a_bit3', 'bit(3)[]', "'{101,010}'", "'{}'"],
  ['a_bit1', 'bit(1)[]', "'{1,0}'", "'{}'"],
  ['a_price', 'price[]', "'{1.50}'", "'{}'"],
  ['m_int4', 'integer[]', "'{{1,2},{3,4},{5,6}}'", "'{{{1,2},{3,4}},{{5,6},{7,8}}}'"],
  ['m_text', 'text[]', "'{{a,b},{c,d}}'", "'[0:1][1:1]={{a},{b}}'"],
  ['m_date', 'date[]', "'{{2020-01-01},{2020-01-02}}'", "'{}'"],
  ['m_num', 'numeric[]', "'{{1.5},{2}}'", "'{}'"],
];

/** Debezium 3.6.1 leaves these columns out; int2vector and oidvector it reads as empty arrays. */
const DROPPED: Column[] = [
  ['d_box', 'box', "'((1,2),(3,4))'", "'((0,0),(0,0))'"],
  ['d_lseg', 'lseg', "'[(1,2),(3,4)]'", "'[(0,0),(1,1)]'"],
  ['d_path', 'path', "'((1,2),(3,4))'", "'[(0,0),(1,1)]'"],
  ['d_polygon', 'polygon', "'((1,2),(3,4),(5,6))'", "'((0,0),(1,1),(1,0))'"],
  ['d_circle', 'circle', "'<(1,2),3>'", "'<(0,0),1>'"],
  ['d_line', 'line', "'{1,2,3}'", "'{1,-1,0}'"],
  ['d_money_arr', 'money[]', "'{1.50}'", "'{}'"],
  ['d_name_arr', 'name[]', "'{a,b}'", "'{}'"],
  ['d_interval_arr', 'interval[]', "'{1 day}'", "'{}'"],
  ['d_varbit_arr', 'varbit[]', "'{101}'", "'{}'"],
  ['d_xml_arr', 'xml[]', "'{<a/>}'", "'{}'"],
  ['d_point_arr', 'point[]', `'{"(1,2)"}'`, "'{}'"],
  ['d_domain_arr', 'posint[]', "'{1,2}'", "'{}'"],
  ['d_composite', 'pair', "'(1,x)'", "'(,)'"],
  ['d_multirange', 'int4multirange', "'{[1,3),[5,7)}'", "'{}'"],
  ['d_tsquery', 'tsquery', "'a & b'", "'x'"],
  ['d_pg_lsn', 'pg_lsn', "'16/B374D848'", "'0/0'"],
  ['d_jsonpath', 'jsonpath', "'$.a'", "'$'"],
  ['d_xid', 'xid', "'123'", "'1'"],
  ['d_xid8', 'xid8', "'456'", "'1'"],
  ['d_cid', 'cid', "'7'", "'1'"],
  ['d_tid', 'tid', "'(1,2)'", "'(0,1)'"],
  ['d_txid_snapshot', 'txid_snapshot', "'10:20:10,14,15'", "'1:1:'"],
  ['d_pg_snapshot', 'pg_snapshot', "'10:20:10,14,15'", "'1:1:'"],
  ['d_regclass', 'regclass', "'pg_class'", "'pg_type'"],
  ['d_aclitem', 'aclitem', "'postgres=arwdDxt/postgres'", "'=r/postgres'"],
  ['d_refcursor', 'refcursor', "'cur'", "'c2'"],
  ['d_int2vector', 'int2vector', "'1 2'", "'3'"],
  ['d_oidvector', 'oidvector', "'3 4'", "''"],
];

/**
 * Stored out of line (SET STORAGE EXTERNAL) and left unchanged by an update:
 * [name, type, value expression over i in 1..n, n]. Each value is over 2 kB on
 * its own, so the toaster moves every one of them out of the row.
 */
const TOASTED: [name: string, type: string, expression: string, n: number][] = [
  ['t_text', 'text', "string_agg(md5(i::text), '')", 100],
  ['t_bytea', 'bytea', "string_agg(md5(i::text), '')::bytea", 100],
  ['t_num', 'numeric', "(string_agg((i % 10)::text, '') || '.5')::numeric", 6000],
  ['t_jsonb', 'jsonb', 'jsonb_agg(i)', 1000],
  ['t_xml', 'xml', 'xmlagg(xmlelement(name a, i))', 400],
  ['t_hstore', 'hstore', 'hstore(array_agg(i::text), array_agg(md5(i::text)))', 100],
  ['t_citext', 'citext', "string_agg(md5(i::text), '')::citext", 100],
  ['t_domain', 'dtext', "string_agg(md5(i::text), '')", 100],
  ['t_varbit', 'varbit', "string_agg((i % 2)::text, '')::varbit", 30000],
  ['t_text_arr', 'text[]', 'array_agg(md5(i::text))', 100],
  ['t_varchar_arr', 'varchar(40)[]', 'array_agg(md5(i::text))', 100],
  ['t_jsonb_arr', 'jsonb[]', 'array_agg(to_jsonb(i))', 500],
  ['t_bytea_arr', 'bytea[]', 'array_agg(md5(i::text)::bytea)', 100],
  ['t_int4_arr', 'integer[]', 'array_agg(i)', 1000],
  ['t_date_arr', 'date[]', "array_agg('2020-01-01'::date + i)", 1000],
  ['t_int8_arr', 'bigint[]', 'array_agg(i::bigint)', 500],
  ['t_uuid_arr', 'uuid[]', 'array_agg(md5(i::text)::uuid)', 200],
  ['t_int2_arr', 'smallint[]', 'array_agg(i::smallint)', 2000],
  ['t_float8_arr', 'double precision[]', 'array_agg(i + 0.5)', 500],
  ['t_num_arr', 'numeric[]', 'array_agg(i + 0.25)', 500],
  ['t_bool_arr', 'boolean[]', 'array_agg(i % 2 = 0)', 4000],
  ['t_inet_arr', 'inet[]', "array_agg(('10.0.' || (i % 250) || '.1')::inet)", 500],
  ['t_tstz_arr', 'timestamptz[]', "array_agg('2020-01-01 00:00:00+00'::timestamptz + i * interval '1 s')", 500],
  ['t_mood_arr', 'mood[]', "array_agg('sad'::mood)", 1000],
  ['t_domain_arr', 'textarr', 'array_agg(md5(i::text))', 100],
  ['t_hstore_arr', 'hstore[]', "array_agg(hstore('k', md5(i::text)))", 100],
];

export const MATRIX_TABLE = 'public.parity_types';
/** TOASTed values: inserted, then left unchanged by an update of another column. */
export const TOAST_TABLE = 'public.parity_toast';
/** A table whose primary key has a type Debezium leaves out: its key struct is empty in strict mode. */
export const DROPPED_KEY_TABLE = 'public.parity_lsn_key';
/** REPLICA IDENTITY FULL: an unchanged TOAST value comes from the old row. */
export const FULL_TABLE = 'public.parity_full';
export const PARITY_TABLES = [MATRIX_TABLE, TOAST_TABLE, DROPPED_KEY_TABLE, FULL_TABLE];

const COLUMNS = [...SCALARS, ...ARRAYS, ...DROPPED];

export const SETUP_SQL = `
CREATE EXTENSION IF NOT EXISTS hstore; CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS ltree;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN price AS numeric(10,2);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN dtext AS text;
CREATE DOMAIN textarr AS text[];
CREATE TABLE ${MATRIX_TABLE} (
  id int PRIMARY KEY,
  n_name name NOT NULL DEFAULT 'x',
  n_time time NOT NULL DEFAULT '00:00',
  ${COLUMNS.map(([name, type]) => `${name} ${type}`).join(',\n  ')}
);
CREATE TABLE ${TOAST_TABLE} (id int PRIMARY KEY, note text, ${TOASTED.map(([name, type]) => `${name} ${type}`).join(', ')});
ALTER TABLE ${TOAST_TABLE} ${TOASTED.map(([name]) => `ALTER COLUMN ${name} SET STORAGE EXTERNAL`).join(', ')};
CREATE TABLE ${DROPPED_KEY_TABLE} (id pg_lsn PRIMARY KEY, note text);
CREATE TABLE ${FULL_TABLE} (id int PRIMARY KEY, note text, t_float8_arr double precision[], t_text text);
ALTER TABLE ${FULL_TABLE} REPLICA IDENTITY FULL, ALTER COLUMN t_float8_arr SET STORAGE EXTERNAL, ALTER COLUMN t_text SET STORAGE EXTERNAL;
`;

const insert = (id: number, pick: (c: Column) => string): string =>
  `INSERT INTO ${MATRIX_TABLE} (id, n_name, ${COLUMNS.map(([name]) => name).join(', ')}) VALUES (${id}, 'nn', ${COLUMNS.map(pick).join(', ')})`;
const series = (expression: string, n: number): string => `(SELECT ${expression} FROM generate_series(1, ${n}) i)`;

/** The changes both tools stream, each statement its own transaction. */
export const CHANGE_SQL: string[] = [
  insert(1, ([, , edge]) => edge),
  `INSERT INTO ${MATRIX_TABLE} (id) VALUES (2)`,
  insert(3, ([, , , typical]) => typical),
  `UPDATE ${MATRIX_TABLE} SET c_int4 = 0 WHERE id = 1`,
  // DEFAULT identity: before holds the key, the NOT NULL columns' defaults or fallbacks, and NULL elsewhere.
  `DELETE FROM ${MATRIX_TABLE} WHERE id = 3`,
  `INSERT INTO ${TOAST_TABLE} VALUES (1, 'a', ${TOASTED.map(([, , expression, n]) => series(expression, n)).join(', ')})`,
  // The TOASTed columns are not sent again: each gets Debezium's placeholder, or loses its value.
  `UPDATE ${TOAST_TABLE} SET note = 'b'`,
  `INSERT INTO ${DROPPED_KEY_TABLE} VALUES ('1/0', 'a')`,
  `UPDATE ${DROPPED_KEY_TABLE} SET note = 'b'`,
  `INSERT INTO ${FULL_TABLE} VALUES (1, 'a', ${series('array_agg(i + 0.5)', 500)}, ${series("string_agg(md5(i::text), '')", 100)})`,
  `UPDATE ${FULL_TABLE} SET note = 'b'`,
];

/** Records each table's topic gets: one per change, and a tombstone after the delete. */
export const EXPECTED_RECORDS: Record<string, number> = { [MATRIX_TABLE]: 6, [TOAST_TABLE]: 2, [DROPPED_KEY_TABLE]: 2, [FULL_TABLE]: 2 };
