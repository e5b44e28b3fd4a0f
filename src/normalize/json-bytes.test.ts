import { describe, expect, it } from 'vitest';
import { JsonOut, scratchOut, writeBase64, writeInteger, writeString } from './json-bytes.ts';
import { quoteJson } from './json-text.ts';

const text = (write: (out: JsonOut) => void, out = scratchOut(8)): string => {
  out.begin();
  write(out);
  return out.end().toString('utf8');
};

/** Strings of random code units, surrogates and controls included, of every length up to past the native path's threshold. */
function randomStrings(count: number, seed = 7): string[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  const pools = [[0x20, 0x7e], [0, 0x20], [0x80, 0x7ff], [0x800, 0xffff], [0xd800, 0xdfff]];
  return Array.from({ length: count }, (_, i) => {
    let s = '';
    const pool = i % 3 === 0 ? [pools[0]] : pools;
    for (let k = 0; k < i % 150; k++) {
      const [lo, hi] = pool[next() % pool.length];
      s += String.fromCharCode(lo + (next() % (hi - lo)));
    }
    return s;
  });
}

describe('writeString: the UTF-8 of Jackson\'s string literal (quoteJson)', () => {
  it.each([
    ['plain ASCII', 'Widget'],
    ['quotes and backslashes', 'a "b" \\c'],
    ['controls with short escapes', '\b\t\n\f\r'],
    ['other controls as upper-case \\u00XX', '\u0000\u001f\u000b'],
    ['DEL as is', '\u007f'],
    ['two- and three-byte UTF-8', 'Zoë 日本'],
    ['a pair of surrogates, each escaped', '😀'],
    ['a lone surrogate', '\ud800x'],
    ['empty', ''],
    ['long ASCII (the native path)', 'x'.repeat(500)],
    ['long with an escape', `${'x'.repeat(500)}"`],
    ['long non-ASCII', 'ü'.repeat(300)],
  ])('%s', (_name, s) => {
    expect(text((out) => writeString(out, s))).toBe(quoteJson(s));
  });

  it('matches quoteJson on random strings, in a buffer that keeps growing', () => {
    const out = scratchOut(8);
    for (const s of randomStrings(600)) expect(text((o) => writeString(o, s), out)).toBe(quoteJson(s));
  });
});

describe('writeInteger: as Java prints a long', () => {
  it.each([0, -0, 7, 9, 10, 99, 100, 123456789, 999_999_999, 1e9, 2 ** 31, -1, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])('%d', (v) => {
    expect(text((out) => writeInteger(out, v))).toBe(String(v));
  });

  it.each([0n, 5n, -5n, 1_000_000_000n, 1714557600200321456n, -9223372036854775808n, 9223372036854775807n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n])('%s as a bigint', (v) => {
    expect(text((out) => writeInteger(out, v))).toBe(String(v));
  });

  it('matches String() on random safe integers of every magnitude', () => {
    const out = scratchOut(8);
    for (let i = 0; i < 5000; i++) {
      const v = Math.trunc((Math.random() - 0.5) * 2 * 10 ** (i % 16));
      expect(text((o) => writeInteger(o, v), out)).toBe(String(v));
    }
  });
});

describe('writeBase64: JsonConverter\'s form for bytes', () => {
  it('equals Node\'s base64 for every length up to past the native path\'s threshold', () => {
    const bytes = Uint8Array.from({ length: 200 }, (_, i) => (i * 151 + 7) & 255);
    for (let n = 0; n <= 200; n++) {
      const part = bytes.subarray(n % 5, n % 5 + Math.min(n, 195));
      expect(text((out) => writeBase64(out, part))).toBe(`"${Buffer.from(part).toString('base64')}"`);
    }
  });
});

describe('JsonOut', () => {
  it('moves the record being written to the renewed buffer and leaves earlier records where they were', () => {
    const buffers: Buffer[] = [];
    const out = new JsonOut(Buffer.alloc(16), (full, kept, need) => {
      buffers.push(full);
      expect(kept).toBeLessThanOrEqual(full.length);
      return Buffer.alloc(Math.max(16, need));
    });
    const first = text((o) => writeString(o, 'abc'), out);
    const firstView = (() => {
      out.begin();
      writeString(out, 'early');
      return out.end();
    })();
    const long = text((o) => writeString(o, 'a record longer than the buffer'), out);
    expect([first, firstView.toString('utf8'), long]).toEqual(['"abc"', '"early"', '"a record longer than the buffer"']);
    expect(buffers.length).toBeGreaterThan(0);
  });
});
