/**
 * `slotline status --config <file> [--url http://host:9187] [--max-retained <size>] [--json]`:
 * the slot as the server sees it — active or not (and who holds it), confirmed
 * and restart LSN, retained WAL, wal_status, safe_wal_size — the publication's
 * tables, each sink's stored checkpoint, and with --url what the running
 * worker says (/status). Read-only: one ordinary connection, no slot touched.
 *
 * Exit 0 when healthy; 1 with a hint for each problem (slot missing, lost or
 * about to be, retained WAL past --max-retained, a worker that is unreachable
 * or not ready): it works as a cron or CI check.
 */
import pg from 'pg';
import { sinkPlugin } from '../../connectors/index.ts';
import { formatRetention } from '../config/retention.ts';
import { humanSize, parseSize } from '../config/sizes.ts';
import { describeError, OperatorError } from '../errors.ts';
import { formatLsn } from '../lsn.ts';
import { readSlotState, type SlotReading } from '../observe/slot-monitor.ts';
import { EXIT_OK, EXIT_FAILURE, UsageError } from './exit-codes.ts';
import { connectForCommand } from './pg-client.ts';
import { loadCommandConfig } from './command-config.ts';

export interface StatusRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  url?: string;
  maxRetained?: string;
  json: boolean;
}

interface Problem {
  message: string;
  hint: string;
}

interface Report {
  slot: string;
  database: string;
  server: string;
  reading: (SlotReading & { invalidationReason: string | null; activeApplication: string | null }) | null;
  /** The rewind slot (source.rewind): null when none is configured; `reading` null when it does not exist. */
  rewind: { slot: string; retain: string; reading: SlotReading | null } | null;
  publication: { name: string; tables: string[] | 'all' } | null;
  checkpoints: Array<{ sink: string; type: string; where?: string; lsn?: string | null; note?: string; error?: string }>;
  worker: { url: string; status?: any; error?: string } | null;
  problems: Problem[];
}

export async function statusCommand(request: StatusRequest): Promise<number> {
  if (request.url !== undefined && !/^https?:\/\/[^/\s]+/.test(request.url)) {
    throw new UsageError(`--url "${request.url}" is not an http:// or https:// address, e.g. --url http://127.0.0.1:9187`);
  }
  const config = await loadCommandConfig(request.configPath, request.source);
  const maxRetained = request.maxRetained === undefined ? null : parseSize(request.maxRetained);
  if (maxRetained !== null && typeof maxRetained !== 'number') {
    throw new UsageError(`--max-retained: ${maxRetained.error}`, { hint: 'e.g. --max-retained 2GiB' });
  }
  const { client, server, end } = await connectForCommand(config.source, 'slotline-status');
  const report: Report = {
    slot: config.source.slot,
    database: '',
    server,
    reading: null,
    rewind: null,
    publication: null,
    checkpoints: [],
    worker: null,
    problems: [],
  };
  try {
    report.database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const reading = await readSlotState(client, config.source.slot);
    if (reading) {
      const { rows } = await client.query(
        `SELECT s.invalidation_reason, a.application_name
           FROM (SELECT to_jsonb(r) ->> 'invalidation_reason' AS invalidation_reason, r.active_pid FROM pg_replication_slots r WHERE r.slot_name = $1) s
           LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid`,
        [config.source.slot],
      );
      report.reading = { ...reading, invalidationReason: rows[0]?.invalidation_reason ?? null, activeApplication: rows[0]?.application_name || null };
    }
    const rewind = config.source.rewind;
    if (rewind) report.rewind = { slot: rewind.slot, retain: formatRetention(rewind.retain), reading: await readSlotState(client, rewind.slot) };
    report.publication = await readPublication(client, config.source.publication);
  } finally {
    await end();
  }
  for (const sink of config.sinks) {
    const plugin = sinkPlugin(sink.type);
    if (!plugin.readCheckpoint) {
      report.checkpoints.push({ sink: sink.name, type: sink.type, note: plugin.checkpointNote ?? 'no stored checkpoint' });
      continue;
    }
    try {
      const stored = await plugin.readCheckpoint(sink, config.topic_prefix);
      report.checkpoints.push({ sink: sink.name, type: sink.type, where: stored.where, lsn: stored.lsn === null ? null : formatLsn(stored.lsn), note: stored.note });
    } catch (err) {
      report.checkpoints.push({ sink: sink.name, type: sink.type, error: describeError(err).split('\n')[0] });
    }
  }
  if (request.url !== undefined) report.worker = await readWorker(request.url, config.source_name);
  report.problems = problemsOf(report, config.source.slot, maxRetained as number | null);

  if (request.json) console.log(JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? formatLsn(v) : v), 2));
  else console.log(formatReport(report));
  return report.problems.length === 0 ? EXIT_OK : EXIT_FAILURE;
}

