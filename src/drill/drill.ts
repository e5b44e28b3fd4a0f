/**
 * `drill()`: rehearse the loss of a sink and prove the recovery, into a
 * shadow sink — never a production one.
 *
 * 1. Rebuild the shadow sink up to the live position (the server's WAL
 *    position when the drill starts):
 *    - without `from`: from nothing — a temporary slot with an exported
 *      snapshot, the tables read in it, then its stream (drill-rebuild.ts);
 *    - with `from`: from the rewind slot (replay()), onto a shadow sink the
 *      operator restored from a backup taken at that point.
 * 2. Verify the shadow sink (verifySink) while the drill's stream keeps
 *    following the live position: verify waits on the drill's own confirmed
 *    position, as it waits on the worker's slot for a production sink, so its
 *    guarantee under ongoing writes holds for the shadow too.
 * 3. Stop, drop the temporary slots, and report.
 *
 * The production slot is never read or written and the rewind slot is only
 * copied; a sink file the config lists, or one sharing a production sink's
 * checkpoint, is refused (there is no --into-production here).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { sinkPlugin } from '../../connectors/index.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import { OperatorError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import { replay, tallySummary, type ReplaySummary } from '../replay/replay.ts';
import { resolveReplaySink, type ReplaySinkFile } from '../replay/replay-sink.ts';
import { streamIntoSink, whileRunning, type RunningStream } from '../replay/replay-stream.ts';
import { pgClientConfig } from '../runtime/pg-connection.ts';
import { findPrimary } from '../runtime/pg-primary.ts';
import type { Terminal } from '../runtime/terminal.ts';
import { connectError } from '../source/connect-errors.ts';
import type { SinkWait } from '../verify/consistent-point.ts';
import { verifySink } from '../verify/verify-sink.ts';
import type { VerifyReport } from '../verify/verify-report.ts';
import { rebuildOrigin, type RebuildRead } from './drill-rebuild.ts';

export interface DrillOptions {
  config: SlotlineConfig;
  /** The shadow sink file (a sink the config lists is refused). */
  sink: string;
  /** Absent: rebuild from nothing. `rewind`, an LSN or an ISO time: replay from the rewind slot. */
  from?: string;
  tables?: string[];
  /** Longest wait for the shadow sink to reach one of verify's positions (default 60 s). */
  waitTimeoutMs?: number;
  logger: Logger;
  signal?: AbortSignal;
  terminal?: Terminal | null;
  progressIntervalMs?: number;
}

export interface DrillReport {
  mode: 'rebuild' | 'replay';
  sink: { name: string; type: string; file: string };
  /** The live position when the drill started: the shadow sink counts as rebuilt once it has everything before it. */
  target: string;
  /** Rebuild only: the tables read in the temporary slot's snapshot. */
  snapshot: { consistentPoint: string; tables: number; rows: number; seconds: number } | null;
  /** What the stream wrote into the shadow sink, up to the end of the verify (rows read count as op r). */
  stream: Pick<ReplaySummary, 'firstCommitLsn' | 'lastCommitLsn' | 'transactions' | 'events' | 'tables'> & { from: { requested: string; lsn: Lsn } };
  /** From the start of the drill until the shadow sink had everything before `target`. */
  rebuildSeconds: number;
  verify: VerifyReport;
  /** verify found missing, stale or extra entries: the recovery did not hold. */
  drift: boolean;
  /** The temporary slots made, all dropped. */
  temporarySlots: string[];
  seconds: number;
}

export async function drill(input: DrillOptions): Promise<DrillReport> {
  // A one-shot command: the primary of several hosts is looked up once.
  const options: DrillOptions = { ...input, config: { ...input.config, source: await findPrimary(input.config.source, input.logger) } };
  const { config, logger } = options;
  const started = Date.now();
  const target = await resolveReplaySink(options.sink, config, 'never');
  const sink = target.config;
  if (!sinkPlugin(sink.type).verifier) {
    throw new OperatorError(`sink "${sink.name}" is of type ${sink.type}, which verify cannot read back, so a drill cannot prove it`, {
      hint: 'drill into an elasticsearch, redis or kafka shadow sink',
    });
  }
  if ((sink.transforms ?? []).length > 0) {
    // Refused before anything is rebuilt: verify, which proves the drill, cannot compare transformed rows.
    throw new OperatorError(`sink "${sink.name}" has transforms (${sink.transforms!.map((t) => t.type).join(', ')}), which verify cannot compare with the tables, so a drill cannot prove it`, {
      hint: 'drill into a shadow sink file without transforms',
    });
  }
  const outcome: { rebuiltAt: number | null; verify: VerifyReport | null } = { rebuiltAt: null, verify: null };
  /** `ready`: the consistent read is done (a rebuild); until then the confirmed position is only where the stream will start. */
  const until = (ready: () => boolean) => async (run: RunningStream): Promise<void> => {
    await untilConfirmed(run, run.target, ready);
    outcome.rebuiltAt = Date.now();
    logger.info({ sink: sink.name, target: formatLsn(run.target), seconds: (outcome.rebuiltAt - started) / 1000 }, 'drill: the shadow sink is rebuilt up to the live position; verifying it');
    const verifying = verifySink({ config, sink, tables: options.tables?.length ? options.tables : undefined, wait: followWait(run, options.waitTimeoutMs ?? 60_000), logger });
    verifying.catch(() => undefined); // a run stopped meanwhile rejects first
    outcome.verify = await whileRunning(run, verifying);
  };
  const common = { noun: 'drill', endText: 'the end of its verify', signal: options.signal, terminal: options.terminal, progressIntervalMs: options.progressIntervalMs };

  let mode: DrillReport['mode'];
  let stream: DrillReport['stream'];
  let targetLsn: Lsn;
  let slots: string[];
  let read: RebuildRead | null = null;
  if (options.from !== undefined) {
    mode = 'replay';
    const summary = await replay({ config, sink: options.sink, from: options.from, tables: options.tables, intoProduction: 'never', logger, until: until(() => true), ...common });
    stream = { from: summary.from, firstCommitLsn: summary.firstCommitLsn, lastCommitLsn: summary.lastCommitLsn, transactions: summary.transactions, events: summary.events, tables: summary.tables };
    targetLsn = summary.to.lsn;
    slots = summary.temporarySlots;
  } else {
    mode = 'rebuild';
    const rebuilt = await rebuild(options, target, until, common);
    ({ stream, targetLsn, slots, read } = rebuilt);
  }
  const verify = outcome.verify!;
  return {
    mode,
    sink: { name: sink.name, type: sink.type, file: sink.file },
    target: formatLsn(targetLsn),
    snapshot: read && { consistentPoint: formatLsn(read.consistentPoint), tables: read.tables, rows: read.rows, seconds: read.seconds },
    stream,
    rebuildSeconds: ((outcome.rebuiltAt ?? Date.now()) - started) / 1000,
    verify,
    drift: verify.drift,
    temporarySlots: slots,
    seconds: (Date.now() - started) / 1000,
  };
}

