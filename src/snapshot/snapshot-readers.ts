/**
 * Connections that read tables inside one shared snapshot.
 *
 * For a slot created in this run, the snapshot is the one CREATE_REPLICATION_SLOT
 * exports on its replication connection: it shows exactly the transactions that
 * committed before the slot's consistent point, so the rows read plus the
 * changes streamed from that point hold every change once — no gap, no
 * duplicate. The export lives only while that connection stays idle, so every
 * reader imports it before the connection is closed.
 *
 * For a slot that already exists (`always`, or an initial snapshot taken again
 * after a crash) no such snapshot exists any more: the first reader opens a
 * REPEATABLE READ transaction and exports its snapshot to the others, and the
 * stream resumes from the slot's confirmed position, so rows changed since
 * then arrive twice (a read, then their changes again) but never go missing.
 */
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { parseLsn, type Lsn } from '../lsn.ts';
import { REPLICATION_SESSION_OPTIONS } from '../source/replication-stream.ts';
import { pgCode, slotCreateError } from '../source/slot-admin.ts';
import { watchSlotCreation } from '../source/slot-creation-watch.ts';

export interface SnapshotReaders {
  /** Each inside `REPEATABLE READ READ ONLY` with the shared snapshot; one table at a time per client. */
  readonly clients: readonly pg.Client[];
  /** Ends the transactions and closes the connections. Idempotent. */
  close(): Promise<void>;
}

export interface CreatedSlot {
  consistentPoint: Lsn;
  readers: SnapshotReaders;
}

/** Query option: every value as the server's text, parsed later by the normalizer as pgoutput's text is. */
export const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** Thrown when another session created the slot between our look-up and our CREATE. */
export class SlotExistsError extends Error {}

/** Session settings that make table reads print values exactly as pgoutput does. */
export function readerConfig(connection: ClientConfig): ClientConfig {
  return { ...connection, options: [connection.options, REPLICATION_SESSION_OPTIONS].filter(Boolean).join(' ') };
}

async function openReaders(connection: ClientConfig, count: number, snapshotName: string | null): Promise<SnapshotReaders> {
  const clients: pg.Client[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  };
  try {
    let name = snapshotName;
    for (let i = 0; i < count; i++) {
      const client = new pg.Client(readerConfig(connection));
      client.on('error', () => undefined); // surfaced by the next query
      clients.push(client);
      await client.connect();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (name === null) {
        name = (await client.query<{ name: string }>('SELECT pg_export_snapshot() AS name')).rows[0].name;
      } else {
        await client.query(`SET TRANSACTION SNAPSHOT ${pg.escapeLiteral(name)}`);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { clients, close };
}

/** What a slot is created from. */
export interface SlotRequest {
  connection: ClientConfig;
  slot: string;
  serverMajor: number;
  /** Connections that import the exported snapshot (at least one). */
  readers: number;
  /** Says which transactions a slow creation waits for (slot-creation-watch.ts). */
  logger: Logger;
}

/**
 * Creates the logical slot on a replication connection with an exported
 * snapshot and has `readers` connections import it. PG 15+ takes
 * `(SNAPSHOT 'export')`; PG 14 only the older `EXPORT_SNAPSHOT` keyword.
 * `failover` (PG 17+) makes it a slot that standbys synchronize.
 */
export async function createSlotWithSnapshot(request: SlotRequest & { failover?: boolean }): Promise<CreatedSlot> {
  const { replication, ...created } = await createExported(request, { temporary: false, failover: request.failover === true });
  // Closing the replication connection ends the export; the readers hold the snapshot now.
  await replication.end().catch(() => undefined);
  return created;
}

export interface TemporarySlot extends CreatedSlot {
  /** Ends the session that owns the slot: the server drops the slot with it. Idempotent. */
  drop(): Promise<void>;
}

/**
 * The same with a TEMPORARY slot (`slotline drill`): it belongs to the
 * replication session that made it, which stays open, idle, until drop() —
 * and the server drops the slot when that session ends however it ends, so a
 * drill that dies leaves nothing pinning WAL. Other sessions copy it
 * (pg_copy_logical_replication_slot) to stream from it.
 */
export async function createTemporarySlotWithSnapshot(request: SlotRequest): Promise<TemporarySlot> {
  const { replication, ...created } = await createExported(request, { temporary: true, failover: false });
  return { ...created, drop: () => replication.end().catch(() => undefined) };
}

async function createExported(
  { connection, slot, serverMajor, readers, logger }: SlotRequest, { temporary, failover }: { temporary: boolean; failover: boolean },
): Promise<CreatedSlot & { replication: pg.Client }> {
  const replication = new pg.Client({ ...connection, application_name: 'slotline-snapshot', replication: 'database' } as ClientConfig);
  replication.on('error', () => undefined);
  await replication.connect();
  try {
    const options = serverMajor >= 15 ? `(SNAPSHOT 'export'${failover ? ', FAILOVER true' : ''})` : 'EXPORT_SNAPSHOT';
    const watch = watchSlotCreation({ connection, slot, logger });
    let row: { consistent_point: string; snapshot_name: string };
    try {
      const result = await replication.query(`CREATE_REPLICATION_SLOT ${pg.escapeIdentifier(slot)}${temporary ? ' TEMPORARY' : ''} LOGICAL pgoutput ${options}`);
      row = result.rows[0];
    } catch (err) {
      if (pgCode(err) === '42710') throw new SlotExistsError(`replication slot "${slot}" was created by another session meanwhile`);
      throw slotCreateError(slot, err);
    } finally {
      await watch.stop();
    }
    const imported = await openReaders(connection, Math.max(1, readers), row.snapshot_name);
    return { consistentPoint: parseLsn(row.consistent_point), readers: imported, replication };
  } catch (err) {
    await replication.end().catch(() => undefined);
    throw err;
  }
}

/** Readers sharing a new snapshot of their own (the slot already exists). */
export function openSharedSnapshot(connection: ClientConfig, readers: number): Promise<SnapshotReaders> {
  return openReaders(connection, Math.max(1, readers), null);
}
