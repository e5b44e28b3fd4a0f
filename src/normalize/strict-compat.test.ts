/**
 * `debezium_compat: strict`: each way Debezium 3.6.1 differs from slotline's
 * default, as schema JSON and value JSON. The expected values are what a real
 * Debezium 3.6.1 wrote for the same Postgres text (bench/debezium-parity.ts,
 * Kafka Connect's JsonConverter, JVM in UTC); none comes from slotline.
 */
import { describe, expect, it } from 'vitest';
import { schemaJson, writeValue } from './json-converter.ts';
import type { NormalizeOptions } from './options.ts';
import { OID } from './pg-types.ts';
import { DEBEZIUM_FAILS, DEBEZIUM_NULL } from './strict-compat.ts';
import { lookup, numericMod, options, T } from './testing.ts';
import { mapColumnType } from './type-mapping.ts';

const strict = (overrides: Partial<NormalizeOptions> = {}): NormalizeOptions => options({ debeziumCompat: 'strict', ...overrides });
const map = (oid: number, typmod = -1, overrides: Partial<NormalizeOptions> = {}) => mapColumnType(oid, typmod, lookup, strict(overrides));

const named = (type: string, name: string, extra = ''): string => `{"type":"${type}","optional":false,"name":"${name}","version":1${extra}}`;
const arr = (items: string): string => `{"type":"array","items":${items},"optional":false}`;
const VSD = '{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],'
  + '"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal"}';

/** Base64 of BigInteger.toByteArray() for a positive n (a sign byte when the top bit is set). */
function bigIntegerBase64(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex[0], 16) >= 8) hex = `00${hex}`;
  return Buffer.from(hex, 'hex').toString('base64');
}

describe('strict: columns Debezium leaves out', () => {
  it.each([
    ['box', 603], ['lseg', 601], ['path', 602], ['polygon', 604], ['circle', 718], ['line', 628],
    ['money[]', 791], ['name[]', 1003], ['interval[]', 1187], ['varbit[]', 1563], ['xml[]', 143], ['point[]', 1017], ['refcursor[]', 2201],
    ['array of a domain', T.priceArray], ['composite', T.pair], ['int4multirange', 4451], ['tsquery', 3615], ['pg_lsn', 3220],
    ['jsonpath', 4072], ['xid', 28], ['xid8', 5069], ['cid', 29], ['tid', 27], ['txid_snapshot', 2970], ['pg_snapshot', 5038],
    ['regclass', 2205], ['aclitem', 1033], ['refcursor', 1790],
  ])('%s', (_label, oid) => {
    expect(map(oid)).toBeUndefined();
    // The default keeps them as text.
    expect(mapColumnType(oid, -1, lookup, options())?.via).toBe('text');
  });
});

type Case = [label: string, oid: number, typmod: number, text: string, schema: string, value: string, opts?: Partial<NormalizeOptions>];