async function rebuild(
  options: DrillOptions, target: ReplaySinkFile, until: (ready: () => boolean) => (run: RunningStream) => Promise<void>, common: { noun: string; endText: string; signal?: AbortSignal; terminal?: Terminal | null; progressIntervalMs?: number },
): Promise<{ stream: DrillReport['stream']; targetLsn: Lsn; slots: string[]; read: RebuildRead | null }> {
  const { config, logger } = options;
  const connection = pgClientConfig(config.source, 'slotline-drill-admin');
  const admin = new pg.Pool({ ...connection, max: 2 });
  admin.on('error', (err) => logger.warn({ err: err.message }, 'admin connection error'));
  try {
    const { rows } = await admin
      .query<{ database: string; num: number; current: string }>(`SELECT current_database() AS database, current_setting('server_version_num')::int AS num, pg_current_wal_lsn()::text AS current`)
      .catch((err) => {
        throw connectError(err, connection);
      });
    const server = { database: rows[0].database, major: Math.floor(rows[0].num / 10000) };
    const targetLsn = parseLsn(rows[0].current);
    const stem = `${config.source.slot.slice(0, 40)}_drill_${randomBytes(3).toString('hex')}`;
    const origin = rebuildOrigin({
      config, admin, connection, serverMajor: server.major, slot: `${stem}_0`, sinkName: target.config.name, sinkFile: target.config.file, logger,
    });
    const result = await streamIntoSink({
      config, logger, admin, server, target, tables: options.tables,
      // The window never ends by itself: the drill follows the live position until its verify is done.
      window: { to: 0xffffffffffffffffn, fromTimeMs: null },
      progressTo: targetLsn,
      stem,
      tooOld: (start, since) =>
        new OperatorError(`the drill's temporary slot no longer holds ${formatLsn(start)}: it starts at ${formatLsn(since)}`, { hint: 'run the drill again' }),
      origin: (tables) => origin.origin(tables),
      until: until(() => origin.read !== null),
      ...common,
    });
    return {
      stream: { from: { requested: 'snapshot', lsn: result.startedAt }, ...pick(tallySummary(result.tally, result.seconds)) },
      targetLsn,
      slots: [`${stem}_0`, ...result.temporarySlots],
      read: origin.read,
    };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function pick(s: ReturnType<typeof tallySummary>): Omit<DrillReport['stream'], 'from'> {
  return { firstCommitLsn: s.firstCommitLsn, lastCommitLsn: s.lastCommitLsn, transactions: s.transactions, events: s.events, tables: s.tables };
}

/** Until the shadow sink has everything before `lsn` (rejects when the run stops first). */
async function untilConfirmed(run: RunningStream, lsn: Lsn, ready: () => boolean): Promise<void> {
  while (!ready() || run.confirmed() < lsn) {
    if (run.stopping() !== null) throw new Error(run.stopping()!);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Verify's wait on the drill's own stream: what it has confirmed into the shadow sink. */
function followWait(run: RunningStream, timeoutMs: number): SinkWait {
  return {
    method: "the drill's stream into the shadow sink (its confirmed position)",
    async until(lsn) {
      const startedAt = Date.now();
      while (run.confirmed() < lsn) {
        const waitedMs = Date.now() - startedAt;
        if (run.stopping() !== null) return { caughtUp: false, waitedMs, note: `the drill's stream stopped: ${run.stopping()}` };
        if (waitedMs >= timeoutMs) return { caughtUp: false, waitedMs, note: `the drill's stream had confirmed ${formatLsn(run.confirmed())}, not ${formatLsn(lsn)}, after ${Math.round(waitedMs / 1000)} s` };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return { caughtUp: true, waitedMs: Date.now() - startedAt };
    },
  };
}
