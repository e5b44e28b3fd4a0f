import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SlotlineConfig } from '../config/load-config.ts';
import { OperatorError } from '../errors.ts';
import { createSourceSet, type StartSource } from './sources.ts';
import { StoppedWhileStandby } from './standby.ts';
import type { Worker } from './worker.ts';

/** A source's config as the set reads it: its name and reconnect backoff. */
const source = (name: string) => ({ source_name: name, source: { reconnect: { initial_delay_ms: 5, max_delay_ms: 20 } } }) as unknown as SlotlineConfig;

/** A worker that runs until stopped, or until `fail` rejects its run. */
function runningWorker(): Worker & { fail(err: Error): void } {
  let end!: (err?: Error) => void;
  const ended = new Promise<void>((resolve, reject) => (end = (err) => (err ? reject(err) : resolve())));
  return {
    pipeline: null as never,
    operations: null as never,
    run: () => ended,
    stop: async () => end(),
    fail: (err) => end(err),
  };
}

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('several sources in one process', () => {
  it('keeps the others running when one fails on its configuration, and reports it failed', async () => {
    const { logger, lines } = logged();
    const workers: Worker[] = [];
    const start: StartSource = async (config) => {
      if (config.source_name === 'bad') throw new OperatorError('authentication failed', { hint: 'check the password', permanent: true });
      const w = runningWorker();
      workers.push(w);
      return w;
    };
    const set = createSourceSet([source('good'), source('bad')], logger, start);
    const outcome = set.run();
    await waitFor(() => lines.some((l) => l.source === 'bad' && String(l.msg).startsWith('source failed')));
    expect(workers).toHaveLength(1);
    await set.stop('SIGTERM');
    expect(await outcome).toEqual(new Map([['good', 'stopped'], ['bad', 'failed']]));
  });

  it('starts a source again after an error a later attempt may not meet, and again after its run fails', async () => {
    const { logger, lines } = logged();
    let attempts = 0;
    let current: ReturnType<typeof runningWorker> | null = null;
    const start: StartSource = async () => {
      if (++attempts < 3) throw new OperatorError('cannot connect to PostgreSQL: connection refused');
      current = runningWorker();
      return current;
    };
    const set = createSourceSet([source('one')], logger, start);
    const outcome = set.run();
    await waitFor(() => current !== null);
    current!.fail(new Error('replication connection gave up'));
    await waitFor(() => attempts === 4);
    expect(lines.filter((l) => l.msg === 'source stopped; starting it again').map((l) => l.source)).toEqual(['one', 'one', 'one']);
    await set.stop();
    expect(await outcome).toEqual(new Map([['one', 'stopped']]));
  });

  it('ends a source that waits in its backoff or as a standby when stopped', async () => {
    const { logger, lines } = logged();
    let waiting = false;
    const start: StartSource = async (config, _log, overrides) => {
      if (config.source_name === 'retrying') throw new OperatorError('connection refused');
      waiting = true;
      await new Promise((resolve) => overrides.signal!.addEventListener('abort', resolve));
      throw new StoppedWhileStandby('SIGTERM');
    };
    const slow = { ...source('retrying'), source: { reconnect: { initial_delay_ms: 60_000, max_delay_ms: 60_000 } } } as unknown as SlotlineConfig;
    const set = createSourceSet([slow, source('standby')], logger, start);
    const outcome = set.run();
    await waitFor(() => waiting && lines.some((l) => l.source === 'retrying' && l.retryInMs !== undefined));
    await set.stop('SIGTERM');
    expect(await outcome).toEqual(new Map([['retrying', 'stopped'], ['standby', 'stopped']]));
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
