import { describe, expect, it } from 'vitest';
import { serializeRecords } from '../../normalize/json-converter.ts';
import { OperatorError } from '../../errors.ts';
import type { ChangeEvent } from '../../types.ts';
import { EVENT_ID, orders, outbox, transforms } from './testing.ts';

const records = (event: ChangeEvent | null, schemasEnable = false) => (event === null ? [] : serializeRecords(event, { schemasEnable }, true));

describe('outbox (Outbox Event Router)', () => {
  const router = transforms({ type: 'outbox', tables: ['public.outbox'] });

  it('routes an inserted row to outbox.event.<aggregatetype>: key aggregateid, value payload, header id, timestamp ts_ms', () => {
    const out = router.apply(outbox.insert())!;
    expect(out.record).toMatchObject({ topic: 'outbox.event.order', headers: [['id', EVENT_ID]], tombstone: false, timestamp: 1700000000500n });
    expect(records(out)).toEqual([{ key: '"42"', value: '"{\\"orderId\\":42,\\"total\\":9.5}"' }]);
    expect(records(out, true)).toEqual([{
      key: '{"schema":{"type":"string","optional":false},"payload":"42"}',
      value: '{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1},"payload":"{\\"orderId\\":42,\\"total\\":9.5}"}',
    }]);
  });

  it('ignores deletes and truncates, skips updates with a warning (or stops on fatal), passes other tables', () => {
    expect(router.apply(outbox.delete())).toBeNull();
    expect(router.apply(outbox.update())).toBeNull();
    expect(() => transforms({ type: 'outbox', table_op_invalid_behavior: 'fatal' }).apply(outbox.update())).toThrow(OperatorError);
    const order = orders.insert();
    expect(router.apply(order)).toBe(order);
  });

  it('expands a JSON payload into a struct with Debezium\'s inferred schema, in document order', () => {
    const expand = transforms({ type: 'outbox', table_expand_json_payload: true });
    const out = expand.apply(outbox.insert('{"z":1,"10":2,"big":9007199254740993,"f":1.0,"n":null,"tags":["a"],"c":{"x":true},"e":[]}'))!;
    expect(records(out)[0].value).toBe('{"z":1,"10":2,"big":9007199254740993,"f":1.0,"tags":["a"],"c":{"x":true}}');
    const schema = JSON.parse(records(out, true)[0].value!).schema;
    expect(schema).toEqual({
      type: 'struct', optional: true, name: 'payload', fields: [
        { type: 'int32', optional: true, field: 'z' },
        { type: 'int32', optional: true, field: '10' },
        { type: 'int64', optional: true, field: 'big' },
        { type: 'double', optional: true, field: 'f' },
        { type: 'array', items: { type: 'string', optional: true }, optional: true, field: 'tags' },
        { type: 'struct', fields: [{ type: 'boolean', optional: true, field: 'x' }], optional: true, name: 'payload.c', field: 'c' },
      ],
    });
    // Not an object: written as it is.
    expect(records(expand.apply(outbox.insert('"just text"')))[0].value).toBe('"\\"just text\\""');
  });

  it('places columns in headers and the envelope; the value struct is named after the routed value', () => {
    const t = transforms({ type: 'outbox', table_fields_additional_placement: ['type:header:eventType', 'aggregatetype:envelope:kind'] });
    const out = t.apply(outbox.insert())!;
    expect(out.record!.headers).toEqual([['id', EVENT_ID], ['eventType', 'OrderCreated']]);
    const value = JSON.parse(records(out, true)[0].value!);
    expect(value.schema.name).toBe('pg.public.outbox.order.Value');
    expect(value.schema.optional).toBe(false);
    expect(value.schema.fields.map((f: { field: string }) => f.field)).toEqual(['payload', 'kind']);
    expect(value.payload).toEqual({ payload: '{"orderId":42,"total":9.5}', kind: 'order' });
  });

  it('routes with a custom regex and replacement, and makes an empty payload a tombstone when asked', () => {
    const t = transforms({ type: 'outbox', route_topic_regex: '(?<kind>ord)er', route_topic_replacement: 'events.${kind}.{kind}', route_tombstone_on_empty_payload: true });
    expect(t.apply(outbox.insert())!.record!.topic).toBe('events.ord.ord');
    expect(t.apply(outbox.insert(null, ['invoice', '7', 'Paid']))!.record).toMatchObject({ topic: 'invoice', value: null });
  });

  it('fails at start-up when the outbox table lacks a named column', async () => {
    const t = transforms({ type: 'outbox', tables: ['public.outbox'], table_field_event_key: 'aggregate_id' });
    const describe = async () => ({ columns: ['id', 'aggregatetype', 'aggregateid', 'type', 'payload'], keyColumns: ['id'], replicaIdentity: 'default' as const, identityColumns: ['id'] });
    await expect(t.check!(describe as never)).rejects.toThrow(/outbox table public.outbox has no column aggregate_id/);
  });
});
