/**
 * Inbound messages are handled in order; a handler that must wait (catalog
 * look-up) pauses the socket and the rest queue up behind it. Past the
 * in-flight ceiling the rest wait too: pausing the socket cannot stop the
 * parser from delivering the rest of the chunk it is in (up to 64 KiB of
 * messages, several times that as events), so turning them into events only
 * when the budget allows keeps the ceiling within one message's events.
 */
import type { Lsn } from '../lsn.ts';
import type { PgoutputMessage } from '../types.ts';
import type { PauseControl } from './pause-control.ts';

export interface MessageInbox {
  /** Queues a message and handles it at once when nothing is ahead of it. */
  push(lsn: Lsn, message: PgoutputMessage): void;
  /** The budget has room again: handles what waits, on a later microtask (not inside the budget's callback). */
  wake(): void;
  /** Nothing waits and nothing is being handled. */
  readonly empty: boolean;
  /** Drops what waits: after a lost connection the server sends it again. */
  clear(): void;
}

export interface MessageInboxOptions {
  /** Turns one message into events; a promise when it must wait (the pump pauses the socket meanwhile). */
  handle(lsn: Lsn, message: PgoutputMessage): Promise<void> | void;
  pause: PauseControl;
  /** A handler threw: the pipeline fails. */
  fail(err: unknown): void;
}

export function createMessageInbox({ handle, pause, fail }: MessageInboxOptions): MessageInbox {
  let inbox: Array<[Lsn, PgoutputMessage]> = [];
  let inboxHead = 0;
  let pumping = false;
  /** Handles what waits, after `pending` (a message's look-up) when given; one pump at a time. */
  const pump = async (pending?: Promise<void>): Promise<void> => {
    pumping = true;
    try {
      if (pending) await waitFor(pending);
      while (inboxHead < inbox.length && !pause.has('budget')) {
        const [lsn, message] = inbox[inboxHead++];
        const next = handle(lsn, message);
        if (next) await waitFor(next);
      }
      if (inboxHead >= inbox.length) {
        inbox = [];
        inboxHead = 0;
      }
    } catch (err) {
      fail(err);
    } finally {
      pumping = false;
    }
  };
  const waitFor = async (pending: Promise<void>): Promise<void> => {
    pause.set('catalog', true);
    await pending;
    pause.set('catalog', false);
  };
  return {
    push(lsn, message) {
      if (pumping || inboxHead < inbox.length || pause.has('budget')) {
        inbox.push([lsn, message]);
        if (!pumping) void pump();
        return;
      }
      // Nothing ahead of it and room in the budget: handled now, without a queue entry or a
      // promise (the usual case; ~0.4 KB of garbage per row on a backlog otherwise).
      let pending: Promise<void> | void;
      pumping = true;
      try {
        pending = handle(lsn, message);
      } catch (err) {
        fail(err);
        return;
      } finally {
        pumping = false;
      }
      if (pending) void pump(pending);
    },
    wake() {
      queueMicrotask(() => void (pumping ? undefined : pump()));
    },
    get empty() {
      return inboxHead >= inbox.length && !pumping;
    },
    clear() {
      inbox = [];
      inboxHead = 0;
    },
  };
}
