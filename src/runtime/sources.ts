/**
 * Several sources in one process (`sources:` in the main file): each runs its
 * own worker — its own slot, sinks, checkpoints and budget — and fails alone.
 *
 * A source whose start or run fails with something a later attempt may not
 * meet (a server down, a sink unreachable, a lost connection the pipeline gave
 * up on) starts again after a backoff, as a supervisor would restart a
 * one-source process; the other sources never notice. A source that fails on
 * its configuration or the server's setup (a permanent error: the exit code 78
 * kind) stays failed until the process restarts, and says so in its log and
 * its readiness. run() resolves when every source has ended: on stop(), or
 * when none is left running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { describeError, SlotlineError } from '../errors.ts';
import { backoffDelay } from './backoff.ts';
import { StoppedWhileStandby } from './standby.ts';
import type { Worker, WorkerOverrides } from './worker.ts';

export type SourceOutcome = 'stopped' | 'failed';

export interface SourceSet {
  /** Resolves once every source has ended, with how each ended (by source name). */
  run(): Promise<Map<string, SourceOutcome>>;
  stop(reason?: string): Promise<void>;
}

export type StartSource = (config: SlotlineConfig, logger: Logger, overrides: WorkerOverrides) => Promise<Worker>;

export function createSourceSet(configs: readonly SlotlineConfig[], logger: Logger, start: StartSource): SourceSet {
  const stopping = new AbortController();
  const running = new Map<string, Worker>();

  async function supervise(config: SlotlineConfig): Promise<SourceOutcome> {
    const name = config.source_name ?? 'source';
    const log = logger.child({ source: name });
    for (let attempt = 0; ; attempt++) {
      let worker: Worker | null = null;
      try {
        worker = await start(config, log, { signal: stopping.signal });
        attempt = -1; // it started: the next failure waits the shortest delay again
        running.set(name, worker);
        if (stopping.signal.aborted) void worker.stop(String(stopping.signal.reason));
        await worker.run();
        if (stopping.signal.aborted) return 'stopped';
        // A run that ends by itself (snapshot mode initial_only) is done.
        log.info('source finished');
        return 'stopped';
      } catch (err) {
        if (err instanceof StoppedWhileStandby || stopping.signal.aborted) return 'stopped';
        if (err instanceof SlotlineError && err.permanent) {
          log.error({ err: describeError(err), hint: err.hint }, 'source failed: fix the configuration and restart slotline; the other sources go on');
          return 'failed';
        }
        const delay = backoffDelay(config.source.reconnect, attempt);
        log.warn({ err: describeError(err), hint: (err as { hint?: string }).hint, retryInMs: delay }, 'source stopped; starting it again');
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
        if (stopping.signal.aborted) return 'stopped';
      } finally {
        if (worker !== null) running.delete(name);
      }
    }
  }

  return {
    async run() {
      const outcomes = await Promise.all(configs.map(async (c) => [c.source_name ?? 'source', await supervise(c)] as const));
      return new Map(outcomes);
    },
    async stop(reason = 'stop') {
      stopping.abort(reason);
      await Promise.all([...running.values()].map((w) => w.stop(reason)));
    },
  };
}
