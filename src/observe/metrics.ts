/**
 * The Prometheus view of the telemetry (prom-client, with its default
 * process and Node.js metrics). Gauges and counters are read from the
 * telemetry when scraped, so the pipeline pays nothing per event for them;
 * the two histograms are fed per sink write. Label sets are bounded: sink
 * names, `schema.table`, op, error kind, pause reason, WAL status — never an
 * LSN or a key. docs/operations.md explains each metric.
 */
import { Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ErrorKind } from '../errors.ts';
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
  text(): Promise<string>;
}

const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'];
const PAUSE_REASONS = ['budget', 'catalog', 'stopping'];
const ERROR_KINDS: ErrorKind[] = ['retryable', 'operator', 'record'];

export function createMetrics(telemetry: Telemetry, info: MetricsInfo, slot: SlotMonitor | null): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  /**
   * A counter or gauge whose samples are read from the telemetry at scrape
   * time. A custom metric rather than prom-client's Gauge: a label-less Gauge
   * always exports a value (0 after reset), and an unknown value must be
   * absent — a 0 for "no safe_wal_size limit" would read as "no WAL left".
   */
  type Read = (set: (labels: Record<string, string>, value: number) => void) => void;
  const computed = (type: 'counter' | 'gauge', name: string, help: string, read: Read): void => {
    const get = async () => {
      const values: Array<{ labels: Record<string, string>; value: number }> = [];
      read((labels, value) => values.push({ labels, value }));
      return { name, help, type, values, aggregator: 'sum' as const };
    };
    registry.registerMetric({ name, help, type, get, reset: () => undefined } as unknown as Metric);
  };
  const counter = (name: string, help: string, read: Read) => computed('counter', name, help, read);
  const gauge = (name: string, help: string, read: Read) => computed('gauge', name, help, read);
  const each = (counts: TableOpCounts, extra: Record<string, string>, set: (labels: Record<string, string>, value: number) => void) => {
    for (const [key, value] of counts) set({ ...extra, ...tableOpLabels(key) }, value);
  };
  const lsn = (value: bigint | null): number => (value === null ? 0 : Number(value));
  const walEnd = (): bigint => serverWalEnd(telemetry);

  gauge('slotline_info', 'Identity of this worker (always 1).', (set) => set({ ...info }, 1));
  gauge('slotline_ready', 'What /readyz says: 1 streaming with every sink healthy, 0 otherwise.', (set) => set({}, readiness(telemetry).ok ? 1 : 0));
  gauge('slotline_streaming', '1 while the replication connection streams.', (set) => set({}, telemetry.streaming ? 1 : 0));
  gauge('slotline_standby', '1 while this worker waits as a hot standby for the slot another process streams.', (set) => set({}, telemetry.state === 'standby' ? 1 : 0));

  counter('slotline_events_received_total', 'Row changes (and messages) read from the slot for captured tables, per table and op.', (set) => each(telemetry.received, {}, set));
  counter('slotline_transactions_received_total', 'Transactions (commits) read from the slot.', (set) => set({}, telemetry.transactionsReceived));
  counter('slotline_events_written_total', 'Events a sink durably accepted, per sink, table and op.', (set) => {
    for (const sink of telemetry.sinks) each(sink.written, { sink: sink.name }, set);
  });
  counter('slotline_transactions_written_total', 'Transactions whose commit a sink acknowledged.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.transactions);
  });
  counter('slotline_bytes_written_total', 'Event bytes written per sink (slotline\'s size estimate of the events).', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.bytes);
  });
  counter('slotline_sink_retries_total', 'Failed sink writes that are retried.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.retries);
  });
  counter('slotline_sink_errors_total', 'Failed sink writes by error kind (retryable, operator, record).', (set) => {
    for (const sink of telemetry.sinks) for (const kind of ERROR_KINDS) set({ sink: sink.name, kind }, sink.errors[kind]);
  });
  counter('slotline_dead_lettered_total', 'Records a sink sent to its dead-letter destination.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.deadLettered);
  });
  gauge('slotline_sink_failing', '1 while a sink\'s last write failed (it is retried), 0 when it succeeds.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, sink.state === 'retrying' || sink.state === 'failed' ? 1 : 0);
  });
  const duration = new Histogram({
    name: 'slotline_sink_write_duration_seconds', help: 'Duration of one successful sink write.', labelNames: ['sink'], registers,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const batch = new Histogram({
    name: 'slotline_sink_batch_events', help: 'Events per sink write.', labelNames: ['sink'], registers,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  });
  telemetry.onWrite((write) => {
    duration.observe({ sink: write.sink }, write.seconds);
    batch.observe({ sink: write.sink }, write.events);
  });

  gauge('slotline_received_lsn', 'Last LSN received from the slot, as a number.', (set) => set({}, lsn(telemetry.receivedLsn)));
  gauge('slotline_confirmed_lsn', 'LSN confirmed to PostgreSQL (confirmed_flush_lsn), as a number.', (set) => set({}, lsn(telemetry.confirmedLsn)));
  gauge('slotline_server_wal_end_lsn', 'The server\'s WAL end (keepalives, slot polls), as a number.', (set) => set({}, lsn(walEnd())));
  gauge('slotline_lag_bytes', 'Server WAL end minus the confirmed LSN.', (set) => set({}, lagBytes(walEnd(), telemetry.confirmedLsn)));
  gauge('slotline_lag_seconds', 'Now minus the commit time of the oldest received change not yet confirmed; 0 when caught up.', (set) => set({}, telemetry.lagSeconds()));
  gauge('slotline_sink_checkpoint_lsn', 'How far a sink is (its acknowledged position; the confirmed one when idle), as a number.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, lsn(telemetry.sinkPosition(sink)));
  });
  gauge('slotline_sink_lag_bytes', 'Server WAL end minus a sink\'s position.', (set) => {
    for (const sink of telemetry.sinks) set({ sink: sink.name }, lagBytes(walEnd(), telemetry.sinkPosition(sink)));
  });
  gauge('slotline_slowest_sink', 'The sink that holds the slot back (the lowest position): one series, value 1.', (set) => {
    const slowest = telemetry.slowestSink();
    if (slowest) set({ sink: slowest.name }, 1);
  });
  gauge('slotline_in_flight_bytes', 'Event bytes read from the slot and not yet written by every sink.', (set) => set({}, telemetry.inFlightBytes()));
  gauge('slotline_in_flight_ceiling_bytes', 'runtime.max_in_flight_bytes.', (set) => set({}, telemetry.inFlightCeiling));
  gauge('slotline_paused', 'Reading the slot is paused (1), by reason: budget (in-flight ceiling), catalog (type look-up), stopping (draining before exit).', (set) => {
    const paused = telemetry.pausedBy();
    for (const reason of new Set([...PAUSE_REASONS, ...paused])) set({ reason }, paused.includes(reason) ? 1 : 0);
  });

  gauge('slotline_slot_active', 'pg_replication_slots.active for the slot (polled).', (set) => {
    if (slot?.last) set({}, slot.last.active ? 1 : 0);
  });
  gauge('slotline_slot_retained_wal_bytes', 'WAL the server keeps for the slot: pg_current_wal_lsn() − restart_lsn (polled).', (set) => {
    if (slot?.last?.retainedWalBytes != null) set({}, slot.last.retainedWalBytes);
  });
  gauge('slotline_slot_safe_wal_size_bytes', 'pg_replication_slots.safe_wal_size: WAL that may still be written before the slot is invalidated (absent when unlimited).', (set) => {
    if (slot?.last?.safeWalSizeBytes != null) set({}, slot.last.safeWalSizeBytes);
  });
  gauge('slotline_slot_wal_status', 'pg_replication_slots.wal_status: 1 for the current status.', (set) => {
    const current = slot?.last?.walStatus;
    if (current == null) return;
    for (const status of new Set([...WAL_STATUSES, current])) set({ status }, status === current ? 1 : 0);
  });
  counter('slotline_slot_poll_errors_total', 'Failed polls of pg_replication_slots.', (set) => set({}, slot?.pollErrors ?? 0));

  // The rewind slot (source.rewind): absent when none is configured.
  const rewind = () => telemetry.rewind;
  gauge('slotline_rewind_slot_retained_wal_bytes', 'WAL the server keeps for the rewind slot: pg_current_wal_lsn() − its restart_lsn (read every rewind.advance_interval_ms).', (set) => {
    const r = rewind();
    if (r?.retainedWalBytes != null) set({}, r.retainedWalBytes);
  });
  gauge('slotline_rewind_slot_confirmed_lsn', 'The rewind slot\'s confirmed_flush_lsn, as a number: slotline replay can start there at the earliest.', (set) => {
    const r = rewind();
    if (r?.confirmedLsn != null) set({}, lsn(r.confirmedLsn));
  });
  gauge('slotline_rewind_window_seconds', 'How far back slotline replay can go: now minus the time after which the rewind slot holds every commit (absent until the slot was first advanced in this run).', (set) => {
    const r = rewind();
    if (r?.holdsSince != null) set({}, Math.max(0, (Date.now() - r.holdsSince) / 1000));
  });
  counter('slotline_rewind_advances_total', 'Times the rewind slot was moved forward.', (set) => {
    const r = rewind();
    if (r) set({}, r.advances);
  });
  counter('slotline_rewind_errors_total', 'Rounds of the rewind keeper that failed or found the rewind slot unusable (missing, invalidated, in use).', (set) => {
    const r = rewind();
    if (r) set({}, r.errors);
  });

  counter('slotline_reconnects_total', 'Replication connections re-opened after a loss.', (set) => set({}, telemetry.reconnects));
  counter('slotline_heartbeats_total', 'Heartbeat messages written into the WAL.', (set) => set({}, telemetry.heartbeats));
  gauge('slotline_last_heartbeat_timestamp_seconds', 'Unix time of the last heartbeat written.', (set) => {
    if (telemetry.lastHeartbeatAt !== null) set({}, telemetry.lastHeartbeatAt / 1000);
  });

  counter('slotline_snapshot_rows_read_total', 'Rows read by snapshots, per table and kind (initial, incremental).', (set) => {
    for (const { kind, progress } of telemetry.snapshots) for (const t of progress.counters()) set({ table: t.table, kind }, t.rows);
  });
  gauge('slotline_snapshot_rows_estimated', 'Rows a snapshot expects to read (planner estimate), per table and kind.', (set) => {
    for (const { kind, progress } of telemetry.snapshots) for (const t of progress.counters()) if (t.estimated !== null) set({ table: t.table, kind }, t.estimated);
  });
  gauge('slotline_snapshot_state', 'Snapshot state per table and kind: 1 for the current state (running, done).', (set) => {
    for (const { kind, progress } of telemetry.snapshots) {
      for (const t of progress.counters()) {
        set({ table: t.table, kind, state: 'running' }, t.doneAt === null ? 1 : 0);
        set({ table: t.table, kind, state: 'done' }, t.doneAt === null ? 0 : 1);
      }
    }
  });

  return { registry, contentType: registry.contentType, text: () => registry.metrics() };
}

/** The server's WAL end as last seen: keepalives and slot polls, or what was received, whichever is further. */
export function serverWalEnd(telemetry: Telemetry): bigint {
  return telemetry.serverWalEnd > telemetry.receivedLsn ? telemetry.serverWalEnd : telemetry.receivedLsn;
}

export function lagBytes(walEnd: bigint, position: bigint): number {
  return walEnd > position ? Number(walEnd - position) : 0;
}
