import { describe, expect, it } from 'vitest';
import { schemaJson } from './json-converter.ts';
import { buildTableModel, topicStem, type RelationMeta } from './table-model.ts';
import { lookup, numericMod, options, relation, T } from './testing.ts';

const meta = (cols: [name: string, notNull: boolean, def?: string][], keyColumns: string[]): RelationMeta => ({
  columns: new Map(cols.map(([name, notNull, def]) => [name, { notNull, defaultExpression: def ?? null }])),
  keyColumns,
});

describe('buildTableModel: key', () => {
  it('takes the key columns, in key order, from the catalog', () => {
    const rel = relation([['a', 23, { key: true }], ['b', 25, { key: true }], ['c', 25]]);
    const model = buildTableModel(rel, lookup, options(), meta([['a', true], ['b', true], ['c', false]], ['b', 'a']));
    expect(model.keyColumns).toEqual([1, 0]);
    expect(schemaJson(model.schemas.key!)).toBe(
      '{"type":"struct","fields":[{"type":"string","optional":false,"field":"b"},{"type":"int32","optional":false,"field":"a"}],"optional":false,"name":"pg.public.items.Key"}',
    );
  });

  it('has no key (null key schema) when the table has neither primary key nor unique index', () => {
    const model = buildTableModel(relation([['a', 23, { key: true }]], 'full'), lookup, options(), meta([['a', false]], []));
    expect(model.schemas.key).toBeNull();
    expect(model.keySource).toBe('none');
  });

  it('without catalog facts, falls back to the replica identity flags (none under FULL)', () => {
    const rel = relation([['id', 23, { key: true }], ['v', 25]]);
    expect(buildTableModel(rel, lookup, options()).keyColumns).toEqual([0]);
    expect(buildTableModel({ ...rel, replicaIdentity: 'full' }, lookup, options()).keyColumns).toEqual([]);
  });
});

