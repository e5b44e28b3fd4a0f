import { describe, expect, it } from 'vitest';
import { parseFrom, parseTo } from './replay-inputs.ts';

describe('--from', () => {
  it.each([
    [undefined, { kind: 'rewind' }],
    ['rewind', { kind: 'rewind' }],
    ['0/16B3748', { kind: 'lsn', lsn: 0x16b3748n }],
    ['1A/0', { kind: 'lsn', lsn: 0x1an << 32n }],
    ['2024-05-01T10:00:00Z', { kind: 'time', ms: Date.UTC(2024, 4, 1, 10), text: '2024-05-01T10:00:00Z' }],
    ['2024-05-01 10:00:00.5Z', { kind: 'time', ms: Date.UTC(2024, 4, 1, 10, 0, 0, 500), text: '2024-05-01 10:00:00.5Z' }],
    ['2024-05-01T12:00+02:00', { kind: 'time', ms: Date.UTC(2024, 4, 1, 10), text: '2024-05-01T12:00+02:00' }],
    ['2024-05-01T12:00:00+0200', { kind: 'time', ms: Date.UTC(2024, 4, 1, 10), text: '2024-05-01T12:00:00+0200' }],
  ])('%s', (text, expected) => {
    expect(parseFrom(text)).toEqual(expected);
  });

  it.each([
    ['12345', /is not an LSN, an ISO time or "rewind"/, /0\/16B3748/],
    ['0/XYZ', /is not an LSN/, /a time like/],
    ['yesterday', /is not an LSN/, /rewind \(the default\)/],
    ['2024-05-01T10:00:00', /has no time zone/, /2024-05-01T10:00:00Z for UTC/],
    ['2024-02-30T10:00:00Z', /is not a valid time/, /ISO 8601/],
    ['2024-05-01T25:00:00Z', /is not a valid time/, /ISO 8601/],
  ])('%j is refused with a hint', (text, message, hint) => {
    let error: any;
    try {
      parseFrom(text);
    } catch (err) {
      error = err;
    }
    expect(error?.kind).toBe('operator');
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });
});

describe('--to', () => {
  it('is now by default, or an LSN', () => {
    expect(parseTo(undefined)).toEqual({ kind: 'now' });
    expect(parseTo('now')).toEqual({ kind: 'now' });
    expect(parseTo('0/10')).toEqual({ kind: 'lsn', lsn: 16n });
    expect(() => parseTo('2024-05-01T10:00:00Z')).toThrow(/--to "2024-05-01T10:00:00Z" is not an LSN or "now"/);
  });
});
