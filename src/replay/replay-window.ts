/**
 * The window of a replay, applied between the replication stream and the
 * pipeline (which stays exactly the worker's): only transactions whose commit
 * record lies before `to`, and with a `--from` time only those committed at
 * or after it, reach the pipeline. Relation and Type messages always pass, so
 * the normalizer knows every table's shape.
 *
 * It also says when the window is done: at the first transaction (or
 * non-transactional message) at or past `to`, or at a keepalive whose
 * position is at or past `to` (the server has decoded every commit before
 * it). Once `checkFirst` has refused the stream, the window is never done.
 * While it is not done, the stream asks the server for a keepalive every
 * second, so the end is seen without writing to the WAL.
 */
import type { Lsn } from '../lsn.ts';
import type { ReplicationHandlers, ReplicationStream } from '../source/replication-stream.ts';
import type { PgoutputMessage } from '../types.ts';

const PING_MS = 1000;

export interface ReplayWindowOptions {
  /** Replay transactions whose commit record starts before this position. */
  to: Lsn;
  /** Keep only transactions committed at or after this instant (ms since the epoch); null keeps all. */
  fromTimeMs: number | null;
  /**
   * Called once, with the first transaction the stream holds (before it is
   * passed on): an error returned here ends the replay before anything of it
   * reaches the sink.
   */
  checkFirst?: (commitTimeMs: number, commitLsn: Lsn) => Error | null;
}

export interface ReplayWindow {
  /** Wraps the pipeline's handlers for one replication session. */
  handlers(inner: ReplicationHandlers): ReplicationHandlers;
  /** Wraps one session's stream: pings for keepalives until the window is done. */
  stream(inner: ReplicationStream): ReplicationStream;
  /** Resolves once every transaction of the window has been passed on. */
  readonly done: Promise<void>;
  readonly isDone: boolean;
  /** The end LSN of the last transaction (or message) passed on: the sink must have it before the replay ends. */
  readonly lastPassedEnd: Lsn | null;
  /** How far the stream has come, up to `to` (for progress). */
  readonly position: Lsn;
  /** The first transaction passed on: its commit LSN and time. */
  readonly firstPassed: { commitLsn: Lsn; commitTimeMs: number } | null;
}

export function createReplayWindow(options: ReplayWindowOptions): ReplayWindow {
  const { to, fromTimeMs } = options;
  let isDone = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let failed = false;
  let sawFirst = false;
  let lastPassedEnd: Lsn | null = null;
  let position: Lsn = 0n;
  let firstPassed: ReplayWindow['firstPassed'] = null;

  const reach = (): void => {
    if (isDone) return;
    isDone = true;
    position = to;
    finish();
  };
  const seen = (lsn: Lsn): void => {
    const capped = lsn < to ? lsn : to;
    if (capped > position) position = capped;
  };

  return {
    handlers(inner) {
      // Per session: a new session starts between transactions.
      let inTx = false;
      let dropping = false;
      let reachAtCommit = false;
      let lastCommitTimeMs: number | null = null;

      const onMessage = (lsn: Lsn, message: PgoutputMessage): void => {
        if (isDone || failed) return;
        seen(lsn);
        switch (message.tag) {
          case 'begin': {
            if (message.finalLsn >= to) return reach();
            const commitTimeMs = Number(message.commitTimeUs / 1000n);
            if (!sawFirst) {
              sawFirst = true;
              const err = options.checkFirst?.(commitTimeMs, message.finalLsn) ?? null;
              if (err) {
                failed = true;
                return inner.onError(err);
              }
            }
            inTx = true;
            lastCommitTimeMs = commitTimeMs;
            dropping = fromTimeMs !== null && commitTimeMs < fromTimeMs;
            if (!dropping) {
              firstPassed ??= { commitLsn: message.finalLsn, commitTimeMs };
              inner.onMessage(lsn, message);
            }
            return;
          }
          case 'commit':
            inTx = false;
            if (!dropping) {
              inner.onMessage(lsn, message);
              lastPassedEnd = message.endLsn;
            }
            dropping = false;
            if (reachAtCommit) reach();
            return;
          case 'relation':
          case 'type':
            return inner.onMessage(lsn, message);
          case 'message':
            if (!inTx) {
              // Non-transactional: its own unit, at its own position; its time is that of the commit before it.
              if (lsn >= to) return reach();
              if (fromTimeMs !== null && (lastCommitTimeMs === null || lastCommitTimeMs < fromTimeMs)) return;
              inner.onMessage(lsn, message);
              lastPassedEnd = lsn;
              return;
            }
            if (!dropping) inner.onMessage(lsn, message);
            return;
          default:
            if (!dropping) inner.onMessage(lsn, message);
        }
      };

      return {
        onMessage,
        onKeepalive(walEnd, replyRequested) {
          seen(walEnd);
          // A window that failed is never done: the keepalive that follows the refused
          // transaction in the same socket read must not end the run as complete.
          if (!isDone && !failed && walEnd >= to) {
            if (inTx) reachAtCommit = true;
            else reach();
          }
          inner.onKeepalive(walEnd, replyRequested);
        },
        onError: (err) => inner.onError(err),
      };
    },

    stream(inner) {
      let lastStatus: Lsn = 0n;
      let timer: NodeJS.Timeout | null = null;
      const stopPinging = (): void => {
        if (timer) clearInterval(timer);
        timer = null;
      };
      return {
        async start(startLsn) {
          lastStatus = startLsn;
          await inner.start(startLsn);
          timer = setInterval(() => (isDone ? stopPinging() : inner.sendStatus(lastStatus, true)), PING_MS);
          timer.unref();
        },
        pause: () => inner.pause(),
        resume: () => inner.resume(),
        sendStatus(flushLsn, replyRequested) {
          lastStatus = flushLsn;
          inner.sendStatus(flushLsn, replyRequested);
        },
        async stop() {
          stopPinging();
          await inner.stop();
        },
      };
    },

    done,
    get isDone() {
      return isDone;
    },
    get lastPassedEnd() {
      return lastPassedEnd;
    },
    get position() {
      return position;
    },
    get firstPassed() {
      return firstPassed;
    },
  };
}
