/**
 * `verifySink`: reconciles one sink against the source tables and returns a
 * report (the `slotline verify` command prints it; `slotline drill` runs it
 * on the shadow sink it rebuilt).
 *
 * 1. The tables: those the sink routes that slotline captures (source.tables,
 *    the publication), or the `tables` asked for, each checked to be one.
 * 2. The consistent point: a snapshot and its WAL position (consistent-point.ts);
 *    then wait until the sink has everything up to it.
 * 3. Each table read in that snapshot in key order and compared page by page
 *    with what the sink holds (table-check.ts); differences re-checked against
 *    rows changed since (recheck.ts).
 * 4. Extra entries in each index, key pattern or topic (extras.ts).
 *
 * Only reads: no slot is created or moved, nothing is written to the WAL or
 * to the sink. Memory: a page of rows and entries, the differences waiting
 * for a re-check, and 16 bytes per row for the claimed addresses.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { sinkPlugin } from '../../connectors/index.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import { normalizeOptionsOf } from '../config/main-schema.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { describeError, errorKind, OperatorError } from '../errors.ts';
import { formatLsn } from '../lsn.ts';
import { loadTableModel } from '../runtime/change-normalizer.ts';
import { pgClientConfig } from '../runtime/pg-connection.ts';
import { findPrimary } from '../runtime/pg-primary.ts';
import { stderrTerminal } from '../runtime/terminal.ts';
import { createSnapshotProgress } from '../snapshot/snapshot-progress.ts';
import { connectError } from '../source/connect-errors.ts';
import { createTypeCatalog } from '../source/type-catalog.ts';
import { noWait, openSnapshotSession, slotWait, type SinkWait, type SnapshotSession } from './consistent-point.ts';
import { findExtras } from './extras.ts';
import { createFingerprintSet } from './fingerprints.ts';
import type { SinkVerifier } from './sink-verifier.ts';
import { checkTable } from './table-check.ts';
import { describeVerifyTable, type VerifyTable } from './table-rows.ts';
import { selectTables } from './table-selection.ts';
import { emptyTableReport, totalsOf, type TableReport, type VerifyReport } from './verify-report.ts';

export interface VerifyOptions {
  config: SlotlineConfig;
  /** The sink: one of config.sinks, or one loaded from another file (a shadow sink). */
  sink: SinkConfig;
  /** `schema.table` names; default every table the sink routes that slotline captures. */
  tables?: readonly string[];
  /**
   * How to know the sink has everything up to a position. Default: the
   * config's slot when the sink is one of the config's sinks (the worker
   * writes it); otherwise none, and the sink is compared as it stands.
   */
  wait?: SinkWait;
  /** Longest wait for the sink to reach a position, with the default wait (default 60 s). */
  waitTimeoutMs?: number;
  /** Rows per page and per sink read (default 2000). */
  pageSize?: number;
  /** Re-check differences once this many are waiting (default 5000). */
  recheckEvery?: number;
  /** Re-check rounds for a row that keeps changing (default 3). */
  rounds?: number;
  /** Extra candidates re-checked per space; more are counted as extra unchecked (default 100 000). */
  extrasLimit?: number;
  /** Progress: bars on a terminal (stderr), else log lines; 'none' for neither (default 'auto'). */
  progress?: 'auto' | 'none';
  logger: Logger;
}

