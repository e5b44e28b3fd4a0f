/**
 * The Prometheus view of the telemetry (prom-client, with its default
 * process and Node.js metrics). Gauges and counters are read from the
 * telemetry when scraped, so the pipeline pays nothing per event for them;
 * the two histograms are fed per sink write. Label sets are bounded: sink
 * names, `schema.table`, op, error kind, pause reason, WAL status — never an
 * LSN or a key. One registry serves every source of the process; with
 * several, each series also carries the source's name (`source`).
 * docs/operations.md explains each metric.
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ErrorKind } from '../errors.ts';
import type { PauseReason } from '../runtime/pause-control.ts';
import type { SlotMonitor } from './slot-monitor.ts';
import { readiness } from './health.ts';
import { tableOpLabels, type TableOpCounts, type Telemetry } from './telemetry.ts';

export interface MetricsInfo {
  version: string;
  slot: string;
  publication: string;
  database: string;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Exports a source's series from now on; the function returned removes them all again. */
  add(source: MetricsSource): () => void;
  text(): Promise<string>;
}

/** One source's side of the registry. */
export interface MetricsSource {
  /** The `source` label when the registry serves several sources; unused with one. */
  name: string | null;
  telemetry: Telemetry;
  info: MetricsInfo;
  slot: SlotMonitor | null;
}

export interface MetricsOptions {
  /** Several sources: every series carries a `source` label. With one, the exposition is the same as before sources existed. */
  multi: boolean;
  /** Sources the process runs that are not added right now (starting, or waiting to start again): exported as not ready. */
  notRunning?: () => readonly string[];
}

const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'];
/** Every pause reason, so each has a series from the start (a new reason fails to compile until it is listed). */
const PAUSE_REASONS = Object.keys({ budget: true, catalog: true, stopping: true } satisfies Record<PauseReason, true>) as PauseReason[];
const ERROR_KINDS: ErrorKind[] = ['retryable', 'operator', 'record'];

