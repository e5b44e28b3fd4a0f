/**
 * The pipeline's sink runners, one per sink (./sink-runner.ts): their
 * acknowledgements go to the checkpointer, their state to the telemetry.
 */
import type { Logger } from 'pino';
import type { Checkpointer } from '../checkpoint/checkpointer.ts';
import type { Lsn } from '../lsn.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { Sink } from '../sink.ts';
import type { RetryPolicy } from './backoff.ts';
import type { InFlightBudget } from './in-flight-budget.ts';
import { createSinkRunner, type SinkRunner } from './sink-runner.ts';

export interface SinkRunnersOptions {
  sinks: readonly Sink[];
  /** Per-sink batching; index-aligned with `sinks`. */
  batching: readonly { maxEvents: number; maxBytes: number; lingerMs: number }[];
  retry: RetryPolicy;
  /** Where each sink's checkpoint starts in the telemetry, until it acknowledges something. */
  startLsn: Lsn;
  budget: InFlightBudget;
  checkpointer: Checkpointer;
  telemetry: Telemetry;
  logger: Logger;
  /** After each acknowledgement has reached the checkpointer. */
  acked(): void;
  /** A sink failed for good. */
  fail(err: unknown): void;
}

export function createSinkRunners(options: SinkRunnersOptions): SinkRunner[] {
  const { telemetry, checkpointer } = options;
  const runners = options.sinks.map((sink, i) =>
    createSinkRunner({
      sink,
      batchMaxEvents: options.batching[i].maxEvents,
      batchMaxBytes: options.batching[i].maxBytes,
      lingerMs: options.batching[i].lingerMs,
      retry: options.retry,
      budget: options.budget,
      logger: options.logger.child({ sink: sink.name }),
      onAcked: (name, lsn) => {
        checkpointer.sinkAcked(name, lsn);
        options.acked();
      },
      onFatal: options.fail,
      telemetry: { telemetry, sink: telemetry.sink(sink.name) },
    }),
  );
  runners.forEach((runner) => {
    const sink = telemetry.sink(runner.name);
    sink.checkpoint ??= options.startLsn;
    sink.idle = () => runner.idle();
  });
  return runners;
}

/** Waits until every runner has written what it holds, or `timeoutMs` has passed (the slot re-sends the rest). */
export async function drainWithin(runners: readonly SinkRunner[], timeoutMs: number, logger: Logger): Promise<void> {
  const drained = Promise.all(runners.map((r) => r.drained()));
  const timedOut = await Promise.race([
    drained.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
  ]);
  if (timedOut) logger.warn({ timeoutMs }, 'sinks did not drain in time; unwritten changes will be re-sent from the slot');
}
