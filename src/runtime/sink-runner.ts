/**
 * Feeds one sink: an ordered queue of events and commit marks, one write at a
 * time (so order per key holds), retries with backoff, and acknowledgement of
 * commit marks to the checkpointer once every event before them is written.
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
  let writing = false;
  let stopped = false;
  let wake: (() => void) | null = null;
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
    if (!ready() && !writing) drainWaiters.splice(0).forEach((resolve) => resolve());
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
  const writeWithRetry = async (events: ChangeEvent[], bytes: number, info: WriteInfo): Promise<boolean> => {
    for (let attempt = 0; !stopped; attempt++) {
      const startedAt = Date.now();
      if (observed) observed.sink.writeStartedAt = startedAt;
      try {
        await sink.write(events, info);
        observed?.telemetry.writeSucceeded(observed.sink, events, bytes, startedAt);
        if (attempt > 0) logger.info({ attempts: attempt + 1 }, 'sink write succeeded after retries');
        return true;
      } catch (err) {
        const kind = errorKind(err);
        observed?.telemetry.writeFailed(observed.sink, kind, describeError(err), kind === 'retryable');
        if (kind !== 'retryable') {
          options.onFatal(err);
          return false;
        }
        const delay = backoffDelay(options.retry, attempt);
        logger.warn({ err: describeError(err), attempt: attempt + 1, retryInMs: delay, firstLsn: formatLsn(events[0].lsn) }, 'sink write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return false;
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      if (!ready()) {
        notifyDrained();
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        // Busy streams batch by themselves while a write is in flight; after an idle
        // spell, give the first change a moment so a burst is not written one by one.
        if (options.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, options.lingerMs));
        continue;
      }
      writing = true;
      const batch = takeBatch();
      const written = batch.events.length === 0 || (await writeWithRetry(batch.events, batch.bytes, { commits: batch.commits }));
      writing = false;
      budget.release(batch.bytes);
      if (!written) {
        stopped = true;
        break;
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
    }
    // Stopped (by stop() or a failed write): nothing more will be written, so a
    // drain waiter must not wait for the items left in the queue.
    drainWaiters.splice(0).forEach((resolve) => resolve());
  };

  const kick = (): void => wake?.();
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
    idle: () => !stopped && queued() === 0 && !writing,
    /** For a whole-transaction sink, an unfinished transaction at the tail does not count: it waits for its commit. */
    drained() {
      if ((!ready() && !writing) || stopped) return Promise.resolve();
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
      kick();
      drainWaiters.splice(0).forEach((resolve) => resolve());
    },
  };
}