type Labels = Record<string, string>;
type Sample = (labels: Labels, value: number) => void;

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  preciseStartTime(registry);
  const registers = [registry];
  const sources: MetricsSource[] = [];
  const labelled = (source: MetricsSource, labels: Labels): Labels => (options.multi ? { source: source.name ?? '', ...labels } : labels);

  /**
   * A counter or gauge whose samples are read from each source's telemetry at
   * scrape time. A custom metric rather than prom-client's Gauge: a label-less
   * Gauge always exports a value (0 after reset), and an unknown value must be
   * absent — a 0 for "no safe_wal_size limit" would read as "no WAL left".
   */
  type Read = (source: MetricsSource, set: Sample) => void;
  const computed = (type: 'counter' | 'gauge', name: string, help: string, read: Read, extra?: (set: Sample) => void): void => {
    const get = async () => {
      const values: Array<{ labels: Labels; value: number }> = [];
      for (const source of sources) read(source, (labels, value) => values.push({ labels: labelled(source, labels), value }));
      extra?.((labels, value) => values.push({ labels, value }));
      return { name, help, type, values, aggregator: 'sum' as const };
    };
    registry.registerMetric({ name, help, type, get, reset: () => undefined } as unknown as Metric);
  };
  const counter = (name: string, help: string, read: Read) => computed('counter', name, help, read);
  const gauge = (name: string, help: string, read: Read, extra?: (set: Sample) => void) => computed('gauge', name, help, read, extra);
  const each = (counts: TableOpCounts, extra: Labels, set: Sample) => {
    for (const [key, value] of counts) set({ ...extra, ...tableOpLabels(key) }, value);
  };
  const lsn = (value: bigint | null): number => (value === null ? 0 : Number(value));

  gauge('slotline_info', 'Identity of this worker (always 1).', ({ info }, set) => set({ ...info }, 1));
  gauge('slotline_ready', 'What /readyz says: 1 streaming with every sink healthy, 0 otherwise.', ({ telemetry }, set) => set({}, readiness(telemetry).ok ? 1 : 0), (set) => {
    for (const name of options.notRunning?.() ?? []) set({ source: name }, 0);
  });
  gauge('slotline_streaming', '1 while the replication connection streams.', ({ telemetry }, set) => set({}, telemetry.streaming ? 1 : 0));
  gauge('slotline_standby', '1 while this worker waits as a hot standby for the slot another process streams.', ({ telemetry }, set) => set({}, telemetry.state === 'standby' ? 1 : 0));

  counter('slotline_events_received_total', 'Row changes (and messages) read from the slot for captured tables, per table and op.', ({ telemetry }, set) => each(telemetry.received, {}, set));
  counter('slotline_transactions_received_total', 'Transactions (commits) read from the slot.', ({ telemetry }, set) => set({}, telemetry.transactionsReceived));
  counter('slotline_events_written_total', 'Events a sink durably accepted, per sink, table and op.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) each(sink.written, { sink: sink.name }, set);
  });
  counter('slotline_transactions_written_total', 'Transactions whose commit a sink acknowledged.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.transactions);
  });
  counter('slotline_bytes_written_total', 'Event bytes written per sink (slotline\'s size estimate of the events).', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.bytes);
  });
  counter('slotline_sink_retries_total', 'Failed sink writes that are retried.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.retries);
  });
  counter('slotline_sink_errors_total', 'Failed sink writes by error kind (retryable, operator, record).', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) for (const kind of ERROR_KINDS) set({ sink: sink.name, kind }, sink.errors[kind]);
  });
  counter('slotline_dead_lettered_total', 'Records a sink sent to its dead-letter destination.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.deadLettered);
  });
  gauge('slotline_sink_failing', '1 while a sink\'s last write failed (it is retried), 0 when it succeeds.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.state === 'retrying' || sink.state === 'failed' ? 1 : 0);
  });
  const sinkLabels = options.multi ? ['source', 'sink'] : ['sink'];
  const duration = new Histogram({
    name: 'slotline_sink_write_duration_seconds', help: 'Duration of one successful sink write.', labelNames: sinkLabels, registers,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const batch = new Histogram({
    name: 'slotline_sink_batch_events', help: 'Events per sink write.', labelNames: sinkLabels, registers,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  });

  gauge('slotline_received_lsn', 'Last LSN received from the slot, as a number.', ({ telemetry }, set) => set({}, lsn(telemetry.receivedLsn)));
  gauge('slotline_confirmed_lsn', 'LSN confirmed to PostgreSQL (confirmed_flush_lsn), as a number.', ({ telemetry }, set) => set({}, lsn(telemetry.confirmedLsn)));
  gauge('slotline_server_wal_end_lsn', 'The server\'s WAL end (keepalives, slot polls), as a number.', ({ telemetry }, set) => set({}, lsn(serverWalEnd(telemetry))));
  gauge('slotline_lag_bytes', 'Server WAL end minus the confirmed LSN.', ({ telemetry }, set) => set({}, lagBytes(serverWalEnd(telemetry), telemetry.confirmedLsn)));
  gauge('slotline_lag_seconds', 'Now minus the commit time of the oldest received change not yet confirmed; 0 when caught up.', ({ telemetry }, set) => set({}, telemetry.lagSeconds()));
  gauge('slotline_sink_checkpoint_lsn', 'How far a sink is (its acknowledged position; the confirmed one when idle), as a number.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, lsn(telemetry.sinkPosition(sink)));
  });
  gauge('slotline_sink_lag_bytes', 'Server WAL end minus a sink\'s position.', ({ telemetry }, set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, lagBytes(serverWalEnd(telemetry), telemetry.sinkPosition(sink)));
  });
  gauge('slotline_slowest_sink', 'The sink that holds the slot back (the lowest position): one series, value 1.', ({ telemetry }, set) => {
    const slowest = telemetry.slowestSink();
    if (slowest) set({ sink: slowest.name }, 1);
  });
  gauge('slotline_in_flight_bytes', 'Event bytes read from the slot and not yet written by every sink.', ({ telemetry }, set) => set({}, telemetry.inFlightBytes()));
  gauge('slotline_in_flight_ceiling_bytes', 'runtime.max_in_flight_bytes.', ({ telemetry }, set) => set({}, telemetry.inFlightCeiling));
  gauge('slotline_paused', 'Reading the slot is paused (1), by reason: budget (in-flight ceiling), catalog (type look-up), stopping (draining before exit).', ({ telemetry }, set) => {
    const paused = telemetry.pausedBy();
    for (const reason of new Set([...PAUSE_REASONS, ...paused])) set({ reason }, paused.includes(reason) ? 1 : 0);
  });

  gauge('slotline_slot_active', 'pg_replication_slots.active for the slot (polled).', ({ slot }, set) => {
    if (slot?.last) set({}, slot.last.active ? 1 : 0);
  });
  gauge('slotline_slot_retained_wal_bytes', 'WAL the server keeps for the slot: pg_current_wal_lsn() − restart_lsn (polled).', ({ slot }, set) => {
    if (slot?.last?.retainedWalBytes != null) set({}, slot.last.retainedWalBytes);
  });
  gauge('slotline_slot_safe_wal_size_bytes', 'pg_replication_slots.safe_wal_size: WAL that may still be written before the slot is invalidated (absent when unlimited).', ({ slot }, set) => {
    if (slot?.last?.safeWalSizeBytes != null) set({}, slot.last.safeWalSizeBytes);
  });
  gauge('slotline_slot_wal_status', 'pg_replication_slots.wal_status: 1 for the current status.', ({ slot }, set) => {
    const current = slot?.last?.walStatus;
    if (current == null) return;
    for (const status of new Set([...WAL_STATUSES, current])) set({ status }, status === current ? 1 : 0);
  });
  counter('slotline_slot_poll_errors_total', 'Failed polls of pg_replication_slots.', ({ slot }, set) => set({}, slot?.pollErrors ?? 0));

  // The rewind slot (source.rewind): absent when none is configured.
  gauge('slotline_rewind_slot_retained_wal_bytes', 'WAL the server keeps for the rewind slot: pg_current_wal_lsn() − its restart_lsn (read every rewind.advance_interval_ms).', ({ telemetry: { rewind: r } }, set) => {
    if (r?.retainedWalBytes != null) set({}, r.retainedWalBytes);
  });
  gauge('slotline_rewind_slot_confirmed_lsn', 'The rewind slot\'s confirmed_flush_lsn, as a number: slotline replay can start there at the earliest.', ({ telemetry: { rewind: r } }, set) => {
    if (r?.confirmedLsn != null) set({}, lsn(r.confirmedLsn));
  });
  gauge('slotline_rewind_window_seconds', 'How far back slotline replay can go: now minus the time after which the rewind slot holds every commit (absent until the slot was first advanced in this run).', ({ telemetry: { rewind: r } }, set) => {
    if (r?.holdsSince != null) set({}, Math.max(0, (Date.now() - r.holdsSince) / 1000));
  });
  counter('slotline_rewind_advances_total', 'Times the rewind slot was moved forward.', ({ telemetry: { rewind: r } }, set) => {
    if (r) set({}, r.advances);
  });
  counter('slotline_rewind_errors_total', 'Rounds of the rewind keeper that failed or found the rewind slot unusable (missing, invalidated, in use).', ({ telemetry: { rewind: r } }, set) => {
    if (r) set({}, r.errors);
  });

  counter('slotline_reconnects_total', 'Replication connections re-opened after a loss.', ({ telemetry }, set) => set({}, telemetry.reconnects));
  counter('slotline_heartbeats_total', 'Heartbeat messages written into the WAL.', ({ telemetry }, set) => set({}, telemetry.heartbeats));
  gauge('slotline_last_heartbeat_timestamp_seconds', 'Unix time of the last heartbeat written.', ({ telemetry }, set) => {
    if (telemetry.lastHeartbeatAt !== null) set({}, telemetry.lastHeartbeatAt / 1000);
  });

  counter('slotline_snapshot_rows_read_total', 'Rows read by snapshots, per table and kind (initial, incremental).', ({ telemetry }, set) => {
    for (const { kind, progress } of telemetry.snapshots) for (const t of progress.counters()) set({ table: t.table, kind }, t.rows);
  });
  gauge('slotline_snapshot_rows_estimated', 'Rows a snapshot expects to read (planner estimate), per table and kind.', ({ telemetry }, set) => {
    for (const { kind, progress } of telemetry.snapshots) for (const t of progress.counters()) if (t.estimated !== null) set({ table: t.table, kind }, t.estimated);
  });
  gauge('slotline_snapshot_state', 'Snapshot state per table and kind: 1 for the current state (running, done).', ({ telemetry }, set) => {
    for (const { kind, progress } of telemetry.snapshots) {
      for (const t of progress.counters()) {
        set({ table: t.table, kind, state: 'running' }, t.doneAt === null ? 1 : 0);
        set({ table: t.table, kind, state: 'done' }, t.doneAt === null ? 0 : 1);
      }
    }
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    add(source) {
      if (options.multi ? source.name === null || sources.some((s) => s.name === source.name) : sources.length > 0) {
        throw new Error(`metrics: source ${source.name ?? '(unnamed)'} cannot be added: ${options.multi ? 'it needs a name of its own' : 'the registry serves one source'}`);
      }
      sources.push(source);
      const stopListening = source.telemetry.onWrite((write) => {
        const labels = labelled(source, { sink: write.sink });
        duration.observe(labels, write.seconds);
        batch.observe(labels, write.events);
      });
      return () => {
        const at = sources.indexOf(source);
        if (at < 0) return;
        sources.splice(at, 1);
        stopListening();
        for (const sink of source.telemetry.sinks) {
          duration.remove(labelled(source, { sink: sink.name }));
          batch.remove(labelled(source, { sink: sink.name }));
        }
      };
    },
  };
}

/** The server's WAL end as last seen: keepalives and slot polls, or what was received, whichever is further. */
export function serverWalEnd(telemetry: Telemetry): bigint {
  return telemetry.serverWalEnd > telemetry.receivedLsn ? telemetry.serverWalEnd : telemetry.receivedLsn;
}

export function lagBytes(walEnd: bigint, position: bigint): number {
  return walEnd > position ? Number(walEnd - position) : 0;
}

/**
 * prom-client rounds the process start time to whole seconds, so a worker
 * killed and restarted within the same second showed the same start time and
 * the restart (`changes(process_start_time_seconds[…])`) went unseen. The
 * Java and Go clients export it to the millisecond; so do we.
 */
function preciseStartTime(registry: Registry): void {
  const name = 'process_start_time_seconds';
  registry.removeSingleMetric(name);
  new Gauge({ name, help: 'Start time of the process since unix epoch in seconds.', registers: [registry] }).set(performance.timeOrigin / 1000);
}