describe('buildTableModel: value schema', () => {
  it('makes NOT NULL columns required and the rest optional; text-fallback columns are always optional', () => {
    const rel = relation([['id', 23, { key: true }], ['note', 25], ['shape', 603]]);
    const model = buildTableModel(rel, lookup, options(), meta([['id', true], ['note', false], ['shape', true]], ['id']));
    expect(model.columns.map((c) => c.field.optional)).toEqual([false, true, true]);
    expect(model.schemas.value.optional).toBe(true);
    expect(model.schemas.value.name).toBe('pg.public.items.Value');
    expect(model.schemas.envelope.name).toBe('pg.public.items.Envelope');
    expect(model.schemas.envelope.version).toBe(2);
    expect(model.schemas.envelope.fields!.map((f) => f.field)).toEqual(['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
  });

  it('keeps every column, even of types Debezium drops', () => {
    const rel = relation([['p', 604], ['c', T.pair], ['m', 791]]);
    expect(buildTableModel(rel, lookup, options()).schemas.value.fields!.map((f) => f.field)).toEqual(['p', 'c', 'm']);
  });

  it('sanitizes the topic stem like Debezium (invalid characters become _)', () => {
    expect(topicStem('pg', 'public', 'my table$')).toBe('pg.public.my_table_');
    const model = buildTableModel(relation([['a', 23]], 'default', 'Ünïcode'), lookup, options());
    expect(model.schemas.topicStem).toBe('pg.public._n_code');
  });
});

describe('column defaults in the schema (PostgresDefaultValueConverter)', () => {
  const cases: [label: string, typeOid: number, typeMod: number, expression: string, notNull: boolean, fieldJson: string][] = [
    ['serial: function default becomes 0', 23, -1, "nextval('items_id_seq'::regclass)", true, '{"type":"int32","optional":false,"default":0,"field":"c"}'],
    ['int4 literal', 23, -1, '42', false, '{"type":"int32","optional":true,"default":42,"field":"c"}'],
    ['int4 negative literal', 23, -1, "'-1'::integer", false, '{"type":"int32","optional":true,"default":-1,"field":"c"}'],
    ['int8', 20, -1, "'9223372036854775807'::bigint", false, '{"type":"int64","optional":true,"default":9223372036854775807,"field":"c"}'],
    ['text', 25, -1, "'new'::text", true, '{"type":"string","optional":false,"default":"new","field":"c"}'],
    ['varchar, first quoted part only (as Debezium)', 1043, 14, "'it''s'::character varying", false, '{"type":"string","optional":true,"default":"it","field":"c"}'],
    ['text NULL default is none', 25, -1, 'NULL::text', false, '{"type":"string","optional":true,"field":"c"}'],
    ['bool', 16, -1, 'true', false, '{"type":"boolean","optional":true,"default":true,"field":"c"}'],
    ['numeric(10,2) literal', 1700, numericMod(10, 2), '1.5', false,
      '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"default":"AJY=","field":"c"}'],
    ['variable-scale numeric has none (a struct)', 1700, -1, '1.5', false,
      '{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal","field":"c"}'],
    ['float8', 701, -1, "'1.5'::double precision", false, '{"type":"double","optional":true,"default":1.5,"field":"c"}'],
    ['timestamptz now()', 1184, -1, 'now()', true, '{"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"default":"1970-01-01T00:00:00.000000Z","field":"c"}'],
    ['timestamptz CURRENT_TIMESTAMP', 1184, 3, 'CURRENT_TIMESTAMP', true, '{"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"default":"1970-01-01T00:00:00.000Z","field":"c"}'],
    ['timestamp literal', 1114, -1, "'2020-01-02 03:04:05'::timestamp without time zone", false, '{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"default":1577934245000000,"field":"c"}'],
    ['date CURRENT_DATE', 1082, -1, 'CURRENT_DATE', false, '{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"default":0,"field":"c"}'],
    ['interval literal', 1186, -1, "'P1D'::interval", false, '{"type":"int64","optional":true,"name":"io.debezium.time.MicroDuration","version":1,"default":86400000000,"field":"c"}'],
    ['uuid gen_random_uuid()', 2950, -1, 'gen_random_uuid()', true, '{"type":"string","optional":false,"name":"io.debezium.data.Uuid","version":1,"default":"00000000-0000-0000-0000-000000000000","field":"c"}'],
    ['jsonb', 3802, -1, "'{}'::jsonb", false, '{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"default":"{}","field":"c"}'],
    ['bit(1) from B\'1\'', 1560, 1, 'B\'1\'::"bit"', false, '{"type":"boolean","optional":true,"default":true,"field":"c"}'],
    ['enum', T.mood, -1, "'ok'::mood", false, '{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"sad,ok,happy"},"default":"ok","field":"c"}'],
    ['domain columns get none', T.email, -1, "'x'::text", true, '{"type":"string","optional":false,"field":"c"}'],
    ['no mapper for money', 790, -1, "'1.00'::money", false, '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"c"}'],
    ['an unparsable literal is dropped', 23, -1, '(1 + 2)', false, '{"type":"int32","optional":true,"field":"c"}'],
  ];
  it.each(cases)('%s', (_label, typeOid, typeMod, expression, notNull, fieldJson) => {
    const model = buildTableModel(relation([['c', typeOid, { typeMod }]]), lookup, options(), meta([['c', notNull, expression]], []));
    const json = schemaJson(model.schemas.value);
    expect(json.slice(json.indexOf('[') + 1, json.lastIndexOf(']'))).toBe(fieldJson);
  });

  it('uses the default for NULL in a NOT NULL column, else the type fallback', () => {
    const rel = relation([['a', 23], ['b', 23], ['c', 23]]);
    const model = buildTableModel(rel, lookup, options(), meta([['a', true, '5'], ['b', true], ['c', false, '5']], []));
    expect(model.columns.map((c) => c.nullValue)).toEqual([5, 0, null]);
  });
});
