/**
 * Feeds one sink: an ordered queue of events and commit marks, one write at a
 * time (so order per key holds), retries with backoff, and acknowledgement of
 * commit marks to the checkpointer once every event before them is written.
 * A sink that writes ahead (Sink.writesAhead) gets the next full batch while
 * its last write is in flight; writes are still acknowledged in order, and
 * retried in order after a failure.
 *
 * The sink itself only writes; retry and classification live here (STYLE.md,
 * habit 3). A retryable failure retries the same batch forever with capped
 * backoff — the slot keeps the WAL meanwhile. Operator and record failures
 * stop the pipeline with the sink's message (dead-lettering comes with the
 * sinks that support it).
 */
import type { Logger } from 'pino';
import { describeError, errorKind } from '../errors.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { Sink, WriteInfo } from '../sink.ts';
import type { ChangeEvent } from '../types.ts';
import { backoffDelay, type RetryPolicy } from './backoff.ts';
import type { SinkTelemetry, Telemetry } from '../observe/telemetry.ts';
import type { InFlightBudget } from './in-flight-budget.ts';

/** A commit mark: everything queued before it belongs to transactions ending at or before `endLsn`. */
interface CommitMark {
  commit: { commitLsn: Lsn; endLsn: Lsn };
}
type Item = ChangeEvent | CommitMark;
/** The result of a write that succeeded. */
const OK = Symbol('ok');
/** The loop was woken while a write was in flight. */
const WOKEN = Symbol('woken');

export interface SinkRunnerOptions {
  sink: Sink;
  batchMaxEvents: number;
  batchMaxBytes: number;
  /** After an idle spell, how long the first item waits for company before the batch is written. */
  lingerMs: number;
  retry: RetryPolicy;
  budget: InFlightBudget;
  logger: Logger;
  onAcked(sink: string, lsn: Lsn): void;
  /** A failure a retry cannot fix; the pipeline stops. */
  onFatal(err: unknown): void;
  /** Where this sink's writes, failures and checkpoint are counted. */
  telemetry?: { telemetry: Telemetry; sink: SinkTelemetry };
}

export interface SinkRunner {
  readonly name: string;
  push(event: ChangeEvent): void;
  /** The end of a transaction (`commitLsn` = Begin's final LSN, 0n for a non-transactional message). */
  pushCommit(commitLsn: Lsn, endLsn: Lsn): void;
  /** Nothing queued, nothing being written, and running: a stopped runner may have dropped or failed to write items. */
  idle(): boolean;
  /** Resolves when nothing writable is queued (a whole-transaction sink: no complete transaction) and nothing is being written, or the runner is stopped. */
  drained(): Promise<void>;
  /** Stops after the current write; queued items are dropped (they will be re-sent from the slot). */
  stop(): void;
}

