import { describe, expect, it } from 'vitest';
import type { ConnectSchema } from '../types.ts';
import { normalizeInsert, type EventContext } from './change-events.ts';
import { field, schema, struct } from './connect-schemas.ts';
import { schemaJson, serializeKey, serializeValue, writeValue } from './json-converter.ts';
import { buildTableModel } from './table-model.ts';
import { lookup, numericMod, options, relation } from './testing.ts';

// debezium.md §2: topic.prefix=pg, database app,
// CREATE TABLE public.items (id integer PRIMARY KEY, name varchar(64) NOT NULL, price numeric(10,2), updated_at timestamptz);
// INSERT INTO public.items VALUES (1, 'Widget', 12.34, '2024-05-01 10:00:00+00');
const ITEMS = relation([
  ['id', 23, { key: true }],
  ['name', 1043, { typeMod: 68 }],
  ['price', 1700, { typeMod: numericMod(10, 2) }],
  ['updated_at', 1184],
]);
const ITEMS_META = {
  columns: new Map([
    ['id', { notNull: true, defaultExpression: null }],
    ['name', { notNull: true, defaultExpression: null }],
    ['price', { notNull: false, defaultExpression: null }],
    ['updated_at', { notNull: false, defaultExpression: null }],
  ]),
  keyColumns: ['id'],
};
const CTX: EventContext = {
  tx: { xid: 555, commitTimeUs: 1714557600123456n, finalLsn: 24023120n, lastCommitLsn: 24023119n, origin: null },
  lsn: 24023128n,
  nowNs: 1714557600200321456n,
};

const VALUE_FIELDS = '[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"name"},'
  + '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"},'
  + '{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"updated_at"}]';
const SOURCE_SCHEMA = '{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},'
  + '{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},'
  + '{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},'
  + '{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},'
  + '{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},'
  + '{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},'
  + '{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],'
  + '"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"}';
const GOLDEN_PAYLOAD = '{"before":null,"after":{"id":1,"name":"Widget","price":"BNI=","updated_at":"2024-05-01T10:00:00.000000Z"},'
  + '"source":{"version":"3.6.1.Final","connector":"postgresql","name":"pg","ts_ms":1714557600123,"snapshot":"false","db":"app",'
  + '"sequence":"[\\"24023119\\",\\"24023128\\"]","ts_us":1714557600123456,"ts_ns":1714557600123456000,"schema":"public","table":"items",'
  + '"txId":555,"lsn":24023128,"xmin":null,"origin":null,"origin_lsn":null},"transaction":null,"op":"c",'
  + '"ts_ms":1714557600200,"ts_us":1714557600200321,"ts_ns":1714557600200321456}';
const GOLDEN_VALUE = '{"schema":{"type":"struct","fields":['
  + `{"type":"struct","fields":${VALUE_FIELDS},"optional":true,"name":"pg.public.items.Value","field":"before"},`
  + `{"type":"struct","fields":${VALUE_FIELDS},"optional":true,"name":"pg.public.items.Value","field":"after"},`
  + `${SOURCE_SCHEMA},`
  + '{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},'
  + '{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},'
  + '{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},'
  + '{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":"pg.public.items.Envelope","version":2},'
  + `"payload":${GOLDEN_PAYLOAD}}`;

describe('JsonConverter output: the debezium.md §2 example', () => {
  const opts = options();
  const model = buildTableModel(ITEMS, lookup, opts, ITEMS_META);
  const event = normalizeInsert(model, ['1', 'Widget', '12.34', '2024-05-01 10:00:00+00'], opts, CTX);

  it('key record, byte for byte', () => {
    expect(serializeKey(event)).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"pg.public.items.Key"},"payload":{"id":1}}',
    );
  });

  it('value record, byte for byte (ts_ns beyond 2^53 exact)', () => {
    expect(serializeValue(event)).toBe(GOLDEN_VALUE);
  });

  it('schemas.enable=false writes only the payloads', () => {
    expect(serializeKey(event, { schemasEnable: false })).toBe('{"id":1}');
    expect(serializeValue(event, { schemasEnable: false })).toBe(GOLDEN_PAYLOAD);
  });

  it('replace.null.with.default=false keeps source.snapshot null', () => {
    expect(serializeValue(event, { schemasEnable: false, replaceNullWithDefault: false })).toContain('"snapshot":null');
  });

  it('a table without key columns has a null key record', () => {
    const keyless = buildTableModel(ITEMS, lookup, opts, { ...ITEMS_META, keyColumns: [] });
    expect(serializeKey(normalizeInsert(keyless, ['1', 'W', null, null], opts, CTX))).toBeNull();
  });
});

describe('writeValue', () => {
  const withDefault = (s: ConnectSchema, d: unknown): ConnectSchema => ({ ...s, default: d });
  const cases: [label: string, schema: ConnectSchema, value: unknown, json: string][] = [
    ['null with default is the default', withDefault(schema('int32', true), 7), null, '7'],
    ['null optional', schema('int32', true), null, 'null'],
    ['int64 exact', schema('int64', false), -9223372036854775808n, '-9223372036854775808'],
    ['float32 from float', schema('float32', false), Math.fround(0.1), '0.1'],
    ['float64 MIN_VALUE as JDK 19+', schema('float64', false), Number.MIN_VALUE, '4.9E-324'],
    ['float64 1e7', schema('float64', false), 1e7, '1.0E7'],
    ['float64 0.001', schema('float64', false), 0.001, '0.001'],
    ['float64 0.0001', schema('float64', false), 0.0001, '1.0E-4'],
    ['float64 NaN', schema('float64', false), NaN, '"NaN"'],
    ['bytes', schema('bytes', false), Buffer.from([0, 1, 2]), '"AAEC"'],
    ['array', { type: 'array', optional: false, items: schema('int16', true) }, [1, null], '[1,null]'],
    ['map, string keys', { type: 'map', optional: false, keys: schema('string', false), values: schema('int32', false) }, new Map([['b', 1], ['a', 2]]), '{"b":1,"a":2}'],
    ['map, int keys as pairs', { type: 'map', optional: false, keys: schema('int16', false), values: schema('float64', false) }, new Map([[3, 1]]), '[[3,1.0]]'],
    ['struct in schema order, nested default', struct('s', false, [field('b', schema('string', false)), field('a', withDefault(schema('string', true), 'x'))]), { a: null, b: 'y' }, '{"b":"y","a":"x"}'],
    ['string control chars in upper-case hex', schema('string', false), '\u001f\u007f\t', '"\\u001F\u007f\\t"'],
    // Seen beside Debezium 3.6.1 (test/e2e/transforms-parity.test.ts): Jackson escapes each surrogate, not other non-ASCII.
    ['string beyond the BMP as escaped surrogates', schema('string', false), 'ü😀', '"ü\\uD83D\\uDE00"'],
  ];
  it.each(cases)('%s', (_label, s, value, json) => {
    expect(writeValue(s, value)).toBe(json);
  });

  it('writes schema defaults with the value writer, after parameters', () => {
    const s = field('price', { ...schema('bytes', false), name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2' }, default: Buffer.from([0]), doc: 'd' });
    expect(schemaJson(struct(undefined, false, [s]))).toBe('{"type":"struct","fields":[{"type":"bytes","optional":false,'
      + '"name":"org.apache.kafka.connect.data.Decimal","version":1,"doc":"d","parameters":{"scale":"2"},"default":"AA==","field":"price"}],"optional":false}');
  });
});
