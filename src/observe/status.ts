/**
 * The JSON view of the telemetry (`GET /status`, `slotline status --url`, the
 * status page), plus a short history for the page's chart: lag and per-sink
 * rows/s sampled every 2 s for the last 10 minutes, so a page opened now
 * already shows the recent past.
 *
 * Nothing secret goes in (DESIGN.md, invariant 9): hosts, ports, names and
 * numbers only — no password, no URL with credentials, no API key.
 */
import { formatLsn } from '../lsn.ts';
import { readiness } from './health.ts';
import { lagBytes, serverWalEnd } from './metrics.ts';
import type { SlotMonitor } from './slot-monitor.ts';
import type { Telemetry } from './telemetry.ts';

export interface StatusIdentity {
  version: string;
  config: { main: string; sinks: string[] };
  source: { server: string; database: string; serverVersion: string; slot: string; publication: string; tables: string[] | null };
}

export interface HistorySample {
  t: number;
  lagBytes: number;
  lagSeconds: number;
  /** Rows/s each sink wrote since the previous sample. */
  sinks: Record<string, number>;
}

export interface StatusView {
  status(): Record<string, unknown>;
  stop(): void;
}

const SAMPLE_MS = 2_000;
const HISTORY_SAMPLES = 300;

export function createStatusView(telemetry: Telemetry, identity: StatusIdentity, slot: SlotMonitor | null, now: () => number = Date.now): StatusView {
  const history: HistorySample[] = [];
  let previous = { at: now(), events: new Map(telemetry.sinks.map((s) => [s.name, s.events])) };

  const rates = (): Record<string, number> => {
    const at = now();
    const seconds = Math.max((at - previous.at) / 1000, 1e-3);
    const out: Record<string, number> = {};
    for (const sink of telemetry.sinks) out[sink.name] = Math.max(0, (sink.events - (previous.events.get(sink.name) ?? 0)) / seconds);
    return out;
  };
  const sample = (): void => {
    const sinks = rates();
    previous = { at: now(), events: new Map(telemetry.sinks.map((s) => [s.name, s.events])) };
    history.push({ t: previous.at, lagBytes: lagBytes(serverWalEnd(telemetry), telemetry.confirmedLsn), lagSeconds: telemetry.lagSeconds(), sinks });
    if (history.length > HISTORY_SAMPLES) history.splice(0, history.length - HISTORY_SAMPLES);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();

  return {
    status() {
      const at = now();
      const ready = readiness(telemetry);
      const walEnd = serverWalEnd(telemetry);
      const slowest = telemetry.slowestSink();
      const latest = history.at(-1);
      const reading = slot?.last ?? null;
      return {
        version: identity.version,
        startedAt: new Date(telemetry.startedAt).toISOString(),
        uptimeSeconds: (at - telemetry.startedAt) / 1000,
        state: telemetry.state,
        ready: ready.ok,
        readyReasons: ready.reasons,
        config: identity.config,
        source: identity.source,
        positions: { received: formatLsn(telemetry.receivedLsn), confirmed: formatLsn(telemetry.confirmedLsn), serverWalEnd: formatLsn(walEnd) },
        lag: { bytes: lagBytes(walEnd, telemetry.confirmedLsn), seconds: telemetry.lagSeconds(at) },
        slot: reading && {
          active: reading.active,
          activePid: reading.activePid,
          restartLsn: reading.restartLsn === null ? null : formatLsn(reading.restartLsn),
          confirmedFlushLsn: reading.confirmedFlushLsn === null ? null : formatLsn(reading.confirmedFlushLsn),
          retainedWalBytes: reading.retainedWalBytes,
          walStatus: reading.walStatus,
          safeWalSizeBytes: reading.safeWalSizeBytes,
          polledAt: new Date(reading.at).toISOString(),
        },
        rewind: telemetry.rewind && {
          slot: telemetry.rewind.slot,
          retain: telemetry.rewind.retain,
          confirmedLsn: telemetry.rewind.confirmedLsn === null ? null : formatLsn(telemetry.rewind.confirmedLsn),
          restartLsn: telemetry.rewind.restartLsn === null ? null : formatLsn(telemetry.rewind.restartLsn),
          retainedWalBytes: telemetry.rewind.retainedWalBytes,
          holdsSince: telemetry.rewind.holdsSince === null ? null : new Date(telemetry.rewind.holdsSince).toISOString(),
          advances: telemetry.rewind.advances,
          errors: telemetry.rewind.errors,
          lastError: telemetry.rewind.lastError,
        },
        inFlight: { bytes: telemetry.inFlightBytes(), ceilingBytes: telemetry.inFlightCeiling, pausedBy: telemetry.pausedBy() },
        counters: {
          transactionsReceived: telemetry.transactionsReceived,
          eventsReceived: telemetry.eventsReceived,
          reconnects: telemetry.reconnects,
          heartbeats: telemetry.heartbeats,
          lastHeartbeatAt: telemetry.lastHeartbeatAt === null ? null : new Date(telemetry.lastHeartbeatAt).toISOString(),
        },
        sinks: telemetry.sinks.map((sink) => {
          const position = telemetry.sinkPosition(sink);
          return {
            name: sink.name,
            type: sink.type,
            state: sink.state,
            checkpoint: formatLsn(position),
            lagBytes: lagBytes(walEnd, position),
            eventsWritten: sink.events,
            transactionsWritten: sink.transactions,
            rowsPerSecond: latest?.sinks[sink.name] ?? 0,
            retries: sink.retries,
            deadLettered: sink.deadLettered,
            lastError: sink.lastError && { message: sink.lastError.message, kind: sink.lastError.kind, at: new Date(sink.lastError.at).toISOString() },
            slowest: slowest === sink,
          };
        }),
        snapshots: telemetry.snapshots.flatMap(({ kind, progress }) =>
          progress.counters().map((t) => ({ table: t.table, kind, state: t.doneAt === null ? 'running' : 'done', rowsRead: t.rows, rowsEstimated: t.estimated })),
        ),
        history,
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
