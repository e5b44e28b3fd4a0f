/**
 * Streaming: replication stream → change router → sink runners, with the
 * checkpointer deciding what Postgres hears back.
 *
 * Lifecycle: run() streams until stop() or a fatal error. A lost connection is
 * not fatal: the stream restarts with backoff from the confirmed position
 * (never from the last received one). stop() stops reading, lets the sinks
 * drain, confirms what they have, and closes.
 */
import type { Logger } from 'pino';
import { createCheckpointer, type Checkpointer } from '../checkpoint/checkpointer.ts';
import { describeError, errorKind } from '../errors.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { Router } from '../route/router.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { IncrementalSnapshots } from '../snapshot/incremental-snapshot.ts';
import type { SnapshotFeed } from '../snapshot/snapshot-runner.ts';
import type { ReplicationStream, ReplicationHandlers } from '../source/replication-stream.ts';
import type { Sink } from '../sink.ts';
import type { TableScope } from '../source/table-scope.ts';
import type { Op, PgoutputMessage } from '../types.ts';
import { backoffDelay, type RetryPolicy } from './backoff.ts';
import { createChangeRouter } from './change-router.ts';
import type { ChangeNormalizer } from './change-normalizer.ts';
import { createInFlightBudget } from './in-flight-budget.ts';
import { createSinkRunner, type SinkRunner } from './sink-runner.ts';

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
  stats(): { transactions: number; events: number; confirmedLsn: Lsn; inFlightBytes: number; peakInFlightBytes: number; pausedBy: string[] };
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { logger, telemetry } = options;
  const checkpointer = createCheckpointer(options.sinks.map((s) => s.name), options.startLsn);
  const pauseReasons = new Set<string>();
  let stream: ReplicationStream | null = null;
  let fatalError: unknown = null;
  let stopping = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let streamDied: ((err: Error) => void) | null = null;
  let lastSent: Lsn = -1n;
  let lastSentAt = 0;

  const setPaused = (reason: string, on: boolean): void => {
    if (on) pauseReasons.add(reason);
    else pauseReasons.delete(reason);
    if (pauseReasons.size > 0) stream?.pause();
    else stream?.resume();
  };

  let roomWaiters: Array<() => void> = [];
  const wakeRoomWaiters = (): void => {
    const waiters = roomWaiters;
    roomWaiters = [];
    waiters.forEach((resolve) => resolve());
  };

  const budget = createInFlightBudget(options.maxInFlightBytes, (over) => {
    if (over) logger.debug({ inFlightBytes: budget.used }, 'in-flight ceiling reached; pausing the slot');
    setPaused('budget', over);
    if (!over) wakeRoomWaiters();
    // Messages that came with the socket chunk being parsed when the ceiling was reached wait in the inbox (see pump).
    if (!over) queueMicrotask(() => void (pumping ? undefined : pump()));
  });

  telemetry.inFlightBytes = () => budget.used;
  telemetry.pausedBy = () => [...pauseReasons];

  const fail = (err: unknown): void => {
    if (fatalError) return;
    fatalError = err;
    telemetry.failure = describeError(err);
    telemetry.state = 'failed';
    logger.error({ err: describeError(err) }, 'pipeline failed');
    void shutdown();
  };

  const runners: SinkRunner[] = options.sinks.map((sink, i) =>
    createSinkRunner({
      sink,
      batchMaxEvents: options.batching[i].maxEvents,
      batchMaxBytes: options.batching[i].maxBytes,
      lingerMs: options.batching[i].lingerMs,
      retry: options.sinkRetry,
      budget,
      logger: logger.child({ sink: sink.name }),
      onAcked: (name, lsn) => {
        checkpointer.sinkAcked(name, lsn);
        maybeSendStatus(false);
      },
      onFatal: fail,
      telemetry: { telemetry, sink: telemetry.sink(sink.name) },
    }),
  );
  runners.forEach((runner) => {
    const sink = telemetry.sink(runner.name);
    sink.checkpoint ??= options.startLsn;
    sink.idle = () => runner.idle();
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

  // Inbound messages are handled in order; a handler that must wait (catalog
  // look-up) pauses the socket and the rest queue up behind it. Past the
  // in-flight ceiling the rest wait too: pausing the socket cannot stop the
  // parser from delivering the rest of the chunk it is in (up to 64 KiB of
  // messages, several times that as events), so turning them into events only
  // when the budget allows keeps the ceiling within one message's events.
  let inbox: Array<[Lsn, PgoutputMessage]> = [];
  let inboxHead = 0;
  let pumping = false;
  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      while (inboxHead < inbox.length && !pauseReasons.has('budget')) {
        const [lsn, message] = inbox[inboxHead++];
        const pending = changes.handle(lsn, message);
        if (pending) {
          setPaused('catalog', true);
          await pending;
          setPaused('catalog', false);
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

  const idle = (): boolean => inboxHead >= inbox.length && !pumping && !changes.inTransaction && runners.every((r) => r.idle());

  const snapshotFeed: SnapshotFeed = {
    push(event) {
      for (const i of options.router.sinksFor(event.schema, event.table)) runners[i].push(event);
      telemetry.countReceived(event);
    },
    endChunk(lsn) {
      for (const runner of runners) runner.pushCommit(lsn, lsn);
    },
    get full() {
      return pauseReasons.has('budget') && !stopping;
    },
    room: () => (pauseReasons.has('budget') && !stopping ? new Promise<void>((resolve) => roomWaiters.push(resolve)) : Promise.resolve()),
    drained: async () => {
      await Promise.all(runners.map((r) => r.drained()));
    },
    get stopped() {
      return stopping;
    },
  };

  /** Tells Postgres the confirmable position: on the status timer, on request, and (throttled) after acks. */
  const maybeSendStatus = (force: boolean, replyRequested = false): void => {
    if (!stream) return;
    const lsn = checkpointer.confirmable(idle());
    const now = Date.now();
    if (!force && (lsn === lastSent || now - lastSentAt < 200)) return;
    stream.sendStatus(lsn, replyRequested);
    telemetry.confirmed(lsn);
    if (lsn !== lastSent) logger.debug({ confirmedLsn: formatLsn(lsn), lagging: checkpointer.laggingSink() }, 'confirmed');
    lastSent = lsn;
    lastSentAt = now;
  };

  const handlers: ReplicationHandlers = {
    onMessage(lsn, message) {
      if (lsn > telemetry.receivedLsn) telemetry.receivedLsn = lsn;
      telemetry.lastInboundAt = Date.now();
      inbox.push([lsn, message]);
      if (!pumping) void pump();
    },
    onKeepalive(walEnd, replyRequested) {
      telemetry.observeWalEnd(walEnd);
      telemetry.lastInboundAt = Date.now();
      checkpointer.observeWalEnd(walEnd);
      maybeSendStatus(replyRequested);
    },
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
    setPaused('resume', false); // apply any pause reasons still in force to the new socket
    telemetry.streaming = true;
    telemetry.lastInboundAt = Date.now();
    if (!stopping) telemetry.state = 'streaming';
    logger.info({ from: formatLsn(from) }, 'streaming');
    return { died };
  };

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (telemetry.state !== 'failed') telemetry.state = 'stopping';
    wakeRoomWaiters();
    options.incremental?.stop();
    // A pause reason of its own: the budget's release as the sinks drain must not
    // resume the socket, or a stop under load streams on (to the end of a replay's
    // window) instead of draining what was read.
    setPaused('stopping', true);
    const drained = Promise.all(runners.map((r) => r.drained()));
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), options.shutdownTimeoutMs).unref()),
    ]);
    if (timedOut) logger.warn({ timeoutMs: options.shutdownTimeoutMs }, 'sinks did not drain in time; unwritten changes will be re-sent from the slot');
    maybeSendStatus(true);
    runners.forEach((r) => r.stop());
    streamDied?.(new Error('stopping'));
    finished();
  };

  return {
    checkpointer,
    async run() {
      let statusTimer: NodeJS.Timeout | null = null;
      let heartbeatTimer: NodeJS.Timeout | null = null;
      let incrementalStarted = false;
      try {
        if (options.beforeStreaming && !stopping) {
          telemetry.state = 'snapshotting';
          const next = await options.beforeStreaming(snapshotFeed).catch((err) => {
            fail(err);
            return 'stop' as const;
          });
          if (next === 'stop') void shutdown();
        }
        if (!stopping) {
          statusTimer = setInterval(() => maybeSendStatus(true), options.statusIntervalMs);
          if (options.heartbeat && options.heartbeatIntervalMs > 0) {
            heartbeatTimer = setInterval(() => {
              options.heartbeat!().catch((err) => logger.warn({ err: describeError(err) }, 'heartbeat failed'));
            }, options.heartbeatIntervalMs);
          }
        }
        for (let attempt = 0; !stopping; ) {
          let err: Error;
          try {
            const session = await streamOnce();
            attempt = 0;
            if (options.incremental && !incrementalStarted) {
              incrementalStarted = true;
              void options.incremental.run().catch((err) => logger.error({ err: describeError(err) }, 're-snapshots stopped'));
            }
            err = await session.died;
          } catch (startErr) {
            if (errorKind(startErr) === 'operator') {
              fail(startErr);
              break;
            }
            err = startErr instanceof Error ? startErr : new Error(String(startErr));
          }
          await stream?.stop();
          stream = null;
          telemetry.streaming = false;
          if (stopping) break;
          if (errorKind(err) === 'operator') {
            // e.g. a frame we cannot decode: reconnecting would read it again.
            fail(err);
            break;
          }
          telemetry.state = 'reconnecting';
          telemetry.reconnects++;
          changes.reset();
          options.incremental?.marks.restart(checkpointer.confirmable(false));
          inbox = [];
          inboxHead = 0;
          const delay = backoffDelay(options.reconnect, attempt++);
          logger.warn({ err: err.message, retryInMs: delay, from: formatLsn(checkpointer.confirmable(false)) }, 'replication connection lost; reconnecting');
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
        await done;
      } finally {
        if (statusTimer) clearInterval(statusTimer);
        if (heartbeatTimer) clearInterval(heartbeatTimer);
        await stream?.stop();
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
      pausedBy: [...pauseReasons],
    }),
  };
}
