/**
 * `slotline run --config <file>`: the worker. SIGTERM/SIGINT stop it
 * gracefully (stop reading, drain the sinks, confirm, exit 0); a second signal
 * exits at once — nothing is lost, the slot re-sends what was not confirmed.
 */
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import { createLogger } from '../runtime/logger.ts';
import { startWorker } from '../runtime/worker.ts';
import { EXIT_OK, EXIT_OPERATOR } from './main.ts';

export async function runCommand(configPath: string): Promise<number> {
  const config = await loadConfig(configPath, { sinkTypes: sinkConfigSchemas() });
  const logger = createLogger(config.log.level);
  const worker = await startWorker(config, logger);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(EXIT_OPERATOR);
    }
    void worker.stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
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
