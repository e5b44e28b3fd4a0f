import { describe, expect, it } from 'vitest';
import type { ConnectSchema } from '../../src/types.ts';
import { isoTimestamp, toJsonValue } from './elasticsearch-documents.ts';

const named = (type: ConnectSchema['type'], name: string, parameters?: Record<string, string>): ConnectSchema => ({ type, optional: true, name, parameters });

describe('toJsonValue', () => {
  it.each([
    { name: 'int64 within 2^53', value: 9007199254740991n, schema: { type: 'int64', optional: true }, json: 9007199254740991 },
    { name: 'int64 beyond 2^53', value: -9223372036854775808n, schema: { type: 'int64', optional: true }, json: '-9223372036854775808' },
    { name: 'NaN float', value: Number.NaN, schema: { type: 'float64', optional: true }, json: null },
    { name: 'decimal (precise)', value: Buffer.from([0xfb, 0x2e]), schema: named('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2' }), json: '-12.34' },
    { name: 'variable-scale decimal', value: { scale: 1, value: Buffer.from([0x7b]) }, schema: named('struct', 'io.debezium.data.VariableScaleDecimal'), json: '12.3' },
    { name: 'json', value: '{"a":[1,{"b":null}]}', schema: named('string', 'io.debezium.data.Json'), json: { a: [1, { b: null }] } },
    { name: 'date', value: 19844, schema: named('int32', 'io.debezium.time.Date'), json: '2024-05-01' },
    { name: 'date before 1970', value: -1, schema: named('int32', 'io.debezium.time.Date'), json: '1969-12-31' },
    { name: 'timestamp (ms)', value: 1714557600123n, schema: named('int64', 'io.debezium.time.Timestamp'), json: '2024-05-01T10:00:00.123Z' },
    { name: 'micro timestamp', value: 1714557600123456n, schema: named('int64', 'io.debezium.time.MicroTimestamp'), json: '2024-05-01T10:00:00.123456Z' },
    { name: 'micro time', value: 49530000001n, schema: named('int64', 'io.debezium.time.MicroTime'), json: '13:45:30.000001' },
    { name: 'time (ms)', value: 49530500, schema: named('int32', 'io.debezium.time.Time'), json: '13:45:30.500' },
    { name: 'bytes', value: Buffer.from([1, 2, 255]), schema: { type: 'bytes', optional: true }, json: 'AQL/' },
    { name: 'array of decimals', value: [Buffer.from([1])], schema: { type: 'array', optional: true, items: named('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '1' }) }, json: ['0.1'] },
    { name: 'map', value: new Map([['k', 'v']]), schema: { type: 'map', optional: true, keys: { type: 'string', optional: false }, values: { type: 'string', optional: true } }, json: { k: 'v' } },
  ] as Array<{ name: string; value: unknown; schema: ConnectSchema; json: unknown }>)('$name', ({ value, schema, json }) => {
    expect(toJsonValue(value, schema)).toEqual(json);
  });

  it('writes timestamps before 1970 with their microseconds', () => {
    expect(isoTimestamp(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});