async function readPublication(client: pg.Client, name: string): Promise<Report['publication']> {
  const { rows } = await client.query<{ all: boolean }>('SELECT puballtables AS all FROM pg_publication WHERE pubname = $1', [name]);
  if (rows.length === 0) return null;
  if (rows[0].all) return { name, tables: 'all' };
  const tables = await client.query<{ t: string }>(`SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, [name]);
  return { name, tables: tables.rows.map((r) => r.t) };
}

/** The worker's /status; with `sources:`, that of the source this command is about. */
async function readWorker(url: string, source: string | null): Promise<NonNullable<Report['worker']>> {
  const base = url.replace(/\/+$/, '');
  const path = source === null ? '/status' : `/status?source=${encodeURIComponent(source)}`;
  try {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return { url: base, error: `GET ${path} answered ${response.status}` };
    return { url: base, status: await response.json() };
  } catch (err) {
    return { url: base, error: (err as Error).message };
  }
}

function problemsOf(report: Report, slot: string, maxRetained: number | null): Problem[] {
  const problems: Problem[] = [];
  const r = report.reading;
  const recreate = `drop it (SELECT pg_drop_replication_slot('${slot}')) and start slotline with snapshot.mode when_needed (or initial) so the tables are read again`;
  if (r === null) {
    problems.push({
      message: `replication slot "${slot}" does not exist in database "${report.database}"`,
      hint: 'slotline run creates it (create_slot: true); if it existed, it was dropped: changes since then are gone, so the tables must be read again',
    });
  } else if (r.walStatus === 'lost' || r.invalidationReason !== null) {
    problems.push({ message: `replication slot "${slot}" is invalidated (wal_status ${r.walStatus}${r.invalidationReason ? `, ${r.invalidationReason}` : ''}): changes after its position are gone`, hint: recreate });
  } else if (r.walStatus === 'unreserved') {
    problems.push({
      message: `replication slot "${slot}" is about to lose WAL (wal_status unreserved: it retains more than max_slot_wal_keep_size)`,
      hint: 'make the worker catch up now (is it running, is a sink failing?), or raise max_slot_wal_keep_size; at the next checkpoint the slot may be invalidated',
    });
  }
  if (r !== null && maxRetained !== null && r.retainedWalBytes !== null && r.retainedWalBytes > maxRetained) {
    problems.push({
      message: `replication slot "${slot}" retains ${humanSize(r.retainedWalBytes)} of WAL, above --max-retained ${humanSize(maxRetained)}`,
      hint: r.active ? 'the worker is behind: see its lag and which sink is slowest (slotline status --url, /metrics)' : 'no worker is reading the slot: start slotline, or drop the slot if nothing needs it',
    });
  }
  const rewind = report.rewind;
  if (rewind !== null && rewind.reading === null) {
    problems.push({
      message: `rewind slot "${rewind.slot}" does not exist: slotline replay has no history to replay`,
      hint: 'slotline run creates it at start; it then holds history only from that moment on',
    });
  } else if (rewind?.reading?.walStatus === 'lost') {
    problems.push({
      message: `rewind slot "${rewind.slot}" is invalidated (wal_status lost): its history is gone`,
      hint: 'the worker creates it again at its next start; keep its window below max_slot_wal_keep_size (see docs/drills.md)',
    });
  }
  if (report.worker?.error !== undefined) {
    problems.push({ message: `the worker at ${report.worker.url} cannot be read: ${report.worker.error}`, hint: 'is it running, and is http.listen reachable from here?' });
  } else if (report.worker?.status && report.worker.status.ready !== true) {
    problems.push({ message: `the worker at ${report.worker.url} is not ready: ${(report.worker.status.readyReasons ?? []).join('; ')}`, hint: 'see its log and /status; a failing sink retries until it works again' });
  }
  return problems;
}

function formatReport(report: Report): string {
  const lines: string[] = [];
  const row = (label: string, value: string): number => lines.push(`  ${label.padEnd(14)} ${value}`);
  lines.push(`slot ${report.slot} in database ${report.database} at ${report.server}`);
  const r = report.reading;
  if (r === null) row('state', 'missing');
  else {
    row('state', r.active ? `active (PID ${r.activePid}${r.activeApplication ? `, ${r.activeApplication}` : ''})` : 'inactive: no worker reads it');
    row('confirmed LSN', r.confirmedFlushLsn === null ? '-' : formatLsn(r.confirmedFlushLsn));
    row('restart LSN', r.restartLsn === null ? '-' : formatLsn(r.restartLsn));
    row('retained WAL', r.retainedWalBytes === null ? '-' : humanSize(r.retainedWalBytes));
    row('wal_status', `${r.walStatus ?? '-'}${r.invalidationReason ? ` (${r.invalidationReason})` : ''}`);
    row('safe_wal_size', r.safeWalSizeBytes === null ? 'unlimited (max_slot_wal_keep_size = -1)' : humanSize(r.safeWalSizeBytes));
  }
  const rw = report.rewind;
  if (rw !== null) {
    const at = rw.reading;
    row('rewind slot', at === null ? `${rw.slot}: missing` : `${rw.slot} (retain ${rw.retain}): confirmed LSN ${at.confirmedFlushLsn === null ? '-' : formatLsn(at.confirmedFlushLsn)}, retained WAL ${at.retainedWalBytes === null ? '-' : humanSize(at.retainedWalBytes)}, wal_status ${at.walStatus ?? '-'}`);
  }
  const pub = report.publication;
  row('publication', pub === null ? 'missing' : `${pub.name}: ${pub.tables === 'all' ? 'FOR ALL TABLES' : pub.tables.join(', ') || 'no tables'}`);
  for (const c of report.checkpoints) {
    const value = c.error !== undefined ? `cannot read: ${c.error}` : c.where === undefined ? c.note! : `${c.lsn ?? 'none yet'} (${c.where}${c.note ? `; ${c.note}` : ''})`;
    row(`sink ${c.sink}`, `${c.type}: ${value}`);
  }
  const w = report.worker;
  if (w?.status) {
    const s = w.status;
    lines.push(`worker ${w.url}: ${s.state}, ${s.ready ? 'ready' : 'not ready'}, lag ${humanSize(s.lag.bytes)} / ${Number(s.lag.seconds).toFixed(1)} s, version ${s.version}`);
    for (const sink of s.sinks ?? []) {
      row(`sink ${sink.name}`, `${sink.state}, at ${sink.checkpoint}, lag ${humanSize(sink.lagBytes)}${sink.slowest ? ' (slowest)' : ''}${sink.lastError ? `, last error: ${sink.lastError.message.split('\n')[0]}` : ''}`);
    }
  }
  for (const p of report.problems) lines.push(`problem: ${p.message}`, `  hint: ${p.hint}`);
  lines.push(report.problems.length === 0 ? 'healthy' : `${report.problems.length} problem${report.problems.length > 1 ? 's' : ''}`);
  return lines.join('\n');
}
