import { describe, expect, it } from 'vitest';
import type { PgoutputMessage } from '../types.ts';
import { createMessageInbox } from './message-inbox.ts';
import { createPauseControl } from './pause-control.ts';

const message = { tag: 'Message' } as unknown as PgoutputMessage;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(handle: (lsn: bigint) => Promise<void> | void = () => {}) {
  const handled: bigint[] = [];
  const failures: unknown[] = [];
  const pause = createPauseControl(() => null);
  const inbox = createMessageInbox({
    handle: (lsn) => {
      handled.push(lsn);
      return handle(lsn);
    },
    pause,
    fail: (err) => failures.push(err),
  });
  return { inbox, pause, handled, failures };
}

describe('message inbox', () => {
  it('holds later messages behind one that waits, with the socket paused for the catalog meanwhile', async () => {
    let release!: () => void;
    const lookUp = new Promise<void>((resolve) => (release = resolve));
    const { inbox, pause, handled } = setup((lsn) => (lsn === 1n ? lookUp : undefined));
    inbox.push(1n, message);
    inbox.push(2n, message);
    inbox.push(3n, message);
    expect(handled).toEqual([1n]);
    expect(pause.has('catalog')).toBe(true);
    expect(inbox.empty).toBe(false);
    release();
    await tick();
    expect(handled).toEqual([1n, 2n, 3n]);
    expect(pause.has('catalog')).toBe(false);
    expect(inbox.empty).toBe(true);
  });

  it('past the in-flight ceiling keeps messages waiting until woken', async () => {
    const { inbox, pause, handled } = setup();
    pause.set('budget', true);
    inbox.push(1n, message);
    inbox.push(2n, message);
    await tick();
    expect(handled).toEqual([]);
    pause.set('budget', false);
    inbox.wake();
    expect(handled).toEqual([]); // not inside the budget's callback: on a later microtask
    await tick();
    expect(handled).toEqual([1n, 2n]);
  });

  it('drops what waits when cleared (the server sends it again after a reconnect)', async () => {
    const { inbox, pause, handled } = setup();
    pause.set('budget', true);
    inbox.push(1n, message);
    await tick();
    inbox.clear();
    expect(inbox.empty).toBe(true);
    pause.set('budget', false);
    inbox.push(5n, message);
    await tick();
    expect(handled).toEqual([5n]);
  });

  it('fails the pipeline when a message cannot be handled', async () => {
    const broken = new Error('unknown relation 42');
    const { inbox, failures } = setup(() => Promise.reject(broken));
    inbox.push(1n, message);
    await tick();
    expect(failures).toEqual([broken]);
    expect(inbox.empty).toBe(true);
  });
});
