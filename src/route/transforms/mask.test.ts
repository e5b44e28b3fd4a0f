import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serializeRecords } from '../../normalize/json-converter.ts';
import { maskTransformSchema } from '../../config/transform-schema.ts';
import { javaSerializedString } from './mask.ts';
import { orders, transforms } from './testing.ts';

describe('mask (column.mask.* / column.truncate.*)', () => {
  it('masks with N stars and marks the field schema masked', () => {
    const out = transforms({ type: 'mask', rules: [{ columns: ['public.orders.email'], mask_with_chars: 5 }] }).apply(orders.insert())!;
    const [record] = serializeRecords(out, { schemasEnable: true }, false);
    expect(out.after!.email).toBe('*****');
    expect(record.value).not.toContain('ann@example.com');
    expect(record.value).toContain('{"type":"string","optional":true,"parameters":{"masked":"true"},"field":"email"}');
  });

  it('hashes salt + the Java-serialized string (v1) or its UTF-8 text (v2), as lowercase hex', () => {
    const v1 = transforms({ type: 'mask', rules: [{ columns: ['*.*.email'], hash: { algorithm: 'SHA-256', salt: 'CzQMA0cB5K' } }] });
    const v2 = transforms({ type: 'mask', rules: [{ columns: ['*.*.email'], hash: { algorithm: 'SHA-256', salt: 'CzQMA0cB5K', version: 2 } }] });
    const javaBytes = Buffer.concat([Buffer.from([0xac, 0xed, 0x00, 0x05, 0x74, 0x00, 0x0f]), Buffer.from('ann@example.com')]);
    expect(javaSerializedString('ann@example.com')).toEqual(javaBytes);
    expect(v1.apply(orders.insert())!.after!.email).toBe(createHash('sha256').update('CzQMA0cB5K').update(javaBytes).digest('hex'));
    expect(v2.apply(orders.insert())!.after!.email).toBe(createHash('sha256').update('CzQMA0cB5Kann@example.com').digest('hex'));
  });

  it('cuts a hash to the column length (varchar(20))', () => {
    const out = transforms({ type: 'mask', rules: [{ columns: ['public.orders.status'], hash: { algorithm: 'MD5', salt: 's' } }] }).apply(orders.insert())!;
    expect(out.after!.status).toMatch(/^[0-9a-f]{20}$/);
  });

  it('writes Java modified UTF-8: NUL as C0 80, a supplementary character as two surrogates', () => {
    expect([...javaSerializedString('\u0000😀').subarray(7)]).toEqual([0xc0, 0x80, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
  });

  it('truncates strings, adding truncateLength only where truncation is possible', () => {
    const t = transforms({ type: 'mask', rules: [{ columns: ['public.orders.email', 'public.orders.status'], truncate_to_chars: 3 }] });
    const out = t.apply(orders.insert(1, 7, 'paid', 'ann@example.com'))!;
    expect(out.after).toMatchObject({ email: 'ann', status: 'pai' });
    const wide = transforms({ type: 'mask', rules: [{ columns: ['public.orders.status'], truncate_to_chars: 30 }] }).apply(orders.insert())!;
    expect(wide.schemas.value.fields!.find((f) => f.field === 'status')!.parameters).toBeUndefined();
  });

  it('masks before and key rows too, leaves other types, and takes the first matching rule', () => {
    const t = transforms({ type: 'mask', rules: [{ columns: ['public.orders.id', 'public.orders.email'], mask_with_chars: 3 }, { columns: ['*.*.*'], truncate_to_chars: 1 }] });
    const out = t.apply(orders.insert(1, 7, 'paid', 'ann@example.com'))!;
    expect(out.after).toEqual({ id: 1, tenant_id: 7, status: 'p', email: '***' });
    expect(out.schemas.value.fields!.find((f) => f.field === 'id')!.parameters).toEqual({ masked: 'true' });
    // A NULL is masked too, as Debezium does; truncation and hashing leave it NULL.
    const deleted = t.apply(orders.delete())!;
    expect(deleted.before).toMatchObject({ status: null, email: '***' });
  });

  it('rejects a rule with no or two actions', () => {
    expect(maskTransformSchema.safeParse({ type: 'mask', rules: [{ columns: ['a.b.c'] }] }).success).toBe(false);
    expect(maskTransformSchema.safeParse({ type: 'mask', rules: [{ columns: ['a.b.c'], mask_with_chars: 1, truncate_to_chars: 2 }] }).success).toBe(false);
    expect(maskTransformSchema.safeParse({ type: 'mask', rules: [{ columns: ['a.b'], mask_with_chars: 1 }] }).success).toBe(false);
  });
});
