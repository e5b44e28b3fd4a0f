import { describe, expect, it } from 'vitest';
import { joinJson, type RecordJson } from '../../src/normalize/json-converter.ts';
import { createRecordBytes } from './kafka-records.ts';

const prefix = (text: string) => ({ text, bytes: Buffer.from(text) });
const withSchema: RecordJson = { prefix: prefix('{"schema":{"type":"string","optional":false,"name":"é"},"payload":'), payload: '"x"' };

describe('record bytes', () => {
  it.each<[string, RecordJson]>([
    ['with a schema prefix', withSchema],
    ['without schemas', { prefix: null, payload: '{"id":1}' }],
    ['non-ASCII text and a surrogate pair', { prefix: null, payload: '{"name":"Zoë 𝄞 日本"}' }],
    ['an empty payload', { prefix: null, payload: '' }],
  ])('%s: the UTF-8 of the joined JSON', (_name, json) => {
    expect(createRecordBytes().of(json).toString('utf8')).toBe(joinJson(json));
  });

  it('starts a new chunk when a record does not fit, and never overwrites an earlier record', () => {
    const bytes = createRecordBytes(64);
    const records = Array.from({ length: 50 }, (_, i): RecordJson => (i % 2 ? withSchema : { prefix: null, payload: `{"id":${i},"s":"${'ü'.repeat(i)}"}` }));
    const written = records.map((json) => bytes.of(json));
    expect(written.map((b) => b.toString('utf8'))).toEqual(records.map(joinJson));
  });
});
