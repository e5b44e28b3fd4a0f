import { describe, expect, it } from 'vitest';
import { twosComplementBytes } from '../normalize/numeric.ts';
import type { ChangeEvent, ConnectSchema } from '../types.ts';
import { parseTemplate, renderTemplate, renderValue, unknownColumns } from './row-templates.ts';

const rowSchema: ConnectSchema = {
  type: 'struct',
  optional: true,
  fields: [
    { field: 'id', type: 'int64', optional: false },
    { field: 'slug', type: 'string', optional: true },
    { field: 'price', type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } },
  ],
};
const keySchema: ConnectSchema = { type: 'struct', optional: false, fields: [{ field: 'id', type: 'int64', optional: false }] };

function event(op: ChangeEvent['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null): ChangeEvent {
  const row = after ?? before!;
  return { op, key: { id: row.id }, before, after, schemas: { key: keySchema, value: rowSchema } } as unknown as ChangeEvent;
}

describe('key templates', () => {
  it.each([
    ['product:{id}', event('u', null, { id: 7n, slug: 'a' }), 'product:7'],
    ['product:slug:{before.slug}', event('u', { id: 7n, slug: 'old' }, { id: 7n, slug: 'new' }), 'product:slug:old'],
    ['product:slug:{after.slug}', event('u', { id: 7n, slug: 'old' }, { id: 7n, slug: 'new' }), 'product:slug:new'],
    ['p:{slug}', event('d', { id: 7n, slug: 'gone' }, null), 'p:gone'], // no key field: new row, else old row
    ['price:{price}', event('c', null, { id: 1n, price: twosComplementBytes(true, '1250') }), 'price:-12.50'],
    ['{{user:{id}}}:cart', event('c', null, { id: 3n }), '{user:3}:cart'],
    ['slug:{before.slug}', event('u', null, { id: 7n, slug: 'new' }), undefined], // no old row
    ['slug:{slug}', event('c', null, { id: 7n, slug: null }), undefined], // NULL
  ])('%s', (text, e, expected) => {
    expect(renderTemplate(parseTemplate(text), e)).toBe(expected);
  });

  it.each([
    ['product:{id', 'unclosed "{"'],
    ['product:id}', 'unmatched "}"'],
    ['product:{old.id}', 'bad placeholder "{old.id}"'],
    ['product:{}', 'bad placeholder "{}"'],
    ['', 'key template is empty'],
  ])('rejects %j', (text, message) => {
    expect(() => parseTemplate(text)).toThrow(message);
  });

  it('names the columns a table does not have', () => {
    expect(unknownColumns(parseTemplate('x:{id}:{after.sku}:{before.slug}:{colour}'), rowSchema)).toEqual(['sku', 'colour']);
  });

  it.each([
    ['text', 'abc', 'abc'],
    ['int64', 12345678901234567890n, '12345678901234567890'],
    ['float', 1.5, '1.5'],
    ['boolean', true, 'true'],
    ['bytea', Buffer.from([0xde, 0xad]), '\\xdead'],
  ])('renders %s as text', (_name, value, expected) => {
    expect(renderValue(value)).toBe(expected);
  });
});
