import { describe, expect, it } from 'vitest';
import { createCheckpointer } from './checkpointer.ts';

describe('checkpointer', () => {
  it('confirms the minimum over sinks', () => {
    const cp = createCheckpointer(['kafka', 'search'], 100n);
    cp.sinkAcked('kafka', 300n);
    expect(cp.confirmable(false)).toBe(100n);
    expect(cp.laggingSink()).toBe('search');
    cp.sinkAcked('search', 200n);
    expect(cp.confirmable(false)).toBe(200n);
    cp.sinkAcked('search', 400n);
    expect(cp.confirmable(false)).toBe(300n);
    expect(cp.laggingSink()).toBe('kafka');
  });

  it('advances to the server WAL end only when idle', () => {
    const cp = createCheckpointer(['kafka'], 100n);
    cp.observeWalEnd(900n);
    expect(cp.confirmable(false)).toBe(100n);
    expect(cp.confirmable(true)).toBe(900n);
  });

  it('never moves backwards', () => {
    const cp = createCheckpointer(['a', 'b'], 100n);
    cp.observeWalEnd(500n);
    expect(cp.confirmable(true)).toBe(500n);
    cp.sinkAcked('a', 600n);
    // b still at 100: the watermark is lower than what was already confirmed while idle.
    expect(cp.confirmable(false)).toBe(500n);
    cp.sinkAcked('a', 50n);
    expect(cp.positions().get('a')).toBe(600n);
  });

  it('rejects acknowledgements from sinks it does not know', () => {
    const cp = createCheckpointer(['a'], 0n);
    expect(() => cp.sinkAcked('b', 1n)).toThrow(/unknown sink "b"/);
  });
});