const values: Case[] = [
  // int2vector and oidvector have typcategory A: Debezium takes them for arrays, and pgjdbc reads `1 2` as no elements.
  ['int2vector', 22, -1, '1 2', arr('{"type":"int16","optional":false}'), '[]'],
  ['oidvector', 30, -1, '3 4', arr('{"type":"int64","optional":false}'), '[]'],
  // numeric(p,-s): pgjdbc reads the 11-bit scale -2 as 2046.
  ['numeric(5,-2)', OID.numeric, ((5 << 16) | (-2 & 0x7ff)) + 4, '12300',
    named('bytes', 'org.apache.kafka.connect.data.Decimal', ',"parameters":{"scale":"2046","connect.decimal.precision":"5"}'), `"${bigIntegerBase64(123n * 10n ** 2048n)}"`],
  ['numeric(5,-2) string', OID.numeric, ((5 << 16) | (-2 & 0x7ff)) + 4, '-200', '{"type":"string","optional":false}', `"-200.${'0'.repeat(2046)}"`, { decimalHandlingMode: 'string' }],
  ['numeric(5,-2) double', OID.numeric, ((5 << 16) | (-2 & 0x7ff)) + 4, '12300', '{"type":"double","optional":false}', '12300.0', { decimalHandlingMode: 'double' }],
  // Multi-dimensional arrays: one null per sub-array of the first dimension.
  ['int4[][]', 1007, -1, '{{1,2},{3,4},{5,6}}', arr('{"type":"int32","optional":true}'), '[null,null,null]'],
  ['int4[][][]', 1007, -1, '{{{1,2},{3,4}},{{5,6},{7,8}}}', arr('{"type":"int32","optional":true}'), '[null,null]'],
  ['text[][] (Debezium: JVM identity strings)', 1009, -1, '[0:1][1:1]={{a},{b}}', arr('{"type":"string","optional":true}'), '[null,null]'],
  ['numeric[][]', 1231, -1, '{{1.5},{2}}', arr(VSD), '[null,null]'],
  ['numeric[] without specials', 1231, -1, '{1.5,-2.25,NULL}', arr(VSD), '[{"scale":1,"value":"Dw=="},{"scale":2,"value":"/x8="},null]'],
  // Array elements through java.sql.Date/Time/Timestamp.
  ['date[] infinity', 1182, -1, '{infinity,-infinity,2020-02-29}', arr('{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1}'), '[-622191234,-625821272,18321]'],
  ['date[] before 1582, and BC', 1182, -1, '{0044-03-15 BC,1582-10-10,1500-01-01}', arr('{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1}'), '[-703383,-141422,-171664]'],
  ['date[] connect', 1182, -1, '{0044-03-15 BC}', arr('{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1}'), '[-703383]', { timePrecisionMode: 'connect' }],
  ['time[] 24:00 and µs', 1183, -1, '{24:00:00,10:00:00.123456}', arr('{"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1}'), '[0,36000123000]'],
  ['time[] truncates to ms', 1183, -1, '{00:00:00.000001,23:59:59.999999}', arr('{"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1}'), '[0,86399999000]'],
  ['time(3)[] 24:00', 1183, 3, '{10:00:00.123,24:00:00}', arr('{"type":"int32","optional":true,"name":"io.debezium.time.Time","version":1}'), '[36000123,0]'],
  ['timetz[] whole seconds', 1270, -1, '{24:00:00+00,10:00:00.123456+05:30}', arr('{"type":"string","optional":true,"name":"io.debezium.time.ZonedTime","version":1}'), '["00:00:00Z","04:30:00Z"]'],
  ['timestamp[] Julian before 1582', 1115, -1, '{"0044-03-15 12:00:00 BC","1500-01-01 00:00:00","1969-12-31 23:59:59.999999"}',
    arr('{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1}'), '[-63517953600000000,-14830992000000000,-1]'],
  ['timestamp[] connect', 1115, -1, '{"0044-03-15 12:00:00 BC"}', arr('{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1}'), '[-63517953600000]', { timePrecisionMode: 'connect' }],
  ['timestamptz[] -infinity', 1185, -1, '{infinity,-infinity,"2020-01-01 08:00:00.123456+00"}', arr('{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1}'),
    '["infinity","+292269055-12-02T23:00:00.000000Z","2020-01-01T08:00:00.123456Z"]'],
  ['timestamptz[] loses the era', 1185, -1, '{"0044-03-15 12:00:00+00 BC","1500-01-01 00:00:00+00"}', arr('{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1}'),
    '["0044-03-15T12:00:00.000000Z","1500-01-01T00:00:00.000000Z"]'],
  // Scalars keep java.time's reading.
  ['date BC (a scalar)', OID.date, -1, '0044-03-15 BC', named('int32', 'io.debezium.time.Date'), '-735160'],
  ['time 24:00 (a scalar)', OID.time, -1, '24:00:00', named('int64', 'io.debezium.time.MicroTime'), '86400000000'],
];

describe('strict: Debezium 3.6.1 schemas and values', () => {
  it.each(values)('%s', (_label, oid, typmod, text, schema, value, opts) => {
    const mapping = map(oid, typmod, opts)!;
    expect(schemaJson(mapping.schema)).toBe(schema);
    expect(writeValue(mapping.schema, mapping.convert(text))).toBe(value);
  });
});

