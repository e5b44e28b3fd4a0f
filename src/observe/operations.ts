/**
 * Everything an operator sees of a running worker, wired together: the slot
 * monitor, the Prometheus registry, the /status view and the HTTP listener —
 * all reading one Telemetry. Started before the slot is created (a port in
 * use is an operator error like any other start-up check) and stopped last.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { HttpConfig } from '../config/http-schema.ts';
import { liveness, readiness } from './health.ts';
import { startHttpListener, type HttpListener } from './http-server.ts';
import { createMetrics } from './metrics.ts';
import { createSlotMonitor, type SlotMonitor } from './slot-monitor.ts';
import { createStatusView, type StatusIdentity } from './status.ts';
import { statusPageHtml } from './status-page.ts';
import type { Telemetry } from './telemetry.ts';

export interface Operations {
  /** The listener, or null with `http.listen: false`. */
  readonly http: HttpListener | null;
  readonly slot: SlotMonitor;
  status(): Record<string, unknown>;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

export interface OperationsOptions {
  http: HttpConfig;
  telemetry: Telemetry;
  identity: StatusIdentity;
  /** An ordinary connection's settings, for the slot monitor. */
  connection: pg.ClientConfig;
  logger: Logger;
}

export async function startOperations(options: OperationsOptions): Promise<Operations> {
  const { telemetry, identity, logger } = options;
  const slot = createSlotMonitor({
    connection: options.connection,
    slot: identity.source.slot,
    intervalMs: options.http.slot_poll_interval_ms,
    logger,
    onReading: (reading) => telemetry.observeWalEnd(reading.currentWalLsn),
  });
  const metrics = createMetrics(telemetry, { version: identity.version, slot: identity.source.slot, publication: identity.source.publication, database: identity.source.database }, slot);
  const view = createStatusView(telemetry, identity, slot);
  let http: HttpListener | null = null;
  if (options.http.listen !== false) {
    try {
      http = await startHttpListener(options.http.listen, {
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
        liveness: () => liveness(telemetry, options.http.stall_timeout_ms),
        readiness: (options) => readiness(telemetry, options),
        status: () => view.status(),
        page: statusPageHtml,
      });
    } catch (err) {
      view.stop();
      await slot.stop();
      throw err;
    }
    logger.info({ address: http.url, endpoints: ['/', '/status', '/metrics', '/healthz', '/readyz'] }, 'http listening');
  }
  return {
    http,
    slot,
    status: () => view.status(),
    metricsText: () => metrics.text(),
    async stop() {
      view.stop();
      await http?.close();
      await slot.stop();
    },
  };
}
