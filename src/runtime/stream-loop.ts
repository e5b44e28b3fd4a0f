/**
 * Replication sessions, one after another: a lost connection is not fatal.
 * Each session starts from the confirmed position (never from the last
 * received one); after a loss the loop waits with backoff and starts again.
 * An operator error (a refused start, a frame that cannot be decoded) ends
 * the loop, and is reported even when a stop began meanwhile: reconnecting
 * would meet it again.
 */
import type { Logger } from 'pino';
import type { Checkpointer } from '../checkpoint/checkpointer.ts';
import { errorKind } from '../errors.ts';
import { formatLsn } from '../lsn.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { ReplicationHandlers, ReplicationStream } from '../source/replication-stream.ts';
import { backoffDelay, type RetryPolicy } from './backoff.ts';
import type { PauseControl } from './pause-control.ts';

export interface StreamLoopOptions {
  /** Opens a replication stream; a rejection counts as a failed connect. */
  openStream(handlers: ReplicationHandlers): ReplicationStream | Promise<ReplicationStream>;
  /** Messages and keepalives of every session (the loop handles the stream's errors itself). */
  handlers: Omit<ReplicationHandlers, 'onError'>;
  checkpointer: Checkpointer;
  pause: PauseControl;
  reconnect: RetryPolicy;
  telemetry: Telemetry;
  logger: Logger;
  /** The pipeline is stopping: start no further session. */
  stopping(): boolean;
  /** An operator error ended the loop. */
  fail(err: unknown): void;
  /** A session is streaming. */
  onStreaming(): void;
  /** A session was lost and another follows: forget what was read but not confirmed, the server sends it again. */
  onLost(): void;
}

export interface StreamLoop {
  /** The current session's stream; null between sessions. */
  current(): ReplicationStream | null;
  /** Runs sessions until the pipeline stops or an operator error (passed to fail). */
  run(): Promise<void>;
  /** Ends the current session (a stop, once the sinks have drained). */
  end(reason: Error): void;
  /** Stops the current stream, if any. */
  close(): Promise<void>;
}

export function createStreamLoop(options: StreamLoopOptions): StreamLoop {
  const { checkpointer, telemetry, logger } = options;
  let stream: ReplicationStream | null = null;
  let streamDied: ((err: Error) => void) | null = null;
  const handlers: ReplicationHandlers = {
    ...options.handlers,
    onError(err) {
      streamDied?.(err);
    },
  };

  /** Starts one replication session; `died` settles when it ends, for whatever reason. */
  const streamOnce = async (): Promise<{ died: Promise<Error> }> => {
    const died = new Promise<Error>((resolve) => (streamDied = resolve));
    stream = await options.openStream(handlers);
    const from = checkpointer.confirmable(false);
    await stream.start(from);
    options.pause.apply(); // the pause reasons still in force hold for the new socket too
    telemetry.streaming = true;
    telemetry.lastInboundAt = Date.now();
    if (!options.stopping()) telemetry.state = 'streaming';
    logger.info({ from: formatLsn(from) }, 'streaming');
    return { died };
  };

  return {
    current: () => stream,
    async run() {
      for (let attempt = 0; !options.stopping(); ) {
        let err: Error;
        try {
          const session = await streamOnce();
          attempt = 0;
          options.onStreaming();
          err = await session.died;
        } catch (startErr) {
          if (errorKind(startErr) === 'operator') {
            options.fail(startErr);
            break;
          }
          err = startErr instanceof Error ? startErr : new Error(String(startErr));
        }
        await stream?.stop();
        stream = null;
        telemetry.streaming = false;
        if (errorKind(err) === 'operator') {
          // e.g. a frame we cannot decode: reconnecting would read it again. Reported also
          // when a stop began while this session ended: that stop must not swallow it.
          options.fail(err);
          break;
        }
        if (options.stopping()) break;
        telemetry.state = 'reconnecting';
        telemetry.reconnects++;
        options.onLost();
        const delay = backoffDelay(options.reconnect, attempt++);
        logger.warn({ err: err.message, retryInMs: delay, from: formatLsn(checkpointer.confirmable(false)) }, 'replication connection lost; reconnecting');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    end: (reason) => streamDied?.(reason),
    close: async () => {
      await stream?.stop();
    },
  };
}
