/**
 * The two probes, as Kubernetes means them.
 *
 * Liveness (/healthz): restart me. Only for a process that is wedged — the
 * event loop answering is the first half (a blocked loop cannot answer at
 * all); the second is that the pipeline moves or is legitimately idle: while
 * the replication connection is up the server sends at least a keepalive
 * every wal_sender_timeout / 2 (heard only while slotline reads the socket:
 * a pause while the sinks catch up or retry is not silence), and no sink
 * write may hang without returning.
 * A sink that fails and retries, or a reconnect loop, is not wedged: a
 * restart would not help, so those make the worker unready, not dead.
 *
 * Readiness (/readyz): the worker does its job now — it streams from the
 * slot and every sink has started and is not failing.
 *
 * `/readyz?exclude=standby` (kube-apiserver's spelling for leaving a check
 * out) also counts a waiting hot standby as ready: it passed every start-up
 * check and will take over. A Kubernetes readiness probe needs that form: with
 * plain /readyz only one of two replicas is ever ready, so the Deployment never
 * counts as complete and every rollout ends in ProgressDeadlineExceeded.
 */
import type { PauseReason } from '../runtime/pause-control.ts';
import type { Telemetry } from './telemetry.ts';

export interface ProbeResult {
  ok: boolean;
  reasons: string[];
}

/**
 * Pauses that wait on the sinks: the in-flight ceiling, a stop's drain. A
 * paused socket reads no keepalives, so the silence is ours; a sink write
 * that hangs has a check of its own below. A catalog look-up that hangs is a
 * wedge: that pause does not count.
 */
const WAITING_ON_SINKS: ReadonlySet<PauseReason> = new Set<PauseReason>(['budget', 'stopping']);

export function liveness(telemetry: Telemetry, stallTimeoutMs: number, now = Date.now()): ProbeResult {
  const reasons: string[] = [];
  const paused = telemetry.pausedBy();
  const waitingOnSinks = paused.length > 0 && paused.every((reason) => WAITING_ON_SINKS.has(reason));
  const silentSince = Math.max(telemetry.lastInboundAt, telemetry.readingSince);
  if (telemetry.streaming && !waitingOnSinks && now - silentSince > stallTimeoutMs) {
    reasons.push(`nothing received on the replication connection for ${Math.round((now - silentSince) / 1000)} s (not even a keepalive)`);
  }
  for (const sink of telemetry.sinks) {
    if (sink.writeStartedAt !== null && now - sink.writeStartedAt > stallTimeoutMs) {
      reasons.push(`sink "${sink.name}" has a write in flight for ${Math.round((now - sink.writeStartedAt) / 1000)} s`);
    }
  }
  return { ok: reasons.length === 0, reasons };
}

export interface ReadinessOptions {
  /** A waiting hot standby counts as ready (its sinks start only when it takes over). */
  standbyIsReady?: boolean;
}

export function readiness(telemetry: Telemetry, options: ReadinessOptions = {}): ProbeResult {
  if (telemetry.state === 'standby' && options.standbyIsReady) return { ok: true, reasons: [] };
  const reasons: string[] = [];
  switch (telemetry.state) {
    case 'streaming':
      break;
    case 'standby':
      reasons.push(`standby: the slot is streamed by another process (${telemetry.standbyFor ?? 'unknown'}); this worker takes over when it is released`);
      break;
    case 'snapshotting':
      reasons.push('the initial snapshot is being taken; streaming starts after it');
      break;
    case 'failed':
      reasons.push(`the pipeline failed: ${telemetry.failure ?? 'unknown error'}`);
      break;
    default:
      reasons.push(`the replication connection is not streaming (${telemetry.state})`);
  }
  for (const sink of telemetry.sinks) {
    if (sink.state === 'starting') reasons.push(`sink "${sink.name}" has not started`);
    else if (sink.state !== 'ok') reasons.push(`sink "${sink.name}" is ${sink.state}: ${sink.lastError?.message.split('\n')[0] ?? ''}`.trimEnd());
  }
  return { ok: reasons.length === 0, reasons };
}
