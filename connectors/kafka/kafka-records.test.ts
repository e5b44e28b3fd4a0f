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

  // Chunks of 4 KiB and more have an ArrayBuffer each (smaller ones share Node's pool), so `buffer` tells chunks apart.
  const pad = (n: number) => 'p'.repeat(300 + n);

  it('writes released records\' chunks again, and never the bytes of a record still read', () => {
    const bytes = createRecordBytes(4096);
    const memory = new Set<ArrayBufferLike>();
    let held: Array<[Buffer, string]> = [];
    for (let round = 0; round < 200; round++) {
      // Each round: a "request" of records; the records of the round before are acknowledged once this one is built.
      const start = bytes.position();
      const made = Array.from({ length: 1 + (round % 7) }, (_, i) => {
        const json: RecordJson = i % 2 ? withSchema : { prefix: null, payload: `{"round":${round},"i":${i},"pad":"${pad(i)}"}` };
        const b = bytes.of(json);
        memory.add(b.buffer);
        return [b, joinJson(json)] as [Buffer, string];
      });
      for (const [b, text] of [...held, ...made]) expect(b.toString('utf8')).toBe(text);
      bytes.release(start);
      held = made;
    }
    // 200 rounds of up to 7 records, half of ~330 bytes: ~150 chunks without reuse.
    expect(memory.size).toBeLessThanOrEqual(8);
  });

  it('after forget(), no record made before is written over', () => {
    const bytes = createRecordBytes(4096);
    const before = Array.from({ length: 10 }, (_, i) => bytes.of({ prefix: null, payload: `{"before":${i},"pad":"${pad(i)}"}` }));
    bytes.release(bytes.position() - 1); // the first chunks are spare now
    const kept = before.map((b) => b.toString('utf8'));
    bytes.forget();
    for (let i = 0; i < 100; i++) {
      const start = bytes.position();
      bytes.of({ prefix: null, payload: `{"after":${i},"pad":"${pad(i % 20)}"}` });
      bytes.release(start);
    }
    // The records in released chunks may be overwritten; those in the chunk still being written (not released) may not.
    const unreleased = before.map((b, i) => [b, kept[i]] as const).filter(([b]) => b.buffer === before.at(-1)!.buffer);
    expect(unreleased.length).toBeGreaterThan(1);
    for (const [b, text] of unreleased) expect(b.toString('utf8')).toBe(text);
  });
});
