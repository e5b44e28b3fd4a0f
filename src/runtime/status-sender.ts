/**
 * Tells Postgres the confirmable position (DESIGN.md, invariants 1 and 5): on
 * the status timer and when the server asks (forced), and after sink
 * acknowledgements — then at most every STATUS_THROTTLE_MS, and only when the
 * position moved.
 */
import type { Logger } from 'pino';
import type { Checkpointer } from '../checkpoint/checkpointer.ts';
import { describeError } from '../errors.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { ReplicationStream } from '../source/replication-stream.ts';

/** Least time between two unforced updates, so a burst of acknowledgements is one message. */
export const STATUS_THROTTLE_MS = 200;

export interface StatusSenderOptions {
  checkpointer: Checkpointer;
  /** Nothing read is unhandled or unwritten: the checkpointer may then confirm the server's WAL end. */
  idle(): boolean;
  /** The current stream; null between sessions (nothing is sent then). */
  stream(): Pick<ReplicationStream, 'sendStatus'> | null;
  telemetry: Pick<Telemetry, 'confirmed'>;
  logger: Logger;
  /** The clock, in ms. */
  now?: () => number;
}

/** Sends a status update; unforced ones are throttled and skipped when the position has not moved. */
export type SendStatus = (force: boolean, replyRequested?: boolean) => void;

export function createStatusSender(options: StatusSenderOptions): SendStatus {
  const { checkpointer, telemetry, logger, now = Date.now } = options;
  let lastSent: Lsn = -1n;
  let lastSentAt = 0;
  return (force, replyRequested = false) => {
    const stream = options.stream();
    if (!stream) return;
    const lsn = checkpointer.confirmable(options.idle());
    const at = now();
    if (!force && (lsn === lastSent || at - lastSentAt < STATUS_THROTTLE_MS)) return;
    stream.sendStatus(lsn, replyRequested);
    telemetry.confirmed(lsn);
    if (lsn !== lastSent) logger.debug({ confirmedLsn: formatLsn(lsn), lagging: checkpointer.laggingSink() }, 'confirmed');
    lastSent = lsn;
    lastSentAt = at;
  };
}

export interface StatusTimers {
  statusIntervalMs: number;
  /** Writes a heartbeat into the WAL, so an idle slot still sees its position move (0 ms: never). */
  heartbeat?: () => Promise<void>;
  heartbeatIntervalMs: number;
  logger: Logger;
}

/** The status timer, and the heartbeat timer when heartbeats are on; returns what clears them. */
export function startStatusTimers(sendStatus: SendStatus, { statusIntervalMs, heartbeat, heartbeatIntervalMs, logger }: StatusTimers): () => void {
  const statusTimer = setInterval(() => sendStatus(true), statusIntervalMs);
  const heartbeatTimer = heartbeat && heartbeatIntervalMs > 0
    ? setInterval(() => {
      heartbeat().catch((err) => logger.warn({ err: describeError(err) }, 'heartbeat failed'));
    }, heartbeatIntervalMs)
    : null;
  return () => {
    clearInterval(statusTimer);
    if (heartbeatTimer) clearInterval(heartbeatTimer);
  };
}