export async function verifySink(options: VerifyOptions): Promise<VerifyReport> {
  const { config, sink, logger } = options;
  const started = Date.now();
  const plugin = sinkPlugin(sink.type);
  if (!plugin.verifier) {
    throw new OperatorError(`sink "${sink.name}" is of type ${sink.type}, which verify cannot read back`, { hint: 'verify reconciles elasticsearch, redis and kafka sinks' });
  }
  const transforms = sink.transforms ?? [];
  if (transforms.length > 0) {
    // The sink holds transformed rows (masked, unwrapped, routed, filtered): comparing them with the source would report every one.
    throw new OperatorError(`sink "${sink.name}" has transforms (${transforms.map((t) => t.type).join(', ')}), so it does not hold the source rows verify compares with`, {
      hint: 'verify a sink without transforms fed by the same slot, or check this one by its own means',
    });
  }
  const connection = pgClientConfig(await findPrimary(config.source, logger), 'slotline-verify');
  const admin = new pg.Client(connection);
  admin.on('error', () => undefined);
  await admin.connect().catch((err) => {
    throw connectError(err, connection);
  });
  let verifier: SinkVerifier | null = null;
  const sessions: SnapshotSession[] = [];
  try {
    const database = (await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const normalize = normalizeOptionsOf(config, database);
    verifier = await plugin.verifier(sink, {
      logger: logger.child({ sink: sink.name, type: sink.type }),
      topicPrefix: config.topic_prefix,
      normalize,
      schemasEnable: config.schemas_enable,
      tombstonesOnDelete: config.tombstones_on_delete,
    }) as SinkVerifier;
    const selection = await selectTables({ admin, config, sink, wanted: options.tables, spaces: (t) => verifier!.spaces(t) });
    await verifier.start(selection.tables).catch((err) => {
      throw unreachable(sink, err);
    });

    const catalog = createTypeCatalog(admin);
    const tables: VerifyTable[] = [];
    for (const source of selection.tables) tables.push(describeVerifyTable(source, await loadTableModel(catalog, source.relation, normalize)));
    const inConfig = config.sinks.some((s) => s.file === sink.file && s.name === sink.name);
    const wait = options.wait ?? (inConfig ? slotWait({ admin, slot: config.source.slot, timeoutMs: options.waitTimeoutMs ?? 60_000, logger }) : noWait);

    const main = await openSnapshotSession(connection);
    sessions.push(main);
    const recheckSession = await openSnapshotSession(connection);
    sessions.push(recheckSession);
    const snapshot = await main.begin();
    logger.info({ sink: sink.name, lsn: formatLsn(snapshot.lsn), tables: tables.length }, 'verify: consistent point taken; waiting for the sink to reach it');
    const waited = await wait.until(snapshot.lsn);
    if (waited.caughtUp === false) logger.warn({ note: waited.note }, 'verify: the sink did not reach the consistent point; differences may be changes not delivered yet');
    await verifier.catchUp?.();

    const context = { verifier, wait, normalize, session: recheckSession, rounds: options.rounds ?? 3, caughtUp: waited.caughtUp !== false };
    const pageSize = options.pageSize ?? 2000;
    const claimed = createFingerprintSet(tables.reduce((n, t) => n + (t.source.estimatedRows ?? 0), 0) * 2);
    const reports: TableReport[] = tables.map((t) => emptyTableReport(t.display));
    const progress = createSnapshotProgress({
      logger, noun: 'verify', intervalMs: config.snapshot.progress_interval_ms, terminal: options.progress === 'none' ? null : stderrTerminal(),
    });
    try {
      for (const [i, table] of tables.entries()) {
        if (options.progress !== 'none') progress.tableStarted(table.display, table.source.estimatedRows);
        await checkTable({
          ...context, table, snapshot, claimed, pageSize, recheckEvery: options.recheckEvery ?? 5000, report: reports[i],
          onRows: (n) => progress.rowsRead(table.display, n),
        });
        progress.tableDone(table.display);
      }
    } finally {
      progress.close();
    }
    await snapshot.close();

    for (const [space, members] of selection.spaces) {
      const verified = members.map((m) => tables.findIndex((t) => t.source.schema === m.schema && t.source.table === m.table));
      if (verified.some((i) => i < 0)) continue;
      const report = reports[Math.min(...verified)];
      await findExtras({
        ...context, space, tables: verified.map((i) => tables[i]), report, claimed, lsn: snapshot.lsn, pageSize, limit: options.extrasLimit ?? 100_000,
      });
      for (const i of verified) reports[i].extrasChecked = true;
      if (verified.length > 1) report.notes.push(`extra entries of ${space} (shared with ${verified.filter((i) => reports[i] !== report).map((i) => tables[i].display).join(', ')}) are counted here`);
    }
    for (const r of reports) if (!r.extrasChecked) r.notes.push('extra entries not looked for: its index, key pattern or topic also holds tables not verified in this run');

    const totals = totalsOf(reports);
    const seconds = (Date.now() - started) / 1000;
    return {
      sink: { name: sink.name, type: sink.type, file: sink.file },
      database,
      consistentPoint: formatLsn(snapshot.lsn),
      startedAt: snapshot.takenAt.toISOString(),
      sinkWait: { method: wait.method, ...waited },
      tables: reports,
      totals,
      drift: totals.missing + totals.stale + totals.extra > 0,
      notes: [...verifier.notes(), ...skippedNote(config)],
      seconds,
      rowsPerSecond: totals.rows / Math.max(seconds, 1e-3),
    };
  } finally {
    for (const s of sessions) await s.end();
    await verifier?.stop().catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

function unreachable(sink: SinkConfig, err: unknown): unknown {
  if (errorKind(err) === 'operator') return err;
  return new OperatorError(`sink "${sink.name}" (${sink.type}) cannot be reached: ${describeError(err)}`, {
    hint: `check that ${sink.type} is running and that the address in ${sink.file} is right`,
    cause: err,
  });
}

function skippedNote(config: SlotlineConfig): string[] {
  const skipped = config.skipped_operations.filter((op) => op !== 't');
  if (skipped.length === 0) return [];
  return [`skipped_operations leaves out ${skipped.join(', ')}: the sink is meant to differ from the tables there (e.g. rows deleted but still in the sink)`];
}
