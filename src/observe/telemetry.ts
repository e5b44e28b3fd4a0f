/**
 * What the pipeline tells the outside world, kept as plain numbers: the
 * stages update them on their hot paths (a property write, a Map increment),
 * and the views — Prometheus metrics, /status, health and readiness — read
 * them when asked. One source of truth, several views; nothing here does I/O.
 */
import type { ErrorKind } from '../errors.ts';
import type { Lsn } from '../lsn.ts';
import type { PauseReason } from '../runtime/pause-control.ts';
import type { SnapshotProgress } from '../snapshot/snapshot-progress.ts';
import type { ChangeEvent } from '../types.ts';

export type PipelineState = 'starting' | 'standby' | 'snapshotting' | 'streaming' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';
export type SinkState = 'starting' | 'ok' | 'retrying' | 'failed';

/** Counts per `schema.table` and op, keyed `table\top` (bounded: tables × ops). */
export type TableOpCounts = Map<string, number>;

export interface SinkTelemetry {
  readonly name: string;
  readonly type: string;
  state: SinkState;
  /** Events durably accepted, per table and op. */
  readonly written: TableOpCounts;
  events: number;
  transactions: number;
  /** Event bytes (slotline's size estimate) written. */
  bytes: number;
  /** Failed writes that are retried. */
  retries: number;
  errors: Record<ErrorKind, number>;
  deadLettered: number;
  /** The position this sink acknowledged (commit boundaries only). */
  checkpoint: Lsn | null;
  /** Nothing queued or being written (set by the pipeline): an idle sink is as far as the confirmed position. */
  idle: () => boolean;
  /** When the write in flight began (ms), or null. */
  writeStartedAt: number | null;
  lastError: { message: string; kind: ErrorKind; at: number } | null;
}

/** The rewind slot (source.rewind), as its keeper last read and moved it. */
export interface RewindTelemetry {
  readonly slot: string;
  /** `retain` as configured, e.g. `1h` or `2GiB`. */
  readonly retain: string;
  confirmedLsn: Lsn | null;
  restartLsn: Lsn | null;
  /** pg_current_wal_lsn() − restart_lsn: the WAL the server keeps for the rewind slot. */
  retainedWalBytes: number | null;
  /** Every change committed after this time (ms) is held; null until the keeper first advanced it in this run. */
  holdsSince: number | null;
  advances: number;
  /** Rounds that failed or found the slot unusable (missing, invalidated, in use). */
  errors: number;
  lastError: string | null;
  /** When the keeper last read the slot (ms); null before the first reading. */
  polledAt: number | null;
}

export function createRewindTelemetry(slot: string, retain: string): RewindTelemetry {
  return { slot, retain, confirmedLsn: null, restartLsn: null, retainedWalBytes: null, holdsSince: null, advances: 0, errors: 0, lastError: null, polledAt: null };
}

export interface WriteObservation {
  sink: string;
  seconds: number;
  events: number;
}

export interface Telemetry {
  readonly startedAt: number;
  state: PipelineState;
  /** The replication connection is open and started. */
  streaming: boolean;
  readonly received: TableOpCounts;
  eventsReceived: number;
  transactionsReceived: number;
  receivedLsn: Lsn;
  /** Highest WAL end the server reported (keepalives, the slot monitor). */
  serverWalEnd: Lsn;
  confirmedLsn: Lsn;
  reconnects: number;
  heartbeats: number;
  lastHeartbeatAt: number | null;
  /** Last message or keepalive from the server (ms); liveness looks at it. */
  lastInboundAt: number;
  /** When the replication socket was last read again after a pause (ms): silence before it was ours, not the server's. */
  readingSince: number;
  inFlightBytes: () => number;
  inFlightCeiling: number;
  pausedBy: () => readonly PauseReason[];
  readonly sinks: readonly SinkTelemetry[];
  /** Snapshot progress: the initial snapshot and re-snapshots, when they exist. */
  readonly snapshots: Array<{ kind: 'initial' | 'incremental'; progress: SnapshotProgress }>;
  /** The pipeline failed with this message. */
  failure: string | null;
  /** While a standby waits (state 'standby'): who streams the slot now. */
  standbyFor: string | null;
  /** The rewind slot, when source.rewind is configured. */
  rewind: RewindTelemetry | null;

