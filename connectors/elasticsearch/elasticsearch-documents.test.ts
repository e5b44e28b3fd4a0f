import { describe, expect, it } from 'vitest';
import type { NormalizeOptions } from '../../src/normalize/options.ts';
import { OID } from '../../src/normalize/pg-types.ts';
import { lookup, options, T } from '../../src/normalize/testing.ts';
import { mapColumnType } from '../../src/normalize/type-mapping.ts';
import type { ConnectSchema } from '../../src/types.ts';
import { isoTimestamp, toJsonValue, unavailableColumns } from './elasticsearch-documents.ts';

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

describe('unavailableColumns', () => {
  // The placeholder values come from the normalizer itself, so a shape it makes
  // that this sink does not recognise fails here.
  it.each([
    ['text', OID.text],
    ['jsonb', OID.jsonb],
    ['bytea', OID.bytea],
    ['text[]', 1009],
    ['jsonb[]', 3807],
    ['int4[]', 1007],
    ['int8[]', 1016],
    ['bytea[]', 1001],
    ['uuid[]', 2951],
    ['hstore as json', T.hstore],
    ['hstore as map', T.hstore, { hstoreHandlingMode: 'map' }],
    ['custom placeholder in a uuid[]', 2951, { unavailableValuePlaceholder: 'hex:deadbeef' }],
    ['custom placeholder in an int4[]', 1007, { unavailableValuePlaceholder: 'hex:deadbeef' }],
  ] as Array<[string, number, Partial<NormalizeOptions>?]>)('finds the placeholder of %s', (_label, oid, overrides) => {
    const opts = options(overrides);
    const toast = mapColumnType(oid, -1, lookup, opts)!.toast;
    expect(unavailableColumns({ id: 1, c: toast }, opts.unavailableValuePlaceholder)).toEqual(['c']);
  });

  it('leaves real values alone', () => {
    const row = { id: 1, ids: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'], n: [1, 2], t: 'text', none: null, empty: [] };
    expect(unavailableColumns(row, options().unavailableValuePlaceholder)).toEqual([]);
  });
});
