import { describe, expect, it } from 'vitest';
import { schemaJson, writeValue } from './json-converter.ts';
import type { NormalizeOptions } from './options.ts';
import { OID } from './pg-types.ts';
import { lookup, numericMod, options, T } from './testing.ts';
import { mapColumnType } from './type-mapping.ts';

type Case = [label: string, oid: number, typmod: number, text: string, schema: string, value: string, opts?: Partial<NormalizeOptions>];

const s = (type: string, extra = ''): string => `{"type":"${type}","optional":false${extra}}`;
const named = (type: string, name: string, extra = ''): string => `{"type":"${type}","optional":false,"name":"${name}","version":1${extra}}`;
const decimal = (scale: number, precision?: number): string =>
  named('bytes', 'org.apache.kafka.connect.data.Decimal', `,"parameters":{"scale":"${scale}"${precision === undefined ? '' : `,"connect.decimal.precision":"${precision}"`}}`);
const VSD = '{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],'
  + '"optional":false,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal"}';
const TEXT = '{"type":"string","optional":true}';
const arr = (items: string): string => `{"type":"array","items":${items},"optional":false}`;
/** The schema with its own (top-level) optional flag set. */
const opt = (schema: string): string => {
  let depth = 0;
  for (let i = 0; i < schema.length; i++) {
    if (schema[i] === '{' || schema[i] === '[') depth++;
    else if (schema[i] === '}' || schema[i] === ']') depth--;
    else if (depth === 1 && schema.startsWith('"optional":false', i)) return `${schema.slice(0, i)}"optional":true${schema.slice(i + 16)}`;
  }
  throw new Error('no optional flag');
};

const NUMERIC = numericMod(10, 2);

