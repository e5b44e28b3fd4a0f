/**
 * `slotline run --config <file>`: the worker. SIGTERM/SIGINT stop it
 * gracefully (stop reading, drain the sinks, confirm, exit 0); a second signal
 * exits at once — nothing is lost, the slot re-sends what was not confirmed.
 */
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import { createLogger } from '../runtime/logger.ts';
import { startWorker, type Worker } from '../runtime/worker.ts';
import { StoppedWhileStandby } from '../runtime/standby.ts';
import { EXIT_OK, EXIT_FAILURE } from './exit-codes.ts';

export async function runCommand(configPath: string): Promise<number> {
  const config = await loadConfig(configPath, { sinkTypes: sinkConfigSchemas() });
  const logger = createLogger(config.log.level, config.log.format);
  // A signal before the worker streams (a hot standby waiting for the slot) ends the start.
  const starting = new AbortController();
  let worker: Worker | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(EXIT_FAILURE);
    }
    if (worker) void worker.stop(signal);
    else starting.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    worker = await startWorker(config, logger, { signal: starting.signal });
  } catch (err) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
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
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
