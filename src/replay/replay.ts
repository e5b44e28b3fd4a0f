/**
 * `replay()`: re-send a window of history from the rewind slot into one sink,
 * through the worker's own pipeline (same decoder, normalizer, router, sink
 * runners, retries and in-flight ceiling), and say what reached it.
 *
 *   rewind slot ──copy (temporary, in the replication session)──▶ advance to --from
 *     ──▶ stream ──▶ window (--from time, --to) ──▶ pipeline ──▶ the sink
 *
 * Every check that can fail is made before anything exists on the server or
 * in the sink: the rewind slot and the window, the tables, the sink file, the
 * sink reachable. The production slot is never read or written, and the
 * rewind slot only copied. `slotline replay` (src/cli/replay.ts) and
 * `slotline drill` call this.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { OperatorError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import { pgClientConfig } from '../runtime/pg-connection.ts';
import { findPrimary } from '../runtime/pg-primary.ts';
import type { Terminal } from '../runtime/terminal.ts';
import { connectError } from '../source/connect-errors.ts';
import type { Op } from '../types.ts';
import { parseFrom, parseTo } from './replay-inputs.ts';
import { resolveReplaySink, type ReplayTally } from './replay-sink.ts';
import { streamIntoSink, type RunningStream } from './replay-stream.ts';

/** Past every position: a window that never ends by itself. */
const MAX_LSN: Lsn = 0xffffffffffffffffn;

export interface ReplayOptions {
  config: SlotlineConfig;
  /** A sink file, or the name of a sink the config lists. */
  sink: string;
  /** `rewind` (default), an LSN `X/Y`, or an ISO 8601 time with a zone. */
  from?: string;
  /** `now` (default: the server's WAL position at the start), or an LSN. */
  to?: string;
  /** Only these tables (`schema.table`); default every table the sink routes. */
  tables?: string[];
  /** Allow a sink file the config lists, or one sharing a production sink's checkpoint. */
  intoProduction?: boolean | 'never';
  logger: Logger;
  /** Aborting (Ctrl-C) stops the replay: it then rejects, saying how far it came; the temporary slot goes. */
  signal?: AbortSignal;
  /** A terminal for a live progress bar; null or absent: a progress log line every `progressIntervalMs`. */
  terminal?: Terminal | null;
  progressIntervalMs?: number;
  /**
   * Instead of ending at `--to`, keep streaming every transaction until this
   * resolves (`slotline drill` verifies the sink while it follows the live
   * position); `--to` then only says where the progress bar's end is.
   */
  until?: (run: RunningStream) => Promise<void>;
  /** With `until`: the command and what it stops before, for the error of a run stopped early. */
  noun?: string;
  endText?: string;
}

export interface ReplaySummary {
  sink: { name: string; type: string; file: string; production: string | null };
  /** Where streaming started, and what was asked. */
  from: { requested: string; lsn: Lsn };
  to: { requested: string; lsn: Lsn };
  /** With a `--from` time: the first transaction replayed (its commit LSN), if any. */
  firstCommitLsn: Lsn | null;
  lastCommitLsn: Lsn | null;
  transactions: number;
  events: number;
  /** Per `schema.table` (`''` for logical decoding messages): events by op. */
  tables: Array<{ table: string; events: number; ops: Partial<Record<Op, number>> }>;
  seconds: number;
  eventsPerSecond: number;
  /** The temporary slots made (one per replication session), all dropped. */
  temporarySlots: string[];
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { config, logger } = options;
  // A one-shot command: the primary of several hosts is looked up once.
  const source = await findPrimary(config.source, logger);
  const rewind = source.rewind;
  if (!rewind) {
    throw new OperatorError(`no rewind slot is configured in ${config.file}`, {
      hint: 'set source.rewind.retain (e.g. 1h) and restart the worker; the rewind slot holds history from then on',
    });
  }
  const from = parseFrom(options.from);
  const to = parseTo(options.to);
  const target = await resolveReplaySink(options.sink, config, options.intoProduction ?? false);

