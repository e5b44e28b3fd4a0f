/**
 * Everything an operator sees of a one-source worker, wired together: the
 * slot monitor, the Prometheus registry, the /status view and the HTTP
 * listener — all reading one Telemetry. An operations hub (./operations-hub.ts)
 * with its one source attached. Started before the slot is created (a port in
 * use is an operator error like any other start-up check) and stopped last.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { HttpConfig } from '../config/http-schema.ts';
import type { HttpListener } from './http-server.ts';
import { startOperationsHub, type OperationsHub } from './operations-hub.ts';
import type { SlotMonitor } from './slot-monitor.ts';
import type { StatusIdentity } from './status.ts';
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

/** A source's operations on a hub several sources share (`sources:`): stop() takes it out of the hub's views only. */
export function attachOperations(hub: OperationsHub, name: string, options: Omit<OperationsOptions, 'http'>): Operations {
  const source = hub.attach({ name, telemetry: options.telemetry, identity: options.identity, connection: options.connection, logger: options.logger });
  return {
    http: hub.http,
    slot: source.slot,
    status: () => source.status(),
    metricsText: () => hub.metricsText(),
    stop: () => source.detach(),
  };
}

export async function startOperations(options: OperationsOptions): Promise<Operations> {
  const hub = await startOperationsHub({ http: options.http, logger: options.logger, multi: false });
  const source = hub.attach({ name: null, telemetry: options.telemetry, identity: options.identity, connection: options.connection, logger: options.logger });
  return {
    http: hub.http,
    slot: source.slot,
    status: () => source.status(),
    metricsText: () => hub.metricsText(),
    stop: () => hub.stop(),
  };
}
