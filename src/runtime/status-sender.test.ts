import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCheckpointer } from '../checkpoint/checkpointer.ts';
import { createTelemetry } from '../observe/telemetry.ts';
import { createStatusSender, STATUS_THROTTLE_MS } from './status-sender.ts';

function setup() {
  let now = 1_000_000;
  const sent: bigint[] = [];
  const checkpointer = createCheckpointer(['a'], 100n);
  let stream: { sendStatus(lsn: bigint): void } | null = { sendStatus: (lsn) => sent.push(lsn) };
  const telemetry = createTelemetry({ sinks: [{ name: 'a', type: 'test' }], inFlightCeiling: 1000 });
  const send = createStatusSender({ checkpointer, idle: () => false, stream: () => stream, telemetry, logger: pino({ level: 'silent' }), now: () => now });
  return {
    send, sent, checkpointer, telemetry,
    advance: (ms: number) => void (now += ms),
    disconnect: () => void (stream = null),
  };
}

describe('status sender', () => {
  it('sends acknowledged positions at most once per throttle interval, and only when they moved', () => {
    const { send, sent, checkpointer, advance } = setup();
    send(false);
    expect(sent).toEqual([100n]);
    checkpointer.sinkAcked('a', 200n);
    advance(STATUS_THROTTLE_MS - 1);
    send(false);
    expect(sent).toEqual([100n]);
    advance(1);
    send(false);
    expect(sent).toEqual([100n, 200n]);
    advance(STATUS_THROTTLE_MS * 10);
    send(false); // nothing new
    expect(sent).toEqual([100n, 200n]);
  });

  it('sends a forced update (timer, keepalive asking for a reply) at once, even when nothing moved', () => {
    const { send, sent, telemetry } = setup();
    send(true);
    send(true);
    expect(sent).toEqual([100n, 100n]);
    expect(telemetry.confirmedLsn).toBe(100n);
  });

  it('sends nothing between sessions', () => {
    const { send, sent, disconnect } = setup();
    disconnect();
    send(true);
    expect(sent).toEqual([]);
  });
});
