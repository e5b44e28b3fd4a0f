/**
 * Streaming: replication stream → change router → sink runners, with the
 * checkpointer deciding what Postgres hears back.
 *
 * Lifecycle: run() streams until stop() or a fatal error. A lost connection is
 * not fatal: the stream restarts with backoff from the confirmed position
 * (never from the last received one). stop() stops reading, lets the sinks
 * drain, confirms what they have, and closes.
 *
 * The parts: why the socket is paused (./pause-control.ts), the inbound
 * messages in order (./message-inbox.ts), what Postgres hears back
 * (./status-sender.ts), the snapshot's way in (./snapshot-feed.ts), and the
 * replication sessions with their reconnects (./stream-loop.ts).
 */
import type { Logger } from 'pino';
import { createCheckpointer, type Checkpointer } from '../checkpoint/checkpointer.ts';
import { describeError } from '../errors.ts';
import type { Lsn } from '../lsn.ts';
import type { Router } from '../route/router.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { IncrementalSnapshots } from '../snapshot/incremental-snapshot.ts';
import type { SnapshotFeed } from '../snapshot/snapshot-runner.ts';
import type { ReplicationStream, ReplicationHandlers } from '../source/replication-stream.ts';
import type { Sink } from '../sink.ts';
import type { TableScope } from '../source/table-scope.ts';
import type { Op } from '../types.ts';
import type { RetryPolicy } from './backoff.ts';
import { createChangeRouter } from './change-router.ts';
import type { ChangeNormalizer } from './change-normalizer.ts';
import { createInFlightBudget, type InFlightBudget } from './in-flight-budget.ts';
import { createMessageInbox, type MessageInbox } from './message-inbox.ts';
import { createPauseControl, type PauseReason } from './pause-control.ts';
import { createSinkRunners, drainWithin } from './sink-runners.ts';
import { createSnapshotFeed } from './snapshot-feed.ts';
import { createStatusSender, startStatusTimers, type SendStatus } from './status-sender.ts';
import { createStreamLoop } from './stream-loop.ts';

export interface PipelineOptions {
  /** Opens a replication stream; called again after each connection loss. A rejection counts as a failed connect. */
  openStream(handlers: ReplicationHandlers): ReplicationStream | Promise<ReplicationStream>;
  /** Started by the caller (before the slot exists); stopped by run() when it ends. */
  sinks: readonly Sink[];
  /** Per-sink batching; index-aligned with `sinks`. */
  batching: readonly { maxEvents: number; maxBytes: number; lingerMs: number }[];
  router: Router;
  scope: TableScope;
  normalizer: ChangeNormalizer;
  /** The slot's confirmed position: where streaming starts. */
  startLsn: Lsn;
  /** True when this start created the slot: the first transaction then has no known previous commit. */
  slotCreated: boolean;
  skippedOperations: ReadonlySet<Op>;
  maxInFlightBytes: number;
  sinkRetry: RetryPolicy;
  reconnect: RetryPolicy;
  statusIntervalMs: number;
  /** Writes a heartbeat into the WAL; called every heartbeatIntervalMs (0 = never). */
  heartbeat?: () => Promise<void>;
  heartbeatIntervalMs: number;
  shutdownTimeoutMs: number;
  logger: Logger;
  /**
   * Runs after the sinks started and before streaming (the initial snapshot):
   * feeds events through the same runners, budget and retries. 'stop' ends
   * the run without streaming (snapshot mode initial_only).
   */
  beforeStreaming?: (feed: SnapshotFeed) => Promise<'stream' | 'stop'>;
  /** Re-snapshots while streaming: started with the first stream, stopped with the pipeline. */
  incremental?: IncrementalSnapshots;
  /** What the pipeline reports for metrics, /status and the probes. */
  telemetry: Telemetry;
  /** Called at each commit read from the slot, with its end LSN and commit time (µs since the epoch). */
  onCommit?: (endLsn: Lsn, commitTimeUs: bigint) => void;
}

export interface Pipeline {
  /** Streams until stop() (resolves) or a fatal error (rejects). */
  run(): Promise<void>;
  /** Graceful stop: stop reading, drain sinks, confirm, close. Idempotent. */
  stop(reason?: string): Promise<void>;
  readonly checkpointer: Checkpointer;
  /** Counters for logs, tests and the benchmark. */
  stats(): { transactions: number; events: number; confirmedLsn: Lsn; inFlightBytes: number; peakInFlightBytes: number; pausedBy: PauseReason[] };
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { logger, telemetry } = options;
  const checkpointer = createCheckpointer(options.sinks.map((s) => s.name), options.startLsn);
  let fatalError: unknown = null;
  let stopping = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const pause = createPauseControl(() => loop.current(), () => (telemetry.readingSince = Date.now()));
  const budget = createInFlightBudget(options.maxInFlightBytes, (over) => {
    if (over) logger.debug({ inFlightBytes: budget.used }, 'in-flight ceiling reached; pausing the slot');
    pause.set('budget', over);
    if (!over) snapshot.wake();
    // Messages that came with the socket chunk being parsed when the ceiling was reached wait in the inbox.
    if (!over) inbox.wake();
  });
  telemetry.inFlightBytes = () => budget.used;
  telemetry.pausedBy = () => pause.reasons();

