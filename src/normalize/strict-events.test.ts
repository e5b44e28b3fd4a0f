/**
 * `debezium_compat: strict` through whole events: columns of types Debezium
 * leaves out are absent from the schema and the row, values it loses are null
 * (or the NOT NULL column's fallback), and a required column Debezium cannot
 * convert stops the stream with a ConversionError that says why.
 */
import { describe, expect, it } from 'vitest';
import { normalizeDelete, normalizeInsert, normalizeUpdate, type EventContext } from './change-events.ts';
import { ConversionError } from './conversion-error.ts';
import { schemaJson, serializeKey, serializeValue } from './json-converter.ts';
import { buildTableModel, type RelationMeta } from './table-model.ts';
import { lookup, options, relation } from './testing.ts';

const STRICT = options({ debeziumCompat: 'strict' });
const LOSSLESS = options();
const ctx: EventContext = { tx: { xid: 7, commitTimeUs: 1n, finalLsn: 0x20n, lastCommitLsn: null, origin: null }, lsn: 0x10n, nowNs: 1000n };
const meta = (notNull: string[], keyColumns: string[] = ['id']): RelationMeta => ({
  columns: new Map(['id', 'pos', 'nm', 'nm_nn', 'bits', 'grid', 'nums', 'tags', 'f8', 'f8_nn'].map((c) => [c, { notNull: notNull.includes(c), defaultExpression: null }])),
  keyColumns,
});

// CREATE TABLE public.items (id int PRIMARY KEY, pos pg_lsn, nm name, nm_nn name NOT NULL, bits bit(3)[], grid int[],
//   nums numeric[], tags text[], f8 float8[], f8_nn float8[] NOT NULL)
const ITEMS = relation([
  ['id', 23, { key: true }], ['pos', 3220], ['nm', 19], ['nm_nn', 19], ['bits', 1561, { typeMod: 3 }], ['grid', 1007],
  ['nums', 1231], ['tags', 1009], ['f8', 1022], ['f8_nn', 1022],
]);
const items = (opts = STRICT) => buildTableModel(ITEMS, lookup, opts, meta(['id', 'nm_nn', 'f8_nn']));
const ROW = ['1', '0/16B3748', 'pg_class', 'pg_type', '{101}', '{{1,2},{3,4}}', '{1.5,NaN}', '{a}', '{0.5}', '{1.5}'];

describe('strict events', () => {
  it('leave out the columns Debezium has no schema for; the default keeps them as text', () => {
    const names = (opts = STRICT) => items(opts).schemas.value!.fields!.map((f) => f.field);
    expect(names()).toEqual(['id', 'nm', 'nm_nn', 'bits', 'grid', 'nums', 'tags', 'f8', 'f8_nn']);
    expect(names(LOSSLESS)).toEqual(['id', 'pos', 'nm', 'nm_nn', 'bits', 'grid', 'nums', 'tags', 'f8', 'f8_nn']);
  });

  it('carry Debezium\'s values: name as NULL, one null per sub-array, null for what fails', () => {
    const event = normalizeInsert(items(), ROW, STRICT, ctx);
    const after = JSON.parse(serializeValue(event, { schemasEnable: false })).after;
    expect(after).toEqual({ id: 1, nm: null, nm_nn: '', bits: null, grid: [null, null], nums: null, tags: ['a'], f8: [0.5], f8_nn: [1.5] });
    const bits = event.schemas.value!.fields!.find((f) => f.field === 'bits')!;
    expect(schemaJson(bits)).toBe('{"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{"length":"3"}}');
  });

  it('keep the default\'s values in lossless mode', () => {
    const after = JSON.parse(serializeValue(normalizeInsert(items(LOSSLESS), ROW, LOSSLESS, ctx), { schemasEnable: false })).after;
    expect(after).toMatchObject({ pos: '0/16B3748', nm: 'pg_class', nm_nn: 'pg_type', bits: ['BQ=='], grid: [1, 2, 3, 4], tags: ['a'] });
  });

  it('give unchanged TOAST values Debezium\'s placeholder where it has one, else null', () => {
    const [update] = normalizeUpdate(items(), { newTuple: ['1', null, null, 'x', null, null, undefined, undefined, undefined, '{1}'] }, STRICT, ctx);
    expect(update.after).toMatchObject({ nums: null, tags: ['__debezium_unavailable_value'], f8: null });
  });

  it('stop on an unchanged TOAST value Debezium cannot give a required column', () => {
    const run = () => normalizeUpdate(items(), { newTuple: ['1', null, null, 'x', null, null, null, null, null, undefined] }, STRICT, ctx);
    expect(run).toThrow(ConversionError);
    expect(run).toThrow('cannot convert column "f8_nn" (_float8) value (unchanged TOAST value): Debezium 3.6.1 cannot convert it either');
  });

  it('stop on a value Debezium cannot convert in a NOT NULL column, with a hint', () => {
    const model = buildTableModel(ITEMS, lookup, STRICT, meta(['id', 'nm_nn', 'bits']));
    let error: ConversionError | undefined;
    try {
      normalizeInsert(model, ROW, STRICT, ctx);
    } catch (err) {
      error = err as ConversionError;
    }
    expect(error).toBeInstanceOf(ConversionError);
    expect(error!.kind).toBe('record');
    expect(error!.message).toBe(
      'cannot convert column "bits" (_bit) value of 5 characters (not shown): Debezium 3.6.1 cannot convert it either, and with the column NOT NULL it stops (debezium_compat: strict does the same)',
    );
    expect(error!.hint).toBe('set debezium_compat: lossless to send the value, or drop NOT NULL from the column (Debezium then sends null)');
    // A DEFAULT-identity delete's NULL in it fails too: Debezium's fallback [] does not fit its Bits schema.
    expect(() => normalizeDelete(model, { keyTuple: ['1', null, null, null, null, null, null, null, null, null] }, STRICT, ctx)).toThrow(ConversionError);
  });

  it('keep a key whose columns Debezium leaves out as an empty struct', () => {
    // CREATE TABLE public.items (pos pg_lsn PRIMARY KEY, nm name)
    const model = buildTableModel(relation([['pos', 3220, { key: true }], ['nm', 19]]), lookup, STRICT, meta(['pos'], ['pos']));
    const event = normalizeInsert(model, ['1/0', 'a'], STRICT, ctx);
    expect(serializeKey(event)).toBe('{"schema":{"type":"struct","fields":[],"optional":false,"name":"pg.public.items.Key"},"payload":{}}');
    expect(event.after).toEqual({ nm: null });
  });
});