describe('strict: values Debezium reads as NULL or fails', () => {
  it('name: read as SQL NULL (the column\'s NULL value: null, or "" when NOT NULL)', () => {
    const mapping = map(OID.name)!;
    expect(schemaJson(mapping.schema)).toBe('{"type":"string","optional":false}');
    expect(mapping.convert('pg_class')).toBe(DEBEZIUM_NULL);
  });

  it('an empty int2vector prints as \'\', which pgjdbc reads as NULL', () => {
    expect(map(22)!.convert('')).toBe(DEBEZIUM_NULL);
  });

  it.each([
    ['numeric[] with NaN', 1231, -1, '{1.5,NaN}', {}],
    ['numeric[] with Infinity, string mode', 1231, -1, '{Infinity}', { decimalHandlingMode: 'string' }],
    ['numeric(5,2)[] with NaN, double mode', 1231, numericMod(5, 2), '{1.50,NaN}', { decimalHandlingMode: 'double' }],
    ['ltree[] with a NULL element', T.ltreeArray, -1, '{a,NULL}', {}],
  ] as Array<[string, number, number, string, Partial<NormalizeOptions>]>)('%s fails the whole array', (_label, oid, typmod, text, opts) => {
    expect(map(oid, typmod, opts)!.convert(text)).toBe(DEBEZIUM_FAILS);
  });

  it('ltree[] without NULL elements converts', () => {
    expect(writeValue(map(T.ltreeArray)!.schema, map(T.ltreeArray)!.convert('{a.b,c}'))).toBe('["a.b","c"]');
  });

  it.each([['bit(3)[]', 3, named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"3"}')], ['bit(1)[]', 1, '{"type":"boolean","optional":false}']])(
    '%s: the element type\'s schema, and every value fails against it', (_label, typmod, schema) => {
      const mapping = map(1561, typmod)!;
      expect(schemaJson(mapping.schema)).toBe(schema);
      expect(mapping.convert('{101,010}')).toBe(DEBEZIUM_FAILS);
      expect(mapping.fallback).toBe(DEBEZIUM_FAILS);
    },
  );
});

describe('strict: unchanged-TOAST values', () => {
  const P = '"__debezium_unavailable_value"';
  const BYTES = '[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]';
  const toast: [label: string, oid: number, value: string | typeof DEBEZIUM_FAILS, opts?: Partial<NormalizeOptions>][] = [
    ['text', OID.text, P],
    ['a domain over text', T.email, P],
    ['text[]', 1009, `[${P}]`],
    ['varchar[]', 1015, `[${P}]`],
    ['jsonb[]', 3807, `[${P}]`],
    ['int4[]', 1007, BYTES],
    ['date[]', 1182, BYTES],
    ['date[], connect mode', 1182, DEBEZIUM_FAILS, { timePrecisionMode: 'connect' }],
    ['int8[]', 1016, BYTES],
    ['uuid[]', 2951, '["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]'],
    ['bytea[]', 1001, '["X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="]'],
    ['bytea[], base64 mode', 1001, DEBEZIUM_FAILS, { binaryHandlingMode: 'base64' }],
    ['bytea', OID.bytea, '"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="'],
    ['bytea, hex mode', OID.bytea, P, { binaryHandlingMode: 'hex' }],
    ['bytea, base64 mode', OID.bytea, DEBEZIUM_FAILS, { binaryHandlingMode: 'base64' }],
    ['bytea, base64-url-safe mode', OID.bytea, DEBEZIUM_FAILS, { binaryHandlingMode: 'base64-url-safe' }],
    ['hstore', T.hstore, '"{\\"__debezium_unavailable_value\\":\\"__debezium_unavailable_value\\"}"'],
    ['numeric, string mode', OID.numeric, P, { decimalHandlingMode: 'string' }],
    ['numeric', OID.numeric, DEBEZIUM_FAILS],
    ['varbit', OID.varbit, DEBEZIUM_FAILS],
    ['int2[] (no placeholder in Debezium)', 1005, DEBEZIUM_FAILS],
    ['float8[]', 1022, DEBEZIUM_FAILS],
    ['inet[]', 1041, DEBEZIUM_FAILS],
    ['timestamptz[]', 1185, DEBEZIUM_FAILS],
    ['enum[]', T.moodArray, DEBEZIUM_FAILS],
    ['citext[]', T.citextArray, DEBEZIUM_FAILS],
    ['hstore[]', T.hstoreArray, DEBEZIUM_FAILS],
    ['a domain over text[] (the marker goes by the declared type)', T.textArrayDomain, DEBEZIUM_FAILS],
  ];
  it.each(toast)('%s', (_label, oid, value, opts) => {
    const mapping = map(oid, -1, opts)!;
    if (value === DEBEZIUM_FAILS) expect(mapping.toast).toBe(DEBEZIUM_FAILS);
    else expect(writeValue(mapping.schema, mapping.toast)).toBe(value);
  });
});
