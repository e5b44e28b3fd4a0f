/**
 * The per-message step of the pipeline: decoded pgoutput message in, events
 * queued on the sinks that want them, commit marks queued on every sink.
 *
 * It keeps the transaction state (Begin … Commit) and asks the normalizer for
 * events; it never waits, except for a Relation whose types must be looked up
 * in the catalog, which returns a promise (the caller pauses reading meanwhile).
 */
import type { Logger } from 'pino';
import type { Lsn } from '../lsn.ts';
import type { Router } from '../route/router.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { TableScope } from '../source/table-scope.ts';
import { SNAPSHOT_PREFIX, type WindowMarks } from '../snapshot/incremental-windows.ts';
import type { ChangeEvent, Op, PgoutputMessage } from '../types.ts';
import { NO_TX, type ChangeNormalizer, type TxContext } from './change-normalizer.ts';
import type { SinkRunner } from './sink-runner.ts';

/** Prefix of the heartbeat messages slotline writes itself; never routed to sinks. */
export const HEARTBEAT_PREFIX = 'slotline.heartbeat';

export interface ChangeRouterOptions {
  normalizer: ChangeNormalizer;
  router: Router;
  /** The captured tables (source.tables); changes of other published tables are dropped here. */
  scope: TableScope;
  runners: readonly SinkRunner[];
  skippedOperations: ReadonlySet<Op>;
  /**
   * The first transaction's `lastCommitLsn` (source.sequence[0]): where the stream
   * resumed, as Debezium uses its stored offset; null on a slot this start created,
   * where no earlier commit is known (Debezium sends `[null, lsn]` then too).
   */
  resumedCommitLsn: Lsn | null;
  logger: Logger;
  /** Watermark windows of re-snapshots in progress (slotline snapshot); their marks are handled here. */
  snapshotMarks?: WindowMarks;
  telemetry?: Telemetry;
  /** Called at each commit read, with its end LSN and commit time (µs since the epoch). */
  onCommit?: (endLsn: Lsn, commitTimeUs: bigint) => void;
}

export interface ChangeRouter {
  /** Handles one message; returns a promise only when it must wait (catalog look-up). */
  handle(lsn: Lsn, message: PgoutputMessage): Promise<void> | void;
  /** Between transactions (no Begin without its Commit). */
  readonly inTransaction: boolean;
  /** The connection was lost: forget the session state (Relations are re-sent on a new session). */
  reset(): void;
  readonly stats: { transactions: number; events: number };
}

export function createChangeRouter(options: ChangeRouterOptions): ChangeRouter {
  const { normalizer, router, scope, runners, skippedOperations, snapshotMarks, telemetry } = options;
  let tx: TxContext | null = null;
  let lastCommitLsn: Lsn | null = options.resumedCommitLsn;
  const stats = { transactions: 0, events: 0 };

  const deliver = (event: ChangeEvent, targets: readonly number[]): void => {
    for (const i of targets) runners[i].push(event);
    stats.events++;
    telemetry?.countReceived(event);
  };

  const deliverAll = (events: ChangeEvent[], targets: readonly number[]): void => {
    for (const event of events) {
      if (!skippedOperations.has(event.op)) deliver(event, targets);
    }
  };

  const commitMark = (commitLsn: Lsn, endLsn: Lsn): void => {
    for (const runner of runners) runner.pushCommit(commitLsn, endLsn);
  };

  return {
    handle(lsn, message) {
      switch (message.tag) {
        case 'begin':
          tx = { xid: message.xid, finalLsn: message.finalLsn, commitTimeUs: message.commitTimeUs, lastCommitLsn, origin: null };
          return;
        case 'origin':
          if (tx) tx.origin = { name: message.name, lsn: message.originLsn };
          return;
        case 'relation': {
          const built = normalizer.relation(message.relation);
          const admitted = scope.admit(message.relation);
          if (!built && !admitted) return;
          return Promise.all([built, admitted]).then(() => undefined);
        }
        case 'type':
          return; // the catalog resolves types by OID when a Relation names them
        case 'insert':
        case 'update':
        case 'delete': {
          if (!scope.captured(message.relationId)) return;
          const table = normalizer.table(message.relationId);
          const targets = router.sinksFor(table.schema, table.table);
          if (targets.length === 0) return;
          const events = normalizer.change(message, requireTx(tx, message.tag), lsn);
          if (snapshotMarks) for (const event of events) snapshotMarks.observe(event);
          deliverAll(events, targets);
          return;
        }
        case 'truncate': {
          if (skippedOperations.has('t')) return;
          const relationIds = message.relationIds.filter((id) => scope.captured(id));
          if (relationIds.length === 0) return;
          const events = normalizer.truncate({ ...message, relationIds }, requireTx(tx, message.tag), lsn);
          for (const event of events) deliver(event, router.sinksFor(event.schema, event.table));
          return;
        }
        case 'message': {
          // A non-transactional message is its own unit: once written it may be confirmed. Like
          // Debezium (which commits its position before dispatching it), it is its own last
          // commit: its sequence is [lsn, lsn], and the next transaction's sequence[0] is lsn.
          if (!message.transactional) lastCommitLsn = lsn;
          if (message.prefix === SNAPSHOT_PREFIX) {
            // A re-snapshot's watermark: a closing one hands over the chunk's surviving rows, here in the stream.
            for (const { event, targets } of snapshotMarks?.mark(message.content.toString('utf8'), lsn) ?? []) deliver(event, targets);
            if (!message.transactional) commitMark(0n, lsn);
            return;
          }
          if (message.prefix === HEARTBEAT_PREFIX) {
            if (!message.transactional) commitMark(0n, lsn);
            return;
          }
          const targets = router.messageSinks();
          const context = message.transactional ? requireTx(tx, 'message') : { ...NO_TX, lastCommitLsn: lsn };
          const event = normalizer.message(message, context, lsn);
          if (targets.length > 0 && !skippedOperations.has('m')) deliver(event, targets);
          if (!message.transactional) commitMark(0n, lsn);
          return;
        }
        case 'commit':
          commitMark(message.commitLsn, message.endLsn);
          telemetry?.transactionReceived(message.endLsn, message.commitTimeUs);
          options.onCommit?.(message.endLsn, message.commitTimeUs);
          // Debezium's lsn_commit (source.sequence[0]): where the previous Commit arrived, i.e. its end LSN.
          lastCommitLsn = message.endLsn;
          tx = null;
          stats.transactions++;
          return;
      }
    },
    get inTransaction() {
      return tx !== null;
    },
    reset() {
      tx = null;
      normalizer.reset();
    },
    stats,
  };
}

function requireTx(tx: TxContext | null, tag: string): TxContext {
  if (!tx) throw new Error(`pgoutput protocol error: ${tag} outside a transaction`);
  return tx;
}
