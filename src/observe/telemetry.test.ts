import { describe, expect, it } from 'vitest';
import type { PauseReason } from '../runtime/pause-control.ts';
import { liveness, readiness } from './health.ts';
import { createTelemetry } from './telemetry.ts';

const at = (ms: number) => () => ms;

describe('telemetry: lag in seconds', () => {
  it('runs from the oldest unconfirmed commit, and is 0 once everything is confirmed', () => {
    let now = 10_000;
    const t = createTelemetry({ sinks: [], inFlightCeiling: 1, now: () => now });
    expect(t.lagSeconds()).toBe(0);
    t.transactionReceived(100n, 1_000_000n); // committed at 1 000 ms
    t.transactionReceived(200n, 5_000_000n); // 5 000 ms
    t.transactionReceived(300n, 9_000_000n); // 9 000 ms
    expect(t.lagSeconds()).toBe(9);
    t.confirmed(150n); // past the first transaction, not the end of the second
    expect(t.lagSeconds()).toBe(5);
    t.confirmed(100n); // an older confirmation changes nothing
    expect(t.lagSeconds()).toBe(5);
    expect(t.confirmedLsn).toBe(150n);
    t.confirmed(200n);
    expect(t.lagSeconds()).toBe(1);
    now = 12_000;
    expect(t.lagSeconds()).toBe(3);
    t.confirmed(300n);
    expect(t.lagSeconds()).toBe(0);
    expect(t.confirmedLsn).toBe(300n);
  });

  it('keeps one entry per 100 ms of commits (bounded by the lag, not the transaction count)', () => {
    const t = createTelemetry({ sinks: [], inFlightCeiling: 1, now: at(1_000) });
    for (let i = 1; i <= 10_000; i++) t.transactionReceived(BigInt(i), 500_000n + BigInt(i)); // all within 10 ms
    expect(t.lagSeconds()).toBeCloseTo(0.5, 2);
    t.confirmed(9_999n); // the bucket ends at 10 000: still counted from its first commit
    expect(t.lagSeconds()).toBeCloseTo(0.5, 2);
    t.confirmed(10_000n);
    expect(t.lagSeconds()).toBe(0);
  });
});

describe('telemetry: sinks', () => {
  it('an idle sink is as far as the confirmed position; the slowest is the lowest', () => {
    const t = createTelemetry({ sinks: [{ name: 'a', type: 'kafka' }, { name: 'b', type: 'redis' }], inFlightCeiling: 1 });
    const [a, b] = t.sinks;
    a.checkpoint = 100n;
    b.checkpoint = 50n;
    a.idle = () => true;
    b.idle = () => false;
    t.confirmed(80n);
    expect(t.sinkPosition(a)).toBe(100n);
    expect(t.sinkPosition(b)).toBe(50n);
    expect(t.slowestSink()?.name).toBe('b');
    b.idle = () => true;
    expect(t.sinkPosition(b)).toBe(80n);
    expect(t.slowestSink()?.name).toBe('b');
  });

  it('counts writes per table and op, and failures by kind', () => {
    const t = createTelemetry({ sinks: [{ name: 'k', type: 'kafka' }], inFlightCeiling: 1 });
    const sink = t.sink('k');
    const seen: number[] = [];
    t.onWrite((w) => seen.push(w.events));
    t.writeFailed(sink, 'retryable', 'broker down', true);
    expect(sink).toMatchObject({ state: 'retrying', retries: 1, errors: { retryable: 1, operator: 0, record: 0 }, lastError: { message: 'broker down', kind: 'retryable' } });
    const event = (op: string, table = 'orders') => ({ op, schema: 'public', table }) as never;
    t.writeSucceeded(sink, [event('c'), event('c'), event('u', 'lines')], 300, Date.now());
    expect(sink.state).toBe('ok');
    expect(sink.events).toBe(3);
    expect(sink.bytes).toBe(300);
    expect([...sink.written]).toEqual([['public.orders\tc', 2], ['public.lines\tu', 1]]);
    expect(seen).toEqual([3]);
    // Runs of one table and op, interleaved, and the same names in other string objects.
    t.writeSucceeded(sink, [event('u', 'lines'), event('c'), event('d', `line${'s'}`), event('c', ['ord', 'ers'].join(''))], 10, Date.now());
    t.countReceived(event('c'));
    t.countReceived(event('c', 'lines'));
    t.countReceived(event('c'));
    expect([...sink.written]).toEqual([['public.orders\tc', 4], ['public.lines\tu', 2], ['public.lines\td', 1]]);
    expect([...t.received]).toEqual([['public.orders\tc', 2], ['public.lines\tc', 1]]);
  });
});

describe('probes', () => {
  it('liveness fails only for a silent stream or a write that never returns', () => {
    const t = createTelemetry({ sinks: [{ name: 'k', type: 'kafka' }], inFlightCeiling: 1, now: at(0) });
    t.streaming = true;
    t.lastInboundAt = 0;
    expect(liveness(t, 60_000, 59_000).ok).toBe(true);
    expect(liveness(t, 60_000, 61_000)).toEqual({ ok: false, reasons: ['nothing received on the replication connection for 61 s (not even a keepalive)'] });
    t.streaming = false; // reconnecting: not wedged
    expect(liveness(t, 60_000, 600_000).ok).toBe(true);
    t.sink('k').writeStartedAt = 0;
    expect(liveness(t, 60_000, 61_000).reasons).toEqual(['sink "k" has a write in flight for 61 s']);
  });

  it('liveness does not count the silence of a socket paused while the sinks catch up or retry', () => {
    const t = createTelemetry({ sinks: [{ name: 'k', type: 'kafka' }], inFlightCeiling: 1, now: at(0) });
    t.streaming = true;
    t.lastInboundAt = 0;
    let paused: PauseReason[] = ['budget'];
    t.pausedBy = () => paused;
    expect(liveness(t, 60_000, 600_000).ok).toBe(true);
    paused = ['budget', 'stopping'];
    expect(liveness(t, 60_000, 600_000).ok).toBe(true);
    // Reading again at 600 s: silence counts from there.
    paused = [];
    t.readingSince = 600_000;
    expect(liveness(t, 60_000, 659_000).ok).toBe(true);
    expect(liveness(t, 60_000, 661_000).reasons).toEqual(['nothing received on the replication connection for 61 s (not even a keepalive)']);
    // A catalog look-up that never returns is a wedge, whatever else holds.
    paused = ['budget', 'catalog'];
    expect(liveness(t, 60_000, 661_000).ok).toBe(false);
  });

  it('readiness wants streaming and every sink started and not failing', () => {
    const t = createTelemetry({ sinks: [{ name: 'k', type: 'kafka' }], inFlightCeiling: 1 });
    expect(readiness(t).reasons).toEqual(['the replication connection is not streaming (starting)', 'sink "k" has not started']);
    t.state = 'streaming';
    t.sink('k').state = 'ok';
    expect(readiness(t)).toEqual({ ok: true, reasons: [] });
    t.writeFailed(t.sink('k'), 'retryable', 'connecting to Kafka: Connection error\n  hint: …', true);
    expect(readiness(t).reasons).toEqual(['sink "k" is retrying: connecting to Kafka: Connection error']);
  });
});