export function createSinkRunner(options: SinkRunnerOptions): SinkRunner {
  const { sink, budget, logger } = options;
  let items: Item[] = [];
  let head = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  /** What wakes the loop: any item when it waits for work, only a full batch when it waits for a write in flight. */
  let wakeOn: 'any' | 'full' = 'any';
  const drainWaiters: Array<() => void> = [];

  const queued = (): number => items.length - head;
  // Whole-transaction sinks wait for a commit mark, but never while holding more
  // than this: the socket pauses at the ceiling, so waiting past it would deadlock.
  const whole = sink.wholeTransactions === true;
  const wholeCap = Math.max(1, Math.floor(budget.limit / 4));
  let queuedBytes = 0;
  let queuedCommits = 0;

  /** A batch can be taken now (a whole-transaction sink waits for a commit mark or the cap). */
  const ready = (): boolean => queued() > 0 && (!whole || queuedCommits > 0 || queuedBytes >= wholeCap);

  const notifyDrained = (): void => {
    if (!ready() && inFlight.length === 0) drainWaiters.splice(0).forEach((resolve) => resolve());
  };

  /**
   * Takes the next batch: events up to the limits, plus the commit marks among
   * them. For a whole-transaction sink the batch ends at the last commit mark
   * that fits; a transaction alone past the limits grows up to the cap, and past
   * the cap it is taken as a chunk without its commit mark.
   */
  const takeBatch = (): { events: ChangeEvent[]; bytes: number; commits: CommitMark['commit'][] } => {
    const events: ChangeEvent[] = [];
    let bytes = 0;
    const commits: CommitMark['commit'][] = [];
    let cut: { at: number; events: number; bytes: number } | null = null;
    let at = head;
    while (at < items.length) {
      const item = items[at];
      if ('commit' in item) {
        commits.push(item.commit);
        at++;
        cut = { at, events: events.length, bytes };
        continue;
      }
      const full = events.length >= options.batchMaxEvents || (events.length > 0 && bytes + item.size > options.batchMaxBytes);
      if (full && (!whole || cut !== null || bytes + item.size > wholeCap)) break;
      events.push(item);
      bytes += item.size;
      at++;
    }
    if (whole && cut !== null) {
      events.length = cut.events;
      bytes = cut.bytes;
      at = cut.at;
    }
    head = at;
    queuedBytes -= bytes;
    queuedCommits -= commits.length;
    if (head > 4096 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
    return { events, bytes, commits };
  };

  const observed = options.telemetry;
  type Batch = ReturnType<typeof takeBatch>;
  /** A batch handed to the sink; `startedAt` is when it began to hold the sink alone (the write ahead's time starts when the one before ends). */
  interface Write {
    batch: Batch;
    startedAt: number;
    /** Settles with OK or with the error of this attempt; never rejects. */
    result: Promise<unknown>;
  }
  const depth = sink.writesAhead === true && !whole ? 2 : 1;
  /** Writes handed to the sink and not yet acknowledged, oldest first: at most `depth`, and they stay here while retried (so the runner is not idle). */
  const inFlight: Write[] = [];
  const queuedEvents = (): number => queued() - queuedCommits;
  /** A second write goes out only with a full batch queued: a live stream still batches while one is in flight. */
  const fullBatchQueued = (): boolean => queuedEvents() >= options.batchMaxEvents || queuedBytes >= options.batchMaxBytes;

  const attempt = (batch: Batch): Promise<unknown> =>
    batch.events.length === 0
      ? Promise.resolve(OK)
      : sink.write(batch.events, { commits: batch.commits }).then(
          () => OK,
          (err: unknown) => err,
        );

  const begin = (batch: Batch): Write => {
    const write = { batch, startedAt: Date.now(), result: attempt(batch) };
    if (observed && inFlight.length === 0) observed.sink.writeStartedAt = write.startedAt;
    return write;
  };

  /** The oldest write in flight succeeded: count it, free its bytes, acknowledge its commits. */
  const finish = (): void => {
    const write = inFlight.shift()!;
    const { batch } = write;
    observed?.telemetry.writeSucceeded(observed.sink, batch.events, batch.bytes, write.startedAt);
    budget.release(batch.bytes);
    const next = inFlight[0];
    if (next) {
      next.startedAt = Math.max(next.startedAt, Date.now());
      if (observed) observed.sink.writeStartedAt = next.startedAt;
    }
    if (batch.commits.length > 0) {
      const acked = batch.commits[batch.commits.length - 1].endLsn;
      if (observed) {
        // Snapshot chunk marks (commit = end) and non-transactional messages (commit 0) are no transactions.
        observed.sink.transactions += batch.commits.filter((c) => c.commitLsn !== 0n && c.commitLsn !== c.endLsn).length;
        observed.sink.checkpoint = acked;
      }
      options.onAcked(sink.name, acked);
    }
  };

  /** Retries a failed write with backoff until it succeeds (true), fails for good, or the runner stops (false). */
  const retry = async (write: Write, error: unknown): Promise<boolean> => {
    for (let attempts = 1; ; attempts++) {
      const kind = errorKind(error);
      observed?.telemetry.writeFailed(observed.sink, kind, describeError(error), kind === 'retryable');
      if (kind !== 'retryable') {
        options.onFatal(error);
        return false;
      }
      const delay = backoffDelay(options.retry, attempts - 1);
      logger.warn({ err: describeError(error), attempt: attempts, retryInMs: delay, firstLsn: formatLsn(write.batch.events[0].lsn) }, 'sink write failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopped) return false;
      write.startedAt = Date.now();
      if (observed) observed.sink.writeStartedAt = write.startedAt;
      error = await attempt(write.batch);
      if (error === OK) {
        logger.info({ attempts: attempts + 1 }, 'sink write succeeded after retries');
        return true;
      }
    }
  };

  /**
   * The oldest write failed. A write ahead of it fails too (it may not be sent
   * before the one before it succeeded): once it has settled, every write in
   * flight is written again, in order, one at a time.
   */
  const recover = async (error: unknown): Promise<boolean> => {
    await Promise.all(inFlight.map((write) => write.result));
    for (let first = true; inFlight.length > 0; first = false) {
      const write = inFlight[0];
      if (!first) {
        write.startedAt = Date.now();
        error = await attempt(write.batch);
      }
      if (error !== OK && !(await retry(write, error))) return false;
      finish();
    }
    return true;
  };

  /** Waits for the oldest write, or for a full batch to queue up when another write may go out (WOKEN). */
  const settled = (write: Write): Promise<unknown> => {
    if (inFlight.length >= depth) return write.result;
    wakeOn = 'full';
    return Promise.race([write.result, new Promise<typeof WOKEN>((resolve) => (wake = () => resolve(WOKEN)))]);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      if (inFlight.length === 0 && !ready()) {
        notifyDrained();
        wakeOn = 'any';
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        // Busy streams batch by themselves while a write is in flight; after an idle
        // spell, give the first change a moment so a burst is not written one by one.
        if (options.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, options.lingerMs));
        continue;
      }
      while (inFlight.length < depth && ready() && (inFlight.length === 0 || fullBatchQueued())) inFlight.push(begin(takeBatch()));
      const result = await settled(inFlight[0]);
      wake = null;
      if (result === WOKEN) continue;
      if (result === OK) {
        finish();
        continue;
      }
      if (!(await recover(result))) break;
    }
    // Stopped (by stop() or a failed write): nothing more will be written, so a
    // drain waiter must not wait for the items left in the queue.
    stopped = true;
    for (const write of inFlight.splice(0)) budget.release(write.batch.bytes);
    drainWaiters.splice(0).forEach((resolve) => resolve());
  };

  const kick = (): void => {
    if (wake && (wakeOn === 'any' || fullBatchQueued())) wake();
  };
  void loop();

  return {
    name: sink.name,
    push(event) {
      items.push(event);
      queuedBytes += event.size;
      budget.add(event.size);
      kick();
    },
    pushCommit(commitLsn, endLsn) {
      items.push({ commit: { commitLsn, endLsn } });
      queuedCommits++;
      kick();
    },
    idle: () => !stopped && queued() === 0 && inFlight.length === 0,
    /** For a whole-transaction sink, an unfinished transaction at the tail does not count: it waits for its commit. */
    drained() {
      if ((!ready() && inFlight.length === 0) || stopped) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    stop() {
      stopped = true;
      let dropped = 0;
      for (let i = head; i < items.length; i++) {
        const item = items[i];
        if (!('commit' in item)) dropped += item.size;
      }
      budget.release(dropped);
      items = [];
      head = 0;
      queuedBytes = 0;
      queuedCommits = 0;
      wake?.();
      drainWaiters.splice(0).forEach((resolve) => resolve());
    },
  };
}