  const fail = (err: unknown): void => {
    if (fatalError) return;
    fatalError = err;
    telemetry.failure = describeError(err);
    telemetry.state = 'failed';
    logger.error({ err: describeError(err) }, 'pipeline failed');
    void shutdown();
  };

  const runners = createSinkRunners({
    sinks: options.sinks, batching: options.batching, retry: options.sinkRetry, startLsn: options.startLsn,
    budget, checkpointer, telemetry, logger, acked: () => sendStatus(false), fail,
  });
  const changes = createChangeRouter({
    normalizer: options.normalizer,
    router: options.router,
    scope: options.scope,
    telemetry,
    runners,
    skippedOperations: options.skippedOperations,
    resumedCommitLsn: options.slotCreated ? null : options.startLsn,
    logger,
    snapshotMarks: options.incremental?.marks,
    onCommit: options.onCommit,
  });
  const inbox = createMessageInbox({ handle: (lsn, message) => changes.handle(lsn, message), pause, fail });
  const idle = (): boolean => inbox.empty && !changes.inTransaction && runners.every((r) => r.idle());
  const snapshot = createSnapshotFeed({ router: options.router, runners, telemetry, pause, stopping: () => stopping });
  const sendStatus = createStatusSender({ checkpointer, idle, stream: () => loop.current(), telemetry, logger });

  let incrementalStarted = false;
  const loop = createStreamLoop({
    openStream: options.openStream,
    handlers: inboundHandlers(telemetry, inbox, checkpointer, sendStatus),
    checkpointer, pause, reconnect: options.reconnect, telemetry, logger,
    stopping: () => stopping,
    fail,
    onStreaming() {
      if (!options.incremental || incrementalStarted) return;
      incrementalStarted = true;
      void options.incremental.run().catch((err) => logger.error({ err: describeError(err) }, 're-snapshots stopped'));
    },
    onLost() {
      changes.reset();
      options.incremental?.marks.restart(checkpointer.confirmable(false));
      inbox.clear();
    },
  });

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (telemetry.state !== 'failed') telemetry.state = 'stopping';
    snapshot.wake();
    options.incremental?.stop();
    // A pause reason of its own: the budget's release as the sinks drain must not
    // resume the socket, or a stop under load streams on (to the end of a replay's
    // window) instead of draining what was read.
    pause.set('stopping', true);
    await drainWithin(runners, options.shutdownTimeoutMs, logger);
    sendStatus(true);
    runners.forEach((r) => r.stop());
    loop.end(new Error('stopping'));
    finished();
  };

  return {
    checkpointer,
    async run() {
      let stopTimers = (): void => {};
      try {
        if (options.beforeStreaming && !stopping) {
          telemetry.state = 'snapshotting';
          const next = await options.beforeStreaming(snapshot.feed).catch((err) => {
            fail(err);
            return 'stop' as const;
          });
          if (next === 'stop') void shutdown();
        }
        if (!stopping) stopTimers = startStatusTimers(sendStatus, options);
        await loop.run();
        await done;
      } finally {
        stopTimers();
        await loop.close();
        telemetry.streaming = false;
        if (telemetry.state !== 'failed') telemetry.state = 'stopped';
        for (const sink of options.sinks) {
          await sink.stop().catch((err) => logger.warn({ sink: sink.name, err: describeError(err) }, 'sink did not stop cleanly'));
        }
      }
      if (fatalError) throw fatalError;
    },
    stop: async (reason) => {
      if (reason) logger.info({ reason }, 'stopping');
      await shutdown();
      await done;
    },
    stats: () => ({
      ...changes.stats,
      confirmedLsn: checkpointer.confirmable(false),
      inFlightBytes: budget.used,
      peakInFlightBytes: budget.peak,
      pausedBy: pause.reasons(),
    }),
  };
}

/** What each session's messages and keepalives do: messages queue in the inbox; keepalives may confirm the WAL end. */
function inboundHandlers(telemetry: Telemetry, inbox: MessageInbox, checkpointer: Checkpointer, sendStatus: SendStatus): Omit<ReplicationHandlers, 'onError'> {
  return {
    onMessage(lsn, message) {
      if (lsn > telemetry.receivedLsn) telemetry.receivedLsn = lsn;
      telemetry.lastInboundAt = Date.now();
      inbox.push(lsn, message);
    },
    onKeepalive(walEnd, replyRequested) {
      telemetry.observeWalEnd(walEnd);
      telemetry.lastInboundAt = Date.now();
      checkpointer.observeWalEnd(walEnd);
      sendStatus(replyRequested);
    },
  };
}
