import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, formatTimestampTz, intervalIsoString, intervalMicros, parseDate, parseInterval, parseTimestamp } from './temporal.ts';

describe('proleptic Gregorian calendar', () => {
  it('round-trips days ↔ dates across eras, leap years included', () => {
    for (let days = -800_000; days <= 800_000; days += 997) {
      const [y, m, d] = civilFromDays(days);
      expect(daysFromCivil(y, m, d)).toBe(days);
    }
    expect(daysFromCivil(2000, 2, 29) - daysFromCivil(2000, 2, 28)).toBe(1);
    expect(daysFromCivil(1900, 3, 1) - daysFromCivil(1900, 2, 28)).toBe(1);
  });
});

describe('ISO text', () => {
  it('refuses other DateStyles instead of guessing', () => {
    expect(() => parseDate('05/01/2024')).toThrow(/ISO/);
    expect(() => parseTimestamp('Wed May 01 10:00:00 2024')).toThrow(/ISO/);
  });

  it('reads offsets with seconds (old zones far from UTC)', () => {
    expect(formatTimestampTz('1900-01-01 00:00:00+00:19:32', 6)).toBe('1899-12-31T23:40:28.000000Z');
  });

  it('reads ISO-8601 intervals the way pgjdbc PGInterval does', () => {
    expect(parseInterval('P1Y2M3DT4H5M6.78S')).toEqual({ years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6.78 });
    expect(() => parseInterval('1 day')).toThrow(/ISO/);
    // months are 365.25/12 days; a year-long interval is not 365 days
    expect(intervalMicros(parseInterval('P1Y'))).toBe(31_557_600_000_000n);
    expect(intervalIsoString(parseInterval('P-1Y-2M'))).toBe('P-1Y-2M0DT0H0M0S');
  });

  it('saturates MicroDuration at the int64 bounds like Java\'s (long) cast', () => {
    expect(intervalMicros(parseInterval('P178000000Y'))).toBe(9223372036854775807n);
  });
});