// Text inputs are what Postgres 17 prints with the replication session's settings
// (checked against a real server in src/source/type-catalog.test.ts).
const cases: Case[] = [
  ['bool true', OID.bool, -1, 't', s('boolean'), 'true'],
  ['bool false', OID.bool, -1, 'f', s('boolean'), 'false'],
  ['int2', OID.int2, -1, '-32768', s('int16'), '-32768'],
  ['int4', OID.int4, -1, '2147483647', s('int32'), '2147483647'],
  ['int8 beyond 2^53', OID.int8, -1, '9223372036854775807', s('int64'), '9223372036854775807'],
  ['oid', OID.oid, -1, '4294967295', s('int64'), '4294967295'],
  ['float4 shortest', OID.float4, -1, '1.1', s('float'), '1.1'],
  ['float4 exponent', OID.float4, -1, '3.4e+38', s('float'), '3.4E38'],
  ['float4 NaN', OID.float4, -1, 'NaN', s('float'), '"NaN"'],
  ['float4 -Infinity', OID.float4, -1, '-Infinity', s('float'), '"-Infinity"'],
  ['float8 integral', OID.float8, -1, '100', s('double'), '100.0'],
  ['float8 large', OID.float8, -1, '1e+300', s('double'), '1.0E300'],
  ['float8 small', OID.float8, -1, '1e-07', s('double'), '1.0E-7'],
  ['float8 negative zero', OID.float8, -1, '-0', s('double'), '-0.0'],
  ['float8 Infinity', OID.float8, -1, 'Infinity', s('double'), '"Infinity"'],
  ['float8 17 digits', OID.float8, -1, '0.30000000000000004', s('double'), '0.30000000000000004'],
  // numeric, decimal.handling.mode=precise (default)
  ['numeric(10,2)', OID.numeric, NUMERIC, '12.34', decimal(2, 10), '"BNI="'],
  ['numeric(10,2) negative', OID.numeric, NUMERIC, '-12.34', decimal(2, 10), '"+y4="'],
  ['numeric(10,2) zero', OID.numeric, NUMERIC, '0.00', decimal(2, 10), '"AA=="'],
  ['numeric(10,2) NaN is null', OID.numeric, NUMERIC, 'NaN', decimal(2, 10), 'null'],
  ['numeric(38,0) big', OID.numeric, numericMod(38, 0), '99999999999999999999999999999999999999', decimal(0, 38), '"SztMqFqGxHoJiiI//////w=="'],
  ['numeric(38,0) big negative', OID.numeric, numericMod(38, 0), '-99999999999999999999999999999999999999', decimal(0, 38), '"tMSzV6V5O4X2dd3AAAAAAQ=="'],
  ['numeric(20,6) 14 digits', OID.numeric, numericMod(20, 6), '-12345678.901234', decimal(6, 20), '"9MWMMdAO"'],
  ['numeric variable scale', OID.numeric, -1, '12.340', VSD, '{"scale":2,"value":"BNI="}'],
  ['numeric variable scale integer', OID.numeric, -1, '1200', VSD, '{"scale":0,"value":"BLA="}'],
  ['numeric variable scale zero', OID.numeric, -1, '0.000', VSD, '{"scale":0,"value":"AA=="}'],
  ['numeric variable scale Infinity is null', OID.numeric, -1, 'Infinity', VSD, 'null'],
  ['numeric double', OID.numeric, NUMERIC, '12.34', s('double'), '12.34', { decimalHandlingMode: 'double' }],
  ['numeric double NaN', OID.numeric, -1, 'NaN', s('double'), '"NaN"', { decimalHandlingMode: 'double' }],
  ['numeric double -Infinity', OID.numeric, -1, '-Infinity', s('double'), '"-Infinity"', { decimalHandlingMode: 'double' }],
  ['numeric string fixed', OID.numeric, NUMERIC, '-0.50', s('string'), '"-0.50"', { decimalHandlingMode: 'string' }],
  ['numeric string variable', OID.numeric, -1, '12.340', s('string'), '"12.340"', { decimalHandlingMode: 'string' }],
  ['numeric string NaN', OID.numeric, -1, 'NaN', s('string'), '"NAN"', { decimalHandlingMode: 'string' }],
  ['numeric string Infinity', OID.numeric, -1, 'Infinity', s('string'), '"POSITIVE_INFINITY"', { decimalHandlingMode: 'string' }],
  // money (lc_monetary=C prints $ and thousands separators)
  ['money precise', OID.money, -1, '$1,234.56', decimal(2), '"AeJA"'],
  ['money precise negative', OID.money, -1, '-$1.50', decimal(2), '"/2o="'],
  ['money 3 fraction digits', OID.money, -1, '$1,234.56', decimal(3), '"EtaA"', { moneyFractionDigits: 3 }],
  ['money double', OID.money, -1, '-$1,234,567.89', s('double'), '-1234567.89', { decimalHandlingMode: 'double' }],
  ['money string', OID.money, -1, '$1,234.56', s('string'), '"1234.56"', { decimalHandlingMode: 'string' }],
  // strings
  ['char(5) keeps padding', OID.bpchar, 9, 'abc  ', s('string'), '"abc  "'],
  ['varchar', OID.varchar, 68, 'Widget', s('string'), '"Widget"'],
  ['text escapes like Jackson', OID.text, -1, 'a"b\\c\n\u0001é', s('string'), '"a\\"b\\\\c\\n\\u0001é"'],
  ['name', OID.name, -1, 'pg_class', s('string'), '"pg_class"'],
  ['"char"', OID.char, -1, 'a', s('string'), '"a"'],
  ['uuid', OID.uuid, -1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', named('string', 'io.debezium.data.Uuid'), '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'],
  ['json', OID.json, -1, '{"b": 1,  "a":2}', named('string', 'io.debezium.data.Json'), '"{\\"b\\": 1,  \\"a\\":2}"'],
  ['jsonb', OID.jsonb, -1, '{"a": [1, 2]}', named('string', 'io.debezium.data.Json'), '"{\\"a\\": [1, 2]}"'],
  ['xml', OID.xml, -1, '<a>x</a>', named('string', 'io.debezium.data.Xml'), '"<a>x</a>"'],
  ['tsvector', 3614, -1, "'a' 'cat'", named('string', 'io.debezium.data.Tsvector'), `"'a' 'cat'"`],
  ['inet', 869, -1, '192.168.0.1/24', s('string'), '"192.168.0.1/24"'],
  ['cidr', 650, -1, '10.0.0.0/8', s('string'), '"10.0.0.0/8"'],
  ['macaddr', 829, -1, '08:00:2b:01:02:03', s('string'), '"08:00:2b:01:02:03"'],
  ['macaddr8', 774, -1, '08:00:2b:01:02:03:04:05', s('string'), '"08:00:2b:01:02:03:04:05"'],
  ['int4range', 3904, -1, '[1,10)', s('string'), '"[1,10)"'],
  ['tstzrange', 3910, -1, '["2024-01-01 10:00:00+00",infinity)', s('string'), '"[\\"2024-01-01 10:00:00+00\\",infinity)"'],
  // bytea, binary.handling.mode
  ['bytea bytes', OID.bytea, -1, '\\xfbff', s('bytes'), '"+/8="'],
  ['bytea empty', OID.bytea, -1, '\\x', s('bytes'), '""'],
  ['bytea base64', OID.bytea, -1, '\\xfbff', s('string'), '"+/8="', { binaryHandlingMode: 'base64' }],
  ['bytea base64-url-safe keeps padding', OID.bytea, -1, '\\xfbff', s('string'), '"-_8="', { binaryHandlingMode: 'base64-url-safe' }],
  ['bytea hex', OID.bytea, -1, '\\xfbff', s('string'), '"fbff"', { binaryHandlingMode: 'hex' }],
  // bit strings: Bits are little-endian, as short as the highest set bit
  ['bit(1)', OID.bit, 1, '1', s('boolean'), 'true'],
  ['bit(3)', OID.bit, 3, '101', named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"3"}'), '"BQ=="'],
  ['varbit(16)', OID.varbit, 16, '1000000000000001', named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"16"}'), '"AYA="'],
  ['bit(8) all zero', OID.bit, 8, '00000000', named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"8"}'), '""'],
  ['varbit unbounded', OID.varbit, -1, '11', named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"2147483647"}'), '"Aw=="'],
  ['varbit(1)', OID.varbit, 1, '0', s('boolean'), 'false'],
  // date, time.precision.mode
  ['date', OID.date, -1, '2024-05-01', named('int32', 'io.debezium.time.Date'), '19844'],
  ['date BC', OID.date, -1, '0044-03-15 BC', named('int32', 'io.debezium.time.Date'), '-735160'],
  ['date far future', OID.date, -1, '5874897-12-31', named('int32', 'io.debezium.time.Date'), '2145042905'],
  ['date infinity', OID.date, -1, 'infinity', named('int32', 'io.debezium.time.Date'), '-2147472692'],
  ['date -infinity', OID.date, -1, '-infinity', named('int32', 'io.debezium.time.Date'), '-2147472691'],
  ['date connect', OID.date, -1, '2024-05-01', named('int32', 'org.apache.kafka.connect.data.Date'), '19844', { timePrecisionMode: 'connect' }],
  ['time', OID.time, -1, '10:00:00.123456', named('int64', 'io.debezium.time.MicroTime'), '36000123456'],
  ['time 24:00', OID.time, -1, '24:00:00', named('int64', 'io.debezium.time.MicroTime'), '86400000000'],
  ['time(3)', OID.time, 3, '10:00:00.5', named('int32', 'io.debezium.time.Time'), '36000500'],
  ['time(3) adaptive_time_microseconds', OID.time, 3, '10:00:00.5', named('int64', 'io.debezium.time.MicroTime'), '36000500000', { timePrecisionMode: 'adaptive_time_microseconds' }],
  ['time connect', OID.time, -1, '10:00:00.123456', named('int32', 'org.apache.kafka.connect.data.Time'), '36000123', { timePrecisionMode: 'connect' }],
  ['timestamp', OID.timestamp, -1, '2024-05-01 10:00:00.5', named('int64', 'io.debezium.time.MicroTimestamp'), '1714557600500000'],
  ['timestamp(3)', OID.timestamp, 3, '2024-05-01 10:00:00.5', named('int64', 'io.debezium.time.Timestamp'), '1714557600500'],
  ['timestamp BC', OID.timestamp, -1, '0044-03-15 10:00:00 BC', named('int64', 'io.debezium.time.MicroTimestamp'), '-63517788000000000'],
  ['timestamp infinity', OID.timestamp, -1, 'infinity', named('int64', 'io.debezium.time.MicroTimestamp'), '9223372036825200000'],
  ['timestamp -infinity', OID.timestamp, -1, '-infinity', named('int64', 'io.debezium.time.MicroTimestamp'), '-9223372036832400000'],
  ['timestamp(3) infinity', OID.timestamp, 3, 'infinity', named('int64', 'io.debezium.time.Timestamp'), '9223372036825200'],
  ['timestamp(0) -infinity', OID.timestamp, 0, '-infinity', named('int64', 'io.debezium.time.Timestamp'), '-9223372036832400'],
  ['timestamp past int64 µs saturates', OID.timestamp, -1, '294276-12-31 23:59:59', named('int64', 'io.debezium.time.MicroTimestamp'), '9223372036854775807'],
  ['timestamp connect floors', OID.timestamp, -1, '1969-12-31 23:59:59.9995', named('int64', 'org.apache.kafka.connect.data.Timestamp'), '-1', { timePrecisionMode: 'connect' }],
  ['timestamptz', OID.timestamptz, -1, '2024-05-01 10:00:00+00', named('string', 'io.debezium.time.ZonedTimestamp'), '"2024-05-01T10:00:00.000000Z"'],
  ['timestamptz(3)', OID.timestamptz, 3, '2024-05-01 10:00:00.5+00', named('string', 'io.debezium.time.ZonedTimestamp'), '"2024-05-01T10:00:00.500Z"'],
  ['timestamptz(0)', OID.timestamptz, 0, '2024-05-01 10:00:00+00', named('string', 'io.debezium.time.ZonedTimestamp'), '"2024-05-01T10:00:00Z"'],
  ['timestamptz offset', OID.timestamptz, -1, '2024-05-01 00:30:00.25+05:30', named('string', 'io.debezium.time.ZonedTimestamp'), '"2024-04-30T19:00:00.250000Z"'],
  ['timestamptz BC', OID.timestamptz, -1, '0044-03-15 10:00:00+00 BC', named('string', 'io.debezium.time.ZonedTimestamp'), '"-0043-03-15T10:00:00.000000Z"'],
  ['timestamptz year > 9999', OID.timestamptz, -1, '294276-12-31 23:59:59+00', named('string', 'io.debezium.time.ZonedTimestamp'), '"+294276-12-31T23:59:59.000000Z"'],
  ['timestamptz infinity', OID.timestamptz, -1, 'infinity', named('string', 'io.debezium.time.ZonedTimestamp'), '"infinity"'],
  ['timetz', OID.timetz, -1, '10:00:00+02', named('string', 'io.debezium.time.ZonedTime'), '"08:00:00Z"'],
  ['timetz fraction', OID.timetz, -1, '10:00:00.123-03:30', named('string', 'io.debezium.time.ZonedTime'), '"13:30:00.123Z"'],
  ['timetz wraps midnight', OID.timetz, -1, '23:30:00-01', named('string', 'io.debezium.time.ZonedTime'), '"00:30:00Z"'],
  // interval, interval.handling.mode
  ['interval numeric', OID.interval, -1, 'P1Y2M3DT4H5M6.78S', named('int64', 'io.debezium.time.MicroDuration'), '37091106780000'],
  ['interval numeric negative', OID.interval, -1, 'P-10M-3DT-4H-5M-6.78S', named('int64', 'io.debezium.time.MicroDuration'), '-26571906780000'],
  ['interval numeric hours', OID.interval, -1, 'PT100000H', named('int64', 'io.debezium.time.MicroDuration'), '360000000000000'],
  ['interval string', OID.interval, -1, 'P1Y2M3DT4H5M6.78S', named('string', 'io.debezium.time.Interval'), '"P1Y2M3DT4H5M6.78S"', { intervalHandlingMode: 'string' }],
  ['interval string zero', OID.interval, -1, 'PT0S', named('string', 'io.debezium.time.Interval'), '"P0Y0M0DT0H0M0S"', { intervalHandlingMode: 'string' }],
  ['interval string negative', OID.interval, -1, 'PT-1.5S', named('string', 'io.debezium.time.Interval'), '"P0Y0M0DT0H0M-1.5S"', { intervalHandlingMode: 'string' }],
  ['interval string microsecond', OID.interval, -1, 'PT0.000001S', named('string', 'io.debezium.time.Interval'), '"P0Y0M0DT0H0M0.000001S"', { intervalHandlingMode: 'string' }],
  // geometry
  ['point', OID.point, -1, '(1.5,2)', '{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},'
    + '{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":false,"name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)"}',
  '{"x":1.5,"y":2.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAABA","srid":null}'],
  // types Debezium drops: their text as an optional string
  ['box', 603, -1, '(1,1),(0,0)', TEXT, '"(1,1),(0,0)"'],
  ['lseg', 601, -1, '[(0,0),(1,1)]', TEXT, '"[(0,0),(1,1)]"'],
  ['path', 602, -1, '((0,0),(1,1),(2,0))', TEXT, '"((0,0),(1,1),(2,0))"'],
  ['polygon', 604, -1, '((0,0),(1,1),(2,0))', TEXT, '"((0,0),(1,1),(2,0))"'],
  ['circle', 718, -1, '<(1,2),3>', TEXT, '"<(1,2),3>"'],
  ['line', 628, -1, '{1,2,3}', TEXT, '"{1,2,3}"'],
  ['tsquery', 3615, -1, "'fat' & 'cat'", TEXT, `"'fat' & 'cat'"`],
  ['pg_lsn', 3220, -1, '16/B374D848', TEXT, '"16/B374D848"'],
  ['xid', 28, -1, '1234', TEXT, '"1234"'],
  ['int4multirange', 4451, -1, '{[1,3),[5,7)}', TEXT, '"{[1,3),[5,7)}"'],
  ['int2vector', 22, -1, '1 2', TEXT, '"1 2"'],
  ['composite', T.pair, -1, '(1,"a b")', TEXT, '"(1,\\"a b\\")"'],
  // enums and domains
  ['enum', T.mood, -1, 'happy', named('string', 'io.debezium.data.Enum', ',"parameters":{"allowed":"sad,ok,happy"}'), '"happy"'],
  ['domain over numeric(10,2)', T.price, -1, '12.34', decimal(2, 10), '"BNI="'],
  ['domain over a domain', T.priceAlias, -1, '12.34', decimal(2, 10), '"BNI="'],
  ['domain over text', T.email, -1, 'a@b', s('string'), '"a@b"'],
  ['domain over an enum', T.moodDomain, -1, 'ok', named('string', 'io.debezium.data.Enum', ',"parameters":{"allowed":"sad,ok,happy"}'), '"ok"'],
  // extension types, found by name
  ['hstore json', T.hstore, -1, '"a"=>"1", "x"=>"q\\"uote", "b c"=>NULL', named('string', 'io.debezium.data.Json'), '"{\\"a\\":\\"1\\",\\"b c\\":null,\\"x\\":\\"q\\\\\\"uote\\"}"'],
  ['hstore map', T.hstore, -1, '"a"=>"1", "x"=>"q\\"uote", "b c"=>NULL',
    '{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":false}',
    '{"a":"1","b c":null,"x":"q\\"uote"}', { hstoreHandlingMode: 'map' }],
  ['ltree', T.ltree, -1, 'Top.Science', named('string', 'io.debezium.data.Ltree'), '"Top.Science"'],
  ['citext', T.citext, -1, 'AbC', s('string'), '"AbC"'],
  ['vector', T.vector, -1, '[1,2.5,3]', `{"type":"array","items":${s('double')},"optional":false,"name":"io.debezium.data.DoubleVector","version":1}`, '[1.0,2.5,3.0]'],
  ['halfvec', T.halfvec, -1, '[1.1,2]', `{"type":"array","items":${s('float')},"optional":false,"name":"io.debezium.data.FloatVector","version":1}`, '[1.1,2.0]'],
  ['sparsevec', T.sparsevec, -1, '{1:1.5,3:2}/5',
    '{"type":"struct","fields":[{"type":"int16","optional":false,"field":"dimensions"},{"type":"map","keys":{"type":"int16","optional":false},'
    + '"values":{"type":"double","optional":false},"optional":false,"field":"vector"}],"optional":false,"name":"io.debezium.data.SparseDoubleVector","version":1,"doc":"Sparse double vector"}',
    '{"dimensions":5,"vector":[[1,1.5],[3,2.0]]}'],
  ['geometry with SRID', T.geometry, -1, '0101000020E6100000000000000000F03F0000000000000040',
    '{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Geometry","version":1,"doc":"Geometry"}',
    '{"wkb":"AQEAACDmEAAAAAAAAAAA8D8AAAAAAAAAQA==","srid":4326}'],
  // arrays
  ['int4[] with NULL', 1007, -1, '{1,2,NULL}', arr(opt(s('int32'))), '[1,2,null]'],
  ['int4[] two dimensions flattened', 1007, -1, '{{1,2},{3,4}}', arr(opt(s('int32'))), '[1,2,3,4]'],
  ['int4[] explicit bounds', 1007, -1, '[0:1]={5,6}', arr(opt(s('int32'))), '[5,6]'],
  ['text[] quoting', 1009, -1, '{"a b","c\\"d","e\\\\f",NULL,"NULL",""}', arr(opt(s('string'))), '["a b","c\\"d","e\\\\f",null,"NULL",""]'],
  ['text[] empty', 1009, -1, '{}', arr(opt(s('string'))), '[]'],
  ['numeric(5,2)[]', 1231, numericMod(5, 2), '{1.50,-2.00}', arr(opt(decimal(2, 5))), '["AJY=","/zg="]'],
  ['numeric[] variable scale', 1231, -1, '{1.5,10}', arr(opt(VSD)), '[{"scale":1,"value":"Dw=="},{"scale":0,"value":"Cg=="}]'],
  ['float8[] NaN', 1022, -1, '{1.5,NaN}', arr(opt(s('double'))), '[1.5,"NaN"]'],
  ['bool[]', 1000, -1, '{t,f}', arr(opt(s('boolean'))), '[true,false]'],
  ['bytea[]', 1001, -1, '{"\\\\x01","\\\\x"}', arr(opt(s('bytes'))), '["AQ==",""]'],
  ['date[]', 1182, -1, '{2024-05-01,infinity}', arr(opt(named('int32', 'io.debezium.time.Date'))), '[19844,-2147472692]'],
  ['time(3)[]', 1183, 3, '{10:00:00.5}', arr(opt(named('int32', 'io.debezium.time.Time'))), '[36000500]'],
  ['timestamptz[]', 1185, -1, '{"2024-01-01 10:00:00+00"}', arr(opt(named('string', 'io.debezium.time.ZonedTimestamp'))), '["2024-01-01T10:00:00.000000Z"]'],
  ['timetz[]', 1270, -1, '{10:00:00+00}', arr(opt(named('string', 'io.debezium.time.ZonedTime'))), '["10:00:00Z"]'],
  ['uuid[]', 2951, -1, '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', arr(opt(named('string', 'io.debezium.data.Uuid'))), '["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]'],
  ['jsonb[]', 3807, -1, '{"{\\"a\\": 1}"}', arr(opt(named('string', 'io.debezium.data.Json'))), '["{\\"a\\": 1}"]'],
  ['bit(2)[]', 1561, 2, '{01,10}', arr(opt(named('bytes', 'io.debezium.data.Bits', ',"parameters":{"length":"2"}'))), '["AQ==","Ag=="]'],
  ['tsvector[] (required elements)', 3643, -1, `{"'a'"}`, arr(named('string', 'io.debezium.data.Tsvector')), `["'a'"]`],
  ['enum[] (required elements)', T.moodArray, -1, '{sad,happy}', arr(named('string', 'io.debezium.data.Enum', ',"parameters":{"allowed":"sad,ok,happy"}')), '["sad","happy"]'],
  ['citext[]', T.citextArray, -1, '{x,Y}', arr(opt(s('string'))), '["x","Y"]'],
  ['hstore[]', T.hstoreArray, -1, '{"\\"a\\"=>\\"1\\""}', arr(opt(named('string', 'io.debezium.data.Json'))), '["{\\"a\\":\\"1\\"}"]'],
  ['money[] as text', 791, -1, '{$1.00}', TEXT, '"{$1.00}"'],
  ['interval[] as text', 1187, -1, '{P1D}', TEXT, '"{P1D}"'],
  ['point[] as text', 1017, -1, '{"(1,2)"}', TEXT, '"{\\"(1,2)\\"}"'],
  ['name[] as text', 1003, -1, '{a}', TEXT, '"{a}"'],
  ['xml[] as text', 143, -1, '{<a/>}', TEXT, '"{<a/>}"'],
  ['varbit[] as text', 1563, -1, '{101}', TEXT, '"{101}"'],
  ['array of a domain as text', T.priceArray, -1, '{1.00}', TEXT, '"{1.00}"'],
];

describe('mapColumnType', () => {
  it.each(cases)('%s', (_label, oid, typmod, text, schema, value, opts) => {
    const mapping = mapColumnType(oid, typmod, lookup, options(opts))!;
    expect(schemaJson(mapping.schema)).toBe(schema);
    expect(writeValue(mapping.schema, mapping.convert(text))).toBe(value);
  });

  it('marks the types Debezium drops as our text fallback', () => {
    expect(mapColumnType(603, -1, lookup, options())!.via).toBe('text');
    expect(mapColumnType(OID.int4, -1, lookup, options())!.via).toBe('debezium');
  });
});

describe('NOT NULL fallbacks (JdbcValueConverters.convertValue)', () => {
  const fallbacks: [label: string, oid: number, typmod: number, value: string, opts?: Partial<NormalizeOptions>][] = [
    ['bool', OID.bool, -1, 'false'],
    ['int4', OID.int4, -1, '0'],
    ['int8', OID.int8, -1, '0'],
    ['float8', OID.float8, -1, '0.0'],
    ['text', OID.text, -1, '""'],
    ['jsonb', OID.jsonb, -1, '""'],
    ['numeric(10,2)', OID.numeric, NUMERIC, '"AA=="'],
    ['numeric', OID.numeric, -1, '{"scale":0,"value":"AA=="}'],
    ['numeric string', OID.numeric, NUMERIC, '"0.00"', { decimalHandlingMode: 'string' }],
    ['money string', OID.money, -1, '"0.00"', { decimalHandlingMode: 'string' }],
    ['bytea', OID.bytea, -1, '""'],
    ['bit(3)', OID.bit, 3, '""'],
    ['date', OID.date, -1, '0'],
    ['timestamp', OID.timestamp, -1, '0'],
    ['timestamptz', OID.timestamptz, -1, '"1970-01-01T00:00:00Z"'],
    ['timetz', OID.timetz, -1, '"00:00:00Z"'],
    ['interval', OID.interval, -1, '0'],
    ['interval string', OID.interval, -1, '"P0Y0M0DT0H0M0S"', { intervalHandlingMode: 'string' }],
    ['point', OID.point, -1, '{"x":0.0,"y":0.0,"wkb":"AQEAAAAAAAAAAAAAAAAAAAAAAAAA","srid":null}'],
    ['int4[]', 1007, -1, '[]'],
    ['hstore', T.hstore, -1, '"{}"'],
    ['enum', T.mood, -1, '""'],
  ];
  it.each(fallbacks)('%s', (_label, oid, typmod, value, opts) => {
    const mapping = mapColumnType(oid, typmod, lookup, options(opts))!;
    expect(writeValue(mapping.schema, mapping.fallback)).toBe(value);
  });
});

describe('unchanged-TOAST placeholders (UnchangedToastedPlaceholder)', () => {
  const P = '"__debezium_unavailable_value"';
  const placeholders: [label: string, oid: number, value: string, opts?: Partial<NormalizeOptions>][] = [
    ['text', OID.text, P],
    ['jsonb', OID.jsonb, P],
    ['bytea bytes', OID.bytea, '"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="'],
    ['bytea hex', OID.bytea, P, { binaryHandlingMode: 'hex' }],
    ['text[]', 1009, `[${P}]`],
    ['jsonb[]', 3807, `[${P}]`],
    ['int4[] gets the placeholder bytes', 1007, '[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]'],
    ['int8[]', 1016, '[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]'],
    ['bytea[]', 1001, '["X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="]'],
    ['uuid[] gets nameUUIDFromBytes', 2951, '["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]'],
    ['hstore json', T.hstore, '"{\\"__debezium_unavailable_value\\":\\"__debezium_unavailable_value\\"}"'],
    ['hstore map', T.hstore, '{"__debezium_unavailable_value":"__debezium_unavailable_value"}', { hstoreHandlingMode: 'map' }],
    ['numeric has none', OID.numeric, 'null'],
    ['text fallback types', 603, P],
    ['custom placeholder as hex', OID.bytea, '"3q2+7w=="', { unavailableValuePlaceholder: 'hex:deadbeef' }],
    // Java's new String(bytes): the bytes read as UTF-8, U+FFFD for what is not (printed so by Debezium 3.6.1).
    ['custom hex placeholder in a text column', OID.text, '"\uFFFD\uFFFD\\u0000\uFFFD"', { unavailableValuePlaceholder: 'hex:cafe00ff' }],
    ['custom hex placeholder in a text[]', 1009, '["\uFFFD\uFFFD\\u0000\uFFFD"]', { unavailableValuePlaceholder: 'hex:cafe00ff' }],
  ];
  it.each(placeholders)('%s', (_label, oid, value, opts) => {
    const mapping = mapColumnType(oid, -1, lookup, options(opts))!;
    expect(writeValue(mapping.schema, mapping.toast)).toBe(value);
  });
});
