/**
 * `slotline run --config <file>`: the worker. SIGTERM/SIGINT stop it
 * gracefully (stop reading, drain the sinks, confirm, exit 0); a second signal
 * exits at once — nothing is lost, the slot re-sends what was not confirmed.
 * With `sources:`, one worker per source in this process (../runtime/sources.ts).
 */
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import { startOperationsHub } from '../observe/operations-hub.ts';
import { createLogger } from '../runtime/logger.ts';
import { createSourceSet } from '../runtime/sources.ts';
import { startWorker, type Worker } from '../runtime/worker.ts';
import { StoppedWhileStandby } from '../runtime/standby.ts';
import { loadCommandSources } from './command-config.ts';
import { EXIT_OK, EXIT_FAILURE } from './exit-codes.ts';

export async function runCommand(configPath: string): Promise<number> {
  const { multi, sources } = await loadCommandSources(configPath);
  const logger = createLogger(sources[0].log.level, sources[0].log.format);
  return multi ? runSources(sources, logger) : runSource(sources[0], logger);
}

async function runSource(config: SlotlineConfig, logger: Logger): Promise<number> {
  // A signal before the worker streams (a hot standby waiting for the slot) ends the start.
  const starting = new AbortController();
  let worker: Worker | null = null;
  const release = onSignals(logger, (signal) => {
    if (worker) void worker.stop(signal);
    else starting.abort(signal);
  });
  try {
    worker = await startWorker(config, logger, { signal: starting.signal });
  } catch (err) {
    release();
    if (!(err instanceof StoppedWhileStandby)) throw err;
    logger.info(err.message);
    return EXIT_OK;
  }
  if (starting.signal.aborted) void worker.stop(String(starting.signal.reason));
  try {
    await worker.run();
    const stats = worker.pipeline.stats();
    logger.info({ ...stats, confirmedLsn: formatLsn(stats.confirmedLsn) }, 'stopped cleanly');
    return EXIT_OK;
  } finally {
    release();
  }
}

async function runSources(configs: SlotlineConfig[], logger: Logger): Promise<number> {
  // One listener for all: metrics with a source label, /status?source=, probes over every source.
  const names = configs.map((c) => c.source_name!);
  const hub = await startOperationsHub({ http: configs[0].http, logger, multi: true, sources: names });
  const set = createSourceSet(configs, logger, (config, log, overrides) =>
    startWorker(config, log, { ...overrides, operations: { hub, name: config.source_name! } }));
  const release = onSignals(logger, (signal) => void set.stop(signal));
  try {
    const outcomes = await set.run();
    const failed = [...outcomes].filter(([, outcome]) => outcome === 'failed').map(([name]) => name);
    if (failed.length > 0) {
      logger.error({ failed }, 'stopped; these sources had failed');
      return EXIT_FAILURE;
    }
    logger.info({ sources: [...outcomes.keys()] }, 'stopped cleanly');
    return EXIT_OK;
  } finally {
    release();
    await hub.stop();
  }
}

/** SIGTERM/SIGINT call `stop`; a second one exits at once. Returns the function that removes the handlers. */
function onSignals(logger: Logger, stop: (signal: NodeJS.Signals) => void): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(EXIT_FAILURE);
    }
    stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