  const connection = pgClientConfig(source, 'slotline-replay-admin');
  // A pool (of two), as the worker's: catalog look-ups while streaming, and the checks before.
  const admin = new pg.Pool({ ...connection, max: 2 });
  admin.on('error', (err) => logger.warn({ err: err.message }, 'admin connection error'));
  try {
    const server = await readServer(admin, rewind.slot).catch((err) => {
      throw connectError(err, connection);
    });
    const held = server.rewind;
    if (held === null) {
      throw new OperatorError(`the rewind slot "${rewind.slot}" does not exist in database "${server.database}"`, {
        hint: 'slotline run creates it at start; it holds history only from then on',
      });
    }
    if (held.lost || held.confirmed === null) {
      throw new OperatorError(`the rewind slot "${rewind.slot}" is invalidated: the history it held is gone`, {
        hint: 'the worker makes it again at its next start; keep its window below max_slot_wal_keep_size (docs/drills.md)',
      });
    }
    const holdsFrom = held.confirmed;
    const tooOld = (start: Lsn, since: Lsn): OperatorError =>
      new OperatorError(`--from ${formatLsn(start)} is older than the rewind slot holds: it can go back to ${formatLsn(since)}`, {
        hint: `use --from rewind, or an LSN at or after ${formatLsn(since)}; a longer source.rewind.retain keeps more history`,
      });
    const toLsn = to.kind === 'now' ? server.currentWal : to.lsn;
    if (to.kind === 'lsn' && to.lsn > server.currentWal) {
      throw new OperatorError(`--to ${formatLsn(to.lsn)} is in the future: the server's WAL is at ${formatLsn(server.currentWal)}`, {
        hint: `use --to now, or an LSN at or before ${formatLsn(server.currentWal)}`,
      });
    }
    let start = holdsFrom;
    if (from.kind === 'lsn') {
      if (from.lsn > server.currentWal) {
        throw new OperatorError(`--from ${formatLsn(from.lsn)} is in the future: the server's WAL is at ${formatLsn(server.currentWal)}`, { hint: 'give an LSN the server has written' });
      }
      if (from.lsn < holdsFrom) throw tooOld(from.lsn, holdsFrom);
      start = from.lsn;
    }
    if (from.kind === 'time' && from.ms > server.nowMs) {
      throw new OperatorError(`--from ${from.text} is in the future: the server's time is ${new Date(server.nowMs).toISOString()}`, { hint: 'give a time in the past' });
    }
    if (start > toLsn) {
      throw from.kind === 'lsn'
        ? new OperatorError(`--from ${formatLsn(start)} is after --to ${formatLsn(toLsn)}: nothing to replay`, { hint: 'give a --from before --to' })
        : new OperatorError(`--to ${formatLsn(toLsn)} is older than the rewind slot holds: it starts at ${formatLsn(start)}`, { hint: `give a --to at or after ${formatLsn(start)}` });
    }

    const follow = options.until !== undefined;
    const result = await streamIntoSink({
      config: { ...config, source }, logger, admin, server, target, tables: options.tables,
      window: {
        // Following (slotline drill): every transaction passes, --to only says where "done" is.
        to: follow ? MAX_LSN : toLsn,
        fromTimeMs: from.kind === 'time' ? from.ms : null,
        // Only a commit time tells whether a --from time is within what the rewind slot holds.
        checkFirst: from.kind === 'time' ? (commitTimeMs, commitLsn) => (commitTimeMs > from.ms ? tooOldTime(from.text, commitTimeMs, commitLsn) : null) : undefined,
      },
      progressTo: toLsn,
      stem: `${rewind.slot.slice(0, 40)}_replay_${randomBytes(3).toString('hex')}`,
      tooOld,
      origin: async () => {
        logger.info({ sink: target.config.name, from: options.from ?? 'rewind', to: formatLsn(toLsn), rewindSlot: rewind.slot }, 'replay starting');
        // A replay resumes history: its first transaction's sequence[0] is where it starts, as on a restart.
        return { slot: rewind.slot, start, slotCreated: false, firstMayStartLater: from.kind !== 'lsn', close: async () => undefined };
      },
      until: options.until,
      noun: options.noun ?? 'replay',
      endText: options.endText ?? `--to ${formatLsn(toLsn)}`,
      signal: options.signal,
      terminal: options.terminal,
      progressIntervalMs: options.progressIntervalMs,
    });
    const { tally } = result;
    if (from.kind === 'time' && tally.transactions === 0) {
      logger.warn({ from: from.text }, 'the rewind slot holds no transaction committed in the window: nothing was replayed');
    }
    return {
      sink: { name: target.config.name, type: target.config.type, file: target.config.file, production: target.production },
      from: { requested: options.from ?? 'rewind', lsn: result.startedAt },
      to: { requested: options.to ?? 'now', lsn: toLsn },
      ...tallySummary(tally, result.seconds),
      temporarySlots: result.temporarySlots,
    };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** The counts of a tally, as a summary shows them. */
export function tallySummary(tally: ReplayTally, seconds: number): Pick<ReplaySummary, 'firstCommitLsn' | 'lastCommitLsn' | 'transactions' | 'events' | 'tables' | 'seconds' | 'eventsPerSecond'> {
  return {
    firstCommitLsn: tally.firstCommitLsn,
    lastCommitLsn: tally.lastCommitLsn,
    transactions: tally.transactions,
    events: tally.events,
    tables: [...tally.tables].sort(([a], [b]) => a.localeCompare(b)).map(([table, ops]) => ({
      table,
      events: [...ops.values()].reduce((a, b) => a + b, 0),
      ops: Object.fromEntries(ops) as Partial<Record<Op, number>>,
    })),
    seconds,
    eventsPerSecond: tally.events / Math.max(seconds, 1e-3),
  };
}

function tooOldTime(text: string, commitTimeMs: number, commitLsn: Lsn): OperatorError {
  const at = new Date(commitTimeMs).toISOString();
  return new OperatorError(`--from ${text} is older than the rewind slot holds: the oldest transaction it holds committed at ${at} (LSN ${formatLsn(commitLsn)})`, {
    hint: `use --from rewind to replay all it holds, or a time at or after ${at}; a longer source.rewind.retain keeps more history`,
  });
}

interface ServerFacts {
  database: string;
  major: number;
  nowMs: number;
  currentWal: Lsn;
  rewind: { confirmed: Lsn | null; lost: boolean } | null;
}

async function readServer(db: pg.Pool, rewindSlot: string): Promise<ServerFacts> {
  const { rows } = await db.query(
    `SELECT current_database() AS database, current_setting('server_version_num')::int AS num,
            (extract(epoch FROM now()) * 1000)::float8 AS now_ms, pg_current_wal_lsn()::text AS current,
            (SELECT to_jsonb(s) FROM pg_replication_slots s WHERE s.slot_name = $1) AS rewind`,
    [rewindSlot],
  );
  const r = rows[0];
  const slot = r.rewind as Record<string, any> | null;
  return {
    database: r.database,
    major: Math.floor(r.num / 10000),
    nowMs: r.now_ms,
    currentWal: parseLsn(r.current),
    rewind: slot && {
      confirmed: slot.confirmed_flush_lsn ? parseLsn(slot.confirmed_flush_lsn) : null,
      lost: slot.wal_status === 'lost' || (slot.invalidation_reason ?? null) !== null,
    },
  };
}
