/**
 * What operators see of a process, for one source or several (`sources:` in
 * the main file): one HTTP listener, one Prometheus registry, and per source
 * a slot monitor and a /status view over that source's Telemetry. A source
 * attaches when its worker starts and detaches when the worker ends; the
 * listener lives as long as the process (a port in use is an operator error,
 * found at start like any other).
 *
 * With `multi: false` the endpoints are exactly those of a one-source worker.
 * With `multi: true`:
 * - /metrics: every series carries `source="<name>"`;
 * - /status: `{ sources: [{ name, ...one source's status }] }`;
 *   /status?source=<name>: that source's status with its `name`, and
 *   `sources: [{ name, state, ready }]` for every source (the page's links);
 * - /healthz, /readyz: every source must pass, reasons prefixed
 *   `source "<name>": `; `?source=<name>` asks about one;
 * - /: redirects to `?source=<first>`; the page shows one source at a time.
 * An unknown name answers 404 with the names known. A source the process
 * runs (options.sources) that is not attached now — starting, or waiting to
 * start again after a failure — is not ready, and not wedged.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { HttpConfig } from '../config/http-schema.ts';
import { liveness, readiness, type ProbeResult } from './health.ts';
import { startHttpListener, UnknownSource, type HttpListener } from './http-server.ts';
import { createMetrics } from './metrics.ts';
import { createSlotMonitor, type SlotMonitor } from './slot-monitor.ts';
import { createStatusView, type StatusIdentity, type StatusView } from './status.ts';
import { statusPageHtml } from './status-page.ts';
import type { Telemetry } from './telemetry.ts';

export interface OperationsHubOptions {
  http: HttpConfig;
  logger: Logger;
  /** Several sources: `source` labels, `?source=`, /status as a list. False: one source, the endpoints as they always were. */
  multi: boolean;
  /** With multi: every source the process runs, in the order to list them; one not attached counts as not ready. */
  sources?: readonly string[];
}

export interface SourceOperations {
  /** The source's name (its key under `sources:`); null in the one-source form. */
  name: string | null;
  telemetry: Telemetry;
  identity: StatusIdentity;
  /** An ordinary connection's settings, for the slot monitor. */
  connection: pg.ClientConfig;
  logger: Logger;
}

export interface AttachedSource {
  readonly slot: SlotMonitor;
  status(): Record<string, unknown>;
  /** Stops the source's slot monitor and takes the source out of every view. */
  detach(): Promise<void>;
}

export interface OperationsHub {
  /** The listener, or null with `http.listen: false`. */
  readonly http: HttpListener | null;
  /** Throws when the name is missing (multi) or already attached. */
  attach(source: SourceOperations): AttachedSource;
  /** What GET /status (or /status?source=) answers; throws UnknownSource for a name the process does not run. */
  status(source?: string): Record<string, unknown>;
  metricsText(): Promise<string>;
  /** Closes the listener and detaches every source. */
  stop(): Promise<void>;
}

interface Entry {
  telemetry: Telemetry;
  view: StatusView;
  detach(): Promise<void>;
}

const NOT_RUNNING = 'not running: starting, or waiting to start again';
const NOT_RUNNING_PROBE: ProbeResult = { ok: false, reasons: [NOT_RUNNING] };
const ALIVE: ProbeResult = { ok: true, reasons: [] };

