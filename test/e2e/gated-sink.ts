/**
 * A sink whose writes wait until the test opens the gate: it stands for a sink
 * that has not durably accepted a change yet, so tests can watch what slotline
 * tells Postgres meanwhile. (It replaces no server: the subject of these tests
 * is the Postgres side.)
 */
import type { Sink } from '../../src/sink.ts';
import type { ChangeEvent } from '../../src/types.ts';

export interface GatedSink extends Sink {
  /** Every event handed to write(), in order, including repeats. */
  readonly received: ChangeEvent[];
  /** Events whose write() resolved. */
  readonly written: ChangeEvent[];
  open(): void;
  close(): void;
  /** Lets the next `n` writes through, then holds again. */
  allow(n: number): void;
}

export function createGatedSink(name = 'gated', startOpen = false): GatedSink {
  let isOpen = startOpen;
  let allowance = 0;
  let waiters: Array<() => void> = [];
  const received: ChangeEvent[] = [];
  const written: ChangeEvent[] = [];
  return {
    name,
    received,
    written,
    async start() {},
    async write(events) {
      received.push(...events);
      while (!isOpen && allowance === 0) await new Promise<void>((resolve) => waiters.push(resolve));
      if (!isOpen) allowance--;
      written.push(...events);
    },
    async stop() {
      isOpen = true;
      waiters.splice(0).forEach((w) => w());
    },
    open() {
      isOpen = true;
      const w = waiters;
      waiters = [];
      w.forEach((resolve) => resolve());
    },
    close() {
      isOpen = false;
    },
    allow(n) {
      allowance += n;
      const w = waiters;
      waiters = [];
      w.forEach((resolve) => resolve());
    },
  };
}