  countReceived(event: ChangeEvent): void;
  /** A commit read from the slot (its end LSN and commit time): lag in seconds runs from here until it is confirmed. */
  transactionReceived(endLsn: Lsn, commitTimeUs: bigint | null): void;
  /** Postgres was told this position. */
  confirmed(lsn: Lsn): void;
  observeWalEnd(lsn: Lsn): void;
  /** Seconds from the commit of the oldest received change not yet confirmed to now; 0 when everything is confirmed. */
  lagSeconds(now?: number): number;
  sink(name: string): SinkTelemetry;
  /** How far a sink is: its checkpoint, or the confirmed position when it is idle and that is further. */
  sinkPosition(sink: SinkTelemetry): Lsn;
  /** The sink with the lowest position: the one that holds the slot back (the first, when all are level). */
  slowestSink(): SinkTelemetry | null;
  writeSucceeded(sink: SinkTelemetry, events: readonly ChangeEvent[], bytes: number, startedAt: number): void;
  writeFailed(sink: SinkTelemetry, kind: ErrorKind, message: string, willRetry: boolean): void;
  /** Histograms live with the metrics; they listen here until they call the function returned. */
  onWrite(listener: (write: WriteObservation) => void): () => void;
}

/** Commit times are kept per 100 ms: enough for lag in seconds, bounded by the lag itself. */
const LAG_BUCKET_MS = 100;