export async function startOperationsHub(options: OperationsHubOptions): Promise<OperationsHub> {
  const { http: config, logger, multi } = options;
  const expected = multi ? [...(options.sources ?? [])] : [];
  /** By name ('' for the one source of the single form), in the order attached. */
  const attached = new Map<string, Entry>();
  const names = (): string[] => [...expected, ...[...attached.keys()].filter((name) => !expected.includes(name)).sort()];
  const metrics = createMetrics({ multi, notRunning: () => expected.filter((name) => !attached.has(name)) });

  /** A source by name: its entry, or null when the process runs it but it is not attached now. */
  const named = (name: string): Entry | null => {
    const entry = attached.get(name);
    if (entry === undefined && !expected.includes(name)) throw new UnknownSource(name, names());
    return entry ?? null;
  };

  /** One source's probe, or every source's with prefixed reasons; `absent` stands for a source not attached. */
  const probe = (check: (telemetry: Telemetry) => ProbeResult, absent: ProbeResult) => (source: string | null): ProbeResult => {
    if (!multi || source !== null) {
      const entry = multi ? named(source!) : (attached.values().next().value ?? null);
      return entry ? check(entry.telemetry) : absent;
    }
    const all = names();
    if (all.length === 0) return absent;
    const results = all.map((name) => {
      const entry = attached.get(name);
      return { name, result: entry ? check(entry.telemetry) : absent };
    });
    return { ok: results.every(({ result }) => result.ok), reasons: results.flatMap(({ name, result }) => result.reasons.map((reason) => `source "${name}": ${reason}`)) };
  };
  const live = probe((telemetry) => liveness(telemetry, config.stall_timeout_ms), ALIVE);
  const readyIf = (standbyIsReady: boolean) => probe((telemetry) => readiness(telemetry, { standbyIsReady }), NOT_RUNNING_PROBE);

  const statusOf = (name: string, entry: Entry | null): Record<string, unknown> =>
    entry ? { name, ...entry.view.status() } : { name, state: 'not running', ready: false, readyReasons: [NOT_RUNNING] };
  const status = (source: string | null): { code: number; body: Record<string, unknown> } => {
    if (!multi) {
      const entry = attached.values().next().value;
      return entry ? { code: 200, body: entry.view.status() } : { code: 503, body: { state: 'starting', ready: false, readyReasons: [NOT_RUNNING] } };
    }
    if (source === null) return { code: 200, body: { sources: names().map((name) => statusOf(name, attached.get(name) ?? null)) } };
    const entry = named(source);
    const sources = names().map((name) => {
      const other = attached.get(name);
      return { name, state: other?.telemetry.state ?? 'not running', ready: other ? readiness(other.telemetry).ok : false };
    });
    return { code: entry ? 200 : 503, body: { ...statusOf(source, entry), sources } };
  };

  let http: HttpListener | null = null;
  if (config.listen !== false) {
    http = await startHttpListener(config.listen, {
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
      liveness: live,
      readiness: (source, { standbyIsReady = false }) => readyIf(standbyIsReady)(source),
      status,
      page(source) {
        if (!multi) return { html: statusPageHtml() };
        if (source !== null) {
          named(source);
          return { html: statusPageHtml() };
        }
        const first = names()[0];
        if (first === undefined) throw new Error('no source has started yet: try again in a moment');
        return { redirect: `?source=${encodeURIComponent(first)}` };
      },
    });
    logger.info({ address: http.url, endpoints: ['/', '/status', '/metrics', '/healthz', '/readyz'] }, 'http listening');
  }

  return {
    http,
    attach(source) {
      if (multi && source.name === null) throw new Error('operations: with several sources, each needs its name');
      const name = multi ? source.name! : '';
      if (attached.has(name) || (!multi && attached.size > 0)) throw new Error(`operations: ${multi ? `source "${name}" is` : 'a source is'} attached already`);
      const { telemetry, identity } = source;
      const slot = createSlotMonitor({
        connection: source.connection,
        slot: identity.source.slot,
        intervalMs: config.slot_poll_interval_ms,
        logger: source.logger,
        onReading: (reading) => telemetry.observeWalEnd(reading.currentWalLsn),
      });
      const info = { version: identity.version, slot: identity.source.slot, publication: identity.source.publication, database: identity.source.database };
      const removeMetrics = metrics.add({ name: source.name, telemetry, info, slot });
      const view = createStatusView(telemetry, identity, slot);
      let detaching: Promise<void> | null = null;
      const entry: Entry = {
        telemetry,
        view,
        detach: () =>
          (detaching ??= (async () => {
            if (attached.get(name) === entry) attached.delete(name);
            removeMetrics();
            view.stop();
            await slot.stop();
          })()),
      };
      attached.set(name, entry);
      return { slot, status: () => view.status(), detach: entry.detach };
    },
    status: (source) => status(source ?? null).body,
    metricsText: () => metrics.text(),
    async stop() {
      await http?.close();
      await Promise.all([...attached.values()].map((entry) => entry.detach()));
    },
  };
}
