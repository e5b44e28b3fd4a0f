import { describe, expect, it } from 'vitest';
import { formatProgress, progressOf } from './replay-progress.ts';

describe('replay progress', () => {
  const reading = { start: 1000n, to: 11_000n, position: 3500n, events: 1200, startedAt: 0 };

  it('measures the window in WAL bytes, with an ETA from the rate so far', () => {
    expect(progressOf(reading, 5000)).toEqual({ fraction: 0.25, bytesPerSecond: 500, etaSeconds: 15 });
    expect(progressOf({ ...reading, position: 1000n }, 5000).etaSeconds).toBeNull();
    expect(progressOf({ ...reading, to: 1000n }, 5000).fraction).toBe(1);
  });

  it('draws one bar line', () => {
    expect(formatProgress(reading, 5000)).toBe('replay [#####...............]  25%  0/DAC of 0/2AF8  1200 events  500 B/s WAL  ETA 15s');
  });
});