export function createTelemetry(options: { sinks: ReadonlyArray<{ name: string; type: string }>; inFlightCeiling: number; now?: () => number }): Telemetry {
  const now = options.now ?? Date.now;
  const writeListeners: Array<(write: WriteObservation) => void> = [];
  /** Unconfirmed commits, oldest first: [last end LSN in the bucket, the bucket's first commit time]. */
  const unconfirmed: Array<[Lsn, number]> = [];
  let unconfirmedHead = 0;
  const sinks: SinkTelemetry[] = options.sinks.map((s) => ({
    name: s.name,
    type: s.type,
    state: 'starting',
    written: new Map(),
    events: 0,
    transactions: 0,
    bytes: 0,
    retries: 0,
    errors: { retryable: 0, operator: 0, record: 0 },
    deadLettered: 0,
    checkpoint: null,
    idle: () => true,
    writeStartedAt: null,
    lastError: null,
  }));
  const byName = new Map(sinks.map((s) => [s.name, s]));

  const telemetry: Telemetry = {
    startedAt: now(),
    state: 'starting',
    streaming: false,
    received: new Map(),
    eventsReceived: 0,
    transactionsReceived: 0,
    receivedLsn: 0n,
    serverWalEnd: 0n,
    confirmedLsn: 0n,
    reconnects: 0,
    heartbeats: 0,
    lastHeartbeatAt: null,
    lastInboundAt: now(),
    readingSince: now(),
    inFlightBytes: () => 0,
    inFlightCeiling: options.inFlightCeiling,
    pausedBy: () => [],
    sinks,
    snapshots: [],
    failure: null,
    standbyFor: null,
    rewind: null,

    countReceived(event) {
      count(telemetry.received, event);
      telemetry.eventsReceived++;
    },
    transactionReceived(endLsn, commitTimeUs) {
      telemetry.transactionsReceived++;
      const at = commitTimeUs === null ? now() : Number(commitTimeUs / 1000n);
      const last = unconfirmed.length > unconfirmedHead ? unconfirmed[unconfirmed.length - 1] : null;
      if (last !== null && at - last[1] < LAG_BUCKET_MS) last[0] = endLsn;
      else unconfirmed.push([endLsn, at]);
    },
    confirmed(lsn) {
      if (lsn > telemetry.confirmedLsn) telemetry.confirmedLsn = lsn;
      while (unconfirmedHead < unconfirmed.length && unconfirmed[unconfirmedHead][0] <= lsn) unconfirmedHead++;
      if (unconfirmedHead > 1024 && unconfirmedHead * 2 > unconfirmed.length) {
        unconfirmed.splice(0, unconfirmedHead);
        unconfirmedHead = 0;
      }
    },
    observeWalEnd(lsn) {
      if (lsn > telemetry.serverWalEnd) telemetry.serverWalEnd = lsn;
    },
    lagSeconds(at = now()) {
      if (unconfirmedHead >= unconfirmed.length) return 0;
      return Math.max(0, (at - unconfirmed[unconfirmedHead][1]) / 1000);
    },
    sink(name) {
      const found = byName.get(name);
      if (!found) throw new Error(`no telemetry for sink ${name}`);
      return found;
    },
    sinkPosition(sink) {
      const checkpoint = sink.checkpoint ?? 0n;
      return sink.idle() && telemetry.confirmedLsn > checkpoint ? telemetry.confirmedLsn : checkpoint;
    },
    slowestSink() {
      let slowest: SinkTelemetry | null = null;
      for (const sink of sinks) if (slowest === null || telemetry.sinkPosition(sink) < telemetry.sinkPosition(slowest)) slowest = sink;
      return slowest;
    },
    writeSucceeded(sink, events, bytes, startedAt) {
      countAll(sink.written, events);
      sink.events += events.length;
      sink.bytes += bytes;
      sink.writeStartedAt = null;
      sink.state = 'ok';
      const write = { sink: sink.name, seconds: (now() - startedAt) / 1000, events: events.length };
      for (const listener of writeListeners) listener(write);
    },
    writeFailed(sink, kind, message, willRetry) {
      sink.errors[kind]++;
      if (willRetry) sink.retries++;
      sink.writeStartedAt = null;
      sink.state = willRetry ? 'retrying' : 'failed';
      sink.lastError = { message, kind, at: now() };
    },
    onWrite(listener) {
      writeListeners.push(listener);
      return () => {
        const at = writeListeners.indexOf(listener);
        if (at >= 0) writeListeners.splice(at, 1);
      };
    },
  };
  return telemetry;
}

function count(counts: TableOpCounts, event: ChangeEvent): void {
  const key = countKey(event);
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Counts a batch: a run of events of one table and op is one map update. */
function countAll(counts: TableOpCounts, events: readonly ChangeEvent[]): void {
  let key: string | null = null;
  let run = 0;
  for (const event of events) {
    const next = countKey(event);
    if (next === key) {
      run++;
      continue;
    }
    if (key !== null) counts.set(key, (counts.get(key) ?? 0) + run);
    key = next;
    run = 1;
  }
  if (key !== null) counts.set(key, (counts.get(key) ?? 0) + run);
}

/**
 * The last key made, kept while the events are of the same table and op (their
 * names are the relation's own strings, so comparing them is cheap): a key is
 * not built and hashed again for each event, twice per event (received, written).
 */
const lastKey = { schema: '', table: '', op: '', key: '\t' };

function countKey(event: ChangeEvent): string {
  if (event.schema !== lastKey.schema || event.table !== lastKey.table || event.op !== lastKey.op) {
    lastKey.schema = event.schema;
    lastKey.table = event.table;
    lastKey.op = event.op;
    // Logical decoding messages have no table: their label is empty.
    lastKey.key = `${event.schema === '' ? '' : `${event.schema}.${event.table}`}\t${event.op}`;
  }
  return lastKey.key;
}

/** Splits a TableOpCounts key back into its labels. */
export function tableOpLabels(key: string): { table: string; op: string } {
  const tab = key.lastIndexOf('\t');
  return { table: key.slice(0, tab), op: key.slice(tab + 1) };
}
