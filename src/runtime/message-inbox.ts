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
  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      while (inboxHead < inbox.length && !pause.has('budget')) {
        const [lsn, message] = inbox[inboxHead++];
        const pending = handle(lsn, message);
        if (pending) {
          pause.set('catalog', true);
          await pending;
          pause.set('catalog', false);
        }
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
  return {
    push(lsn, message) {
      inbox.push([lsn, message]);
      if (!pumping) void pump();
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
