import { describe, expect, it } from 'vitest';
import { formatDuration, formatRetention, parseRetention } from './retention.ts';

describe('parseRetention', () => {
  it.each([
    ['1h', { by: 'time', ms: 3_600_000 }],
    ['90m', { by: 'time', ms: 5_400_000 }],
    ['1h30m', { by: 'time', ms: 5_400_000 }],
    ['1h 30m', { by: 'time', ms: 5_400_000 }],
    ['2d', { by: 'time', ms: 172_800_000 }],
    ['45s', { by: 'time', ms: 45_000 }],
    ['1500ms', { by: 'time', ms: 1500 }],
    ['2GiB', { by: 'wal', bytes: 2 * 2 ** 30 }],
    ['500MB', { by: 'wal', bytes: 500e6 }],
    ['64 MiB', { by: 'wal', bytes: 64 * 2 ** 20 }],
  ])('%s → %o', (text, expected) => {
    expect(parseRetention(text)).toEqual(expected);
  });

  it.each([
    ['3600', /has no unit/],
    ['', /invalid retention/],
    ['1 hour', /invalid retention/],
    ['1h2GiB', /invalid retention/],
    ['500ms', /shorter than a second/],
    ['0B', /more than 0 bytes/],
    ['-1h', /invalid retention/],
  ])('%j is refused', (text, message) => {
    const parsed = parseRetention(text);
    expect(parsed).toHaveProperty('error');
    expect((parsed as { error: string }).error).toMatch(message);
  });

  it('formats back the way people write it', () => {
    expect(formatRetention({ by: 'time', ms: 5_400_000 })).toBe('1h30m');
    expect(formatRetention({ by: 'wal', bytes: 2 * 2 ** 30 })).toBe('2GiB');
    expect(formatRetention({ by: 'wal', bytes: 1000 })).toBe('1000B');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(90_061_000)).toBe('1d1h1m1s');
  });
});
