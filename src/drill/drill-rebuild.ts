/**
 * Where a drill without `--from` rebuilds the shadow sink from: nothing.
 *
 * A TEMPORARY slot made with an exported snapshot, on a replication session
 * that stays open and idle for the whole drill; the tables read in that
 * snapshot (the initial snapshot's own reader, as `op: r` events); then the
 * stream from the slot's consistent point, through copies of it that each
 * replication session makes (replay-slot.ts) — a temporary slot can only be
 * streamed by the session that owns it. Rows read plus changes streamed hold
 * every change once: the snapshot shows exactly the transactions that
 * committed before the consistent point.
 *
 * Nothing outlives the drill: the server drops the temporary slot when its
 * session ends — at the end, on Ctrl-C, on an error, or when the process dies.
 */
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import type { SlotlineConfig } from '../config/load-config.ts';
import { OperatorError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import { awaitSlotsDropped } from '../replay/replay-slot.ts';
import type { RunTables, StreamOrigin } from '../replay/replay-stream.ts';
import { stderrTerminal } from '../runtime/terminal.ts';
import { createSnapshotProgress } from '../snapshot/snapshot-progress.ts';
import { createTemporarySlotWithSnapshot } from '../snapshot/snapshot-readers.ts';
import { runSnapshot } from '../snapshot/snapshot-runner.ts';
import { listSnapshotTables } from '../snapshot/snapshot-tables.ts';
import type { Queryable } from '../source/pg-catalog.ts';

export interface RebuildRead {
  /** The temporary slot's consistent point: what the snapshot shows. */
  consistentPoint: Lsn;
  tables: number;
  rows: number;
  seconds: number;
}

export interface RebuildOrigin {
  origin(tables: RunTables): Promise<StreamOrigin>;
  /** What the consistent read did, once it is done. */
  readonly read: RebuildRead | null;
}

export interface RebuildOptions {
  config: SlotlineConfig;
  admin: Queryable;
  connection: ClientConfig;
  serverMajor: number;
  /** The temporary slot's name. */
  slot: string;
  sinkName: string;
  sinkFile: string;
  logger: Logger;
}

export function rebuildOrigin(options: RebuildOptions): RebuildOrigin {
  const { config, admin, logger } = options;
  let read: RebuildRead | null = null;
  return {
    get read() {
      return read;
    },
    async origin({ scope, router, catalog, normalize }) {
      const routed = async (t: { schema: string; table: string }): Promise<boolean> => router.sinksFor(t.schema, t.table).length > 0 && (await scope.includes(t));
      const tables = await listSnapshotTables(admin, config.source.publication, routed);
      if (tables.length === 0) {
        throw new OperatorError(`sink "${options.sinkName}" routes no table that slotline captures`, {
          hint: `check the sink's tables and exclude_tables in ${options.sinkFile}, source.tables and publication "${config.source.publication}"`,
        });
      }
      const readers = Math.min(config.snapshot.max_connections, tables.length);
      const made = await createTemporarySlotWithSnapshot({ connection: options.connection, slot: options.slot, serverMajor: options.serverMajor, readers, logger });
      const start = made.consistentPoint;
      try {
        // Every change the slot streams lies past its restart position: reads carry it as their version (as the worker's snapshot does).
        const { rows } = await admin.query<{ restart: string | null }>('SELECT restart_lsn::text AS restart FROM pg_replication_slots WHERE slot_name = $1', [options.slot]);
        const versionLsn = rows[0]?.restart ? parseLsn(rows[0].restart) : start;
        logger.info({ slot: options.slot, consistentPoint: formatLsn(start), tables: tables.length, connections: made.readers.clients.length }, 'drill: temporary slot made with an exported snapshot; reading the tables');
        return {
          slot: options.slot,
          start,
          slotCreated: true,
          firstMayStartLater: false,
          close: async () => {
            await made.readers.close();
            await made.drop();
            const left = await awaitSlotsDropped(admin, [options.slot]);
            if (left.length > 0) logger.error({ slot: options.slot, hint: `SELECT pg_drop_replication_slot('${options.slot}')` }, 'the temporary slot is still there');
          },
          beforeStreaming: async (feed) => {
            const started = Date.now();
            const progress = createSnapshotProgress({ logger, intervalMs: config.snapshot.progress_interval_ms, terminal: stderrTerminal() });
            let result;
            try {
              result = await runSnapshot({
                readers: made.readers.clients, tables, sourceLsn: start, versionLsn, fetchSize: config.snapshot.fetch_size, catalog, normalize, feed, progress, logger,
              });
            } finally {
              await made.readers.close();
            }
            if (!result.complete) return 'stop';
            await feed.drained();
            read = { consistentPoint: start, tables: result.tables, rows: result.rows, seconds: (Date.now() - started) / 1000 };
            logger.info({ rows: result.rows, tables: result.tables, seconds: read.seconds }, 'drill: tables read into the shadow sink; streaming from the consistent point');
            return feed.stopped ? 'stop' : 'stream';
          },
        };
      } catch (err) {
        await made.readers.close();
        await made.drop();
        throw err;
      }
    },
  };
}
