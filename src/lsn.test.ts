import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from './lsn.ts';

describe('LSNs', () => {
  it('read and print the way Postgres does, across the whole 64-bit range', () => {
    const cases: Array<[string, bigint]> = [
      ['0/0', 0n],
      ['0/16B3748', 0x16b3748n],
      ['16/B374D848', (0x16n << 32n) | 0xb374d848n],
      ['1FFFFF/FFFFFFFF', 2n ** 53n - 1n],
      ['200000/0', 2n ** 53n],
      ['FFFFFFFF/FFFFFFFF', 2n ** 64n - 1n],
      ['DEADBEEF/1', (0xdeadbeefn << 32n) | 1n],
    ];
    for (const [text, lsn] of cases) {
      expect(parseLsn(text), text).toBe(lsn);
      expect(formatLsn(lsn), text).toBe(text);
    }
  });

  it('take lower-case hex, surrounding space and leading zeros, and print them canonically', () => {
    expect(parseLsn('16/b374d848')).toBe(parseLsn('16/B374D848'));
    expect(parseLsn(' 0/16B3748\n')).toBe(0x16b3748n);
    expect(formatLsn(parseLsn('00000001/0000000A'))).toBe('1/A');
  });

  it('refuse anything else with the form they expect', () => {
    for (const bad of ['', '/', '0/', '/0', '0//0', '0/0/0', '123456789/0', '0/123456789', '0x1/0', '0/G', '-1/0', '1 /0', '12345', 'Ä/0']) {
      expect(() => parseLsn(bad), JSON.stringify(bad)).toThrow(`not an LSN: "${bad}" (expected X/Y in hex, like 0/16B3748)`);
    }
  });
});
