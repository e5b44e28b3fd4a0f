import { describe, expect, it } from 'vitest';
import { parseLsn } from '../lsn.ts';
import { standbyStatusUpdate } from './replication-stream.ts';

describe('standby status update', () => {
  it('reports exactly the given LSN as written, flushed and applied (not lsn+1)', () => {
    const lsn = parseLsn('1/FFFFFFFF');
    const msg = standbyStatusUpdate(lsn, false, Date.UTC(2000, 0, 1, 0, 0, 1));
    expect(msg.length).toBe(34);
    expect(msg.toString('latin1', 0, 1)).toBe('r');
    for (const offset of [1, 9, 17]) expect(msg.readBigUInt64BE(offset)).toBe(lsn);
    // microseconds since 2000-01-01
    expect(msg.readBigInt64BE(25)).toBe(1_000_000n);
    expect(msg.readUInt8(33)).toBe(0);
    expect(standbyStatusUpdate(lsn, true).readUInt8(33)).toBe(1);
  });
});
