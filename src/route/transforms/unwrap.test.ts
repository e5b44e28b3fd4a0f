import { describe, expect, it } from 'vitest';
import { serializeRecords } from '../../normalize/json-converter.ts';
import { unwrapTransformSchema } from '../../config/transform-schema.ts';
import type { ChangeEvent } from '../../types.ts';
import { orders, transforms } from './testing.ts';

const records = (event: ChangeEvent | null, schemasEnable = false) => (event === null ? [] : serializeRecords(event, { schemasEnable }, true));

describe('unwrap (ExtractNewRecordState)', () => {
  it('makes the value the after row, keeping the key; with nothing added the schema is the optional .Value struct', () => {
    const out = transforms({ type: 'unwrap' }).apply(orders.insert());
    expect(records(out)).toEqual([{ key: '{"id":1}', value: '{"id":1,"tenant_id":7,"status":"paid","email":"ann@example.com"}' }]);
    expect(records(out, true)[0].value).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"int32","optional":false,"field":"tenant_id"},'
      + '{"type":"string","optional":true,"field":"status"},{"type":"string","optional":true,"field":"email"}],"optional":true,"name":"pg.public.orders.Value"},'
      + '"payload":{"id":1,"tenant_id":7,"status":"paid","email":"ann@example.com"}}',
    );
  });

  it('adds envelope fields with Debezium names and types; the rewritten schema is a non-optional copy', () => {
    const out = transforms({ type: 'unwrap', add_fields: ['op', 'table', 'lsn', 'source.ts_ms', 'ts_ms:event_ms'] }).apply(orders.update());
    expect(records(out)[0].value).toBe(
      '{"id":1,"tenant_id":7,"status":"shipped","email":"ann@example.com","__op":"u","__table":"orders","__lsn":8208,"__source_ts_ms":1700000000000,"__event_ms":1700000000500}',
    );
    const schema = JSON.parse(records(out, true)[0].value!).schema;
    expect(schema.optional).toBe(false);
    expect(schema.name).toBe('pg.public.orders.Value');
    expect(schema.fields.slice(4)).toEqual([
      { type: 'string', optional: true, field: '__op' },
      { type: 'string', optional: true, field: '__table' },
      { type: 'int64', optional: true, field: '__lsn' },
      { type: 'int64', optional: true, field: '__source_ts_ms' },
      { type: 'int64', optional: true, field: '__event_ms' },
    ]);
  });

  it('adds headers (SimpleHeaderConverter text) and drops truncates; messages pass unchanged', () => {
    const t = transforms({ type: 'unwrap', add_headers: ['op', 'source.lsn', 'db'], add_headers_prefix: 'dbz.' });
    expect(t.apply(orders.insert())!.record!.headers).toEqual([['dbz.op', 'c'], ['dbz.source_lsn', '8200'], ['dbz.db', 'app']]);
    expect(t.apply(orders.truncate())).toBeNull();
  });

  it.each([
    // mode, the records a delete becomes (schemas off)
    ['tombstone', [{ key: '{"id":1}', value: 'null' }]],
    ['delete-to-tombstone', [{ key: '{"id":1}', value: null }]],
    ['drop', []],
    ['rewrite', [{ key: '{"id":1}', value: '{"id":1,"tenant_id":0,"status":null,"email":null,"__deleted":"true"}' }]],
    ['rewrite-with-tombstone', [
      { key: '{"id":1}', value: '{"id":1,"tenant_id":0,"status":null,"email":null,"__deleted":"true"}' },
      { key: '{"id":1}', value: null },
    ]],
  ])('delete_tombstone_handling_mode %s', (mode, expected) => {
    expect(records(transforms({ type: 'unwrap', delete_tombstone_handling_mode: mode }).apply(orders.delete()))).toEqual(expected);
  });

  it('gives the kept tombstone the delete\'s headers and the op header once more, as Debezium does', () => {
    const out = transforms({ type: 'unwrap', delete_tombstone_handling_mode: 'rewrite-with-tombstone', add_headers: ['op', 'db'] }).apply(orders.delete())!;
    expect(out.record).toMatchObject({ headers: [['__op', 'd'], ['__db', 'app']], tombstone: true, tombstoneHeaders: [['__op', 'd'], ['__db', 'app'], ['__op', 'd']] });
  });

  it('tombstone mode keeps the schema with a null payload when schemas are on, as JsonConverter writes it', () => {
    const value = records(transforms({ type: 'unwrap' }).apply(orders.delete()), true)[0].value!;
    expect(value).toMatch(/^\{"schema":\{"type":"struct",.*"optional":true,"name":"pg.public.orders.Value"\},"payload":null\}$/);
  });

  it('rewrite marks other changes "false", and row sinks see a rewritten delete as an update of the row', () => {
    const t = transforms({ type: 'unwrap', delete_tombstone_handling_mode: 'rewrite', add_fields: ['op'] });
    expect(t.apply(orders.insert())!.after).toMatchObject({ __deleted: 'false', __op: 'c' });
    const deleted = t.apply(orders.delete())!;
    expect(deleted.op).toBe('u');
    expect(deleted.after).toMatchObject({ id: 1, __deleted: 'true', __op: 'd' });
  });

  it('keeps a key change\'s header on a rewritten delete (the d carries the new key, though it is now an update)', () => {
    const deleted = { ...orders.delete(), keyChange: { key: { id: 9 }, header: '__debezium.newkey' as const } };
    const out = transforms({ type: 'unwrap', delete_tombstone_handling_mode: 'rewrite' }).apply(deleted)!;
    expect([out.op, out.keyChange]).toEqual(['u', { key: { id: 9 }, header: '__debezium.newkey' }]);
  });

  it('never changes the event it was given (other sinks share it)', () => {
    const event = orders.insert();
    const copy = structuredClone({ after: event.after, op: event.op });
    transforms({ type: 'unwrap', delete_tombstone_handling_mode: 'rewrite', add_fields: ['op'] }).apply(event);
    expect({ after: event.after, op: event.op }).toEqual(copy);
    expect(event.record).toBeUndefined();
  });

  it.each([
    [{ delete_handling_mode: 'drop' }, 'drop'],
    [{ delete_handling_mode: 'drop', drop_tombstones: false }, 'delete-to-tombstone'],
    [{ delete_handling_mode: 'rewrite' }, 'rewrite'],
    [{ delete_handling_mode: 'rewrite', drop_tombstones: false }, 'rewrite-with-tombstone'],
  ])('the older delete_handling_mode/drop_tombstones pair %j means %s', async (legacy, mode) => {
    const { deleteTombstoneMode } = await import('../../config/transform-schema.ts');
    expect(deleteTombstoneMode(unwrapTransformSchema.parse({ type: 'unwrap', ...legacy }))).toBe(mode);
  });

  it.each([
    [{ add_fields: ['nope'] }, /"nope" is no envelope field/],
    [{ delete_tombstone_handling_mode: 'drop', delete_handling_mode: 'drop' }, /not both/],
    [{ delete_tombstone_handling_mode: 'soft' }, /Invalid option/],
  ])('rejects %j', (bad, message) => {
    const parsed = unwrapTransformSchema.safeParse({ type: 'unwrap', ...bad });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});
