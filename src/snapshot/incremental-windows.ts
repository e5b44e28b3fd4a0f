/**
 * The stream side of incremental snapshots (DBLog watermarks, what Debezium
 * calls incremental snapshots): chunks of a table are read while the stream
 * keeps flowing, and a read row never overwrites a newer streamed change.
 *
 * For each chunk the coordinator writes an open mark into the WAL
 * (`pg_logical_emit_message`, non-transactional, so it is decoded at its own
 * position), selects the chunk, and writes a close mark. Here, between the two
 * marks as the stream delivers them, every streamed change of that table
 * records its key; at the close mark the chunk's rows whose keys were not
 * recorded are emitted as `op: r` events — at that point of the stream, so
 * everything streamed after them is newer. A row whose key changed inside the
 * window is left to the stream, which carries the newer version.
 *
 * Read events carry a low version (the slot's restart LSN, read before the
 * chunk's SELECT): every transaction not visible to that SELECT writes its
 * changes past it, so Elasticsearch and Redis keep a streamed change over a
 * read copy whatever the order they arrive in.
 */
import { formatLsn, type Lsn } from '../lsn.ts';
import { clockNs, normalizeRead } from '../normalize/change-events.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { TableModel } from '../normalize/table-model.ts';
import type { ChangeEvent, Row, Tuple } from '../types.ts';

/** Prefix of the marks and signals slotline writes for snapshots; never routed to sinks. */
export const SNAPSHOT_PREFIX = 'slotline.snapshot';

export interface ChunkWindow {
  id: string;
  model: TableModel;
  /** Sinks (indexes) that get the read rows. */
  targets: readonly number[];
  /** Set once the SELECT returned; the close mark is written after that. */
  rows: Tuple[] | null;
  /** Version of the read rows (see above). */
  versionLsn: Lsn;
  /** Where the open mark was written; known once the coordinator has it. */
  openLsn: Lsn | null;
  /** The stream has passed the open mark. */
  open: boolean;
  changed: Set<string>;
  /** Resolves when the close mark was handled and the rows handed to the sinks. */
  closed: Promise<number>;
  close(emitted: number): void;
}

export interface WindowMarks {
  /** Registers a chunk before its open mark is written. */
  add(id: string, model: TableModel, targets: readonly number[]): ChunkWindow;
  drop(id: string): void;
  /** A streamed change: records its key in the open windows of its table. */
  observe(event: ChangeEvent): void;
  /** A snapshot mark or signal from the stream; returns read events to deliver here. */
  mark(content: string, lsn: Lsn): Array<{ event: ChangeEvent; targets: readonly number[] }>;
  /** The stream restarts from `from`: windows whose open mark comes again start over. */
  restart(from: Lsn): void;
}

/** A key struct as a map key: values in field order, bigints and buffers spelled out. */
export function keyString(key: Row | null): string {
  if (key === null) return '';
  return JSON.stringify(Object.values(key), (_k, v) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('base64') : v));
}

export function createWindowMarks(options: { normalize: NormalizeOptions; onSignal: () => void }): WindowMarks {
  const windows = new Map<string, ChunkWindow>();
  const tableOf = (schema: string, table: string): string => `${schema}\u0000${table}`;

  return {
    add(id, model, targets) {
      let close!: (n: number) => void;
      const closed = new Promise<number>((resolve) => (close = resolve));
      const window: ChunkWindow = {
        id, model, targets, rows: null, versionLsn: 0n, openLsn: null, open: false, changed: new Set(), closed, close,
      };
      windows.set(id, window);
      return window;
    },
    drop(id) {
      windows.delete(id);
    },
    observe(event) {
      if (windows.size === 0) return;
      const name = tableOf(event.schema, event.table);
      for (const w of windows.values()) {
        if (w.open && tableOf(w.model.relation.schema, w.model.relation.table) === name) w.changed.add(keyString(event.key));
      }
    },
    mark(content, lsn) {
      let parsed: { open?: string; close?: string; signal?: string };
      try {
        parsed = JSON.parse(content);
      } catch {
        return [];
      }
      if (parsed.signal !== undefined) {
        options.onSignal();
        return [];
      }
      if (parsed.open !== undefined) {
        const w = windows.get(parsed.open);
        if (w) w.open = true;
        return [];
      }
      const w = parsed.close === undefined ? undefined : windows.get(parsed.close);
      // Marks of a chunk this process does not know (an earlier run's, replayed after a restart) are ignored:
      // that chunk is read again from the persisted position.
      if (w === undefined || w.rows === null || !w.open) return [];
      windows.delete(w.id);
      const ctx = {
        tx: { xid: null, commitTimeUs: clockNs() / 1000n, finalLsn: w.versionLsn, lastCommitLsn: null, origin: null },
        lsn,
      };
      const out: Array<{ event: ChangeEvent; targets: readonly number[] }> = [];
      for (const tuple of w.rows) {
        const event = normalizeRead(w.model, tuple, options.normalize, ctx, 'incremental', w.versionLsn);
        if (!w.changed.has(keyString(event.key))) out.push({ event, targets: w.targets });
      }
      w.close(out.length);
      return out;
    },
    restart(from) {
      for (const w of windows.values()) {
        // The open mark comes again: what was recorded will be recorded again after it.
        if (w.openLsn !== null && w.openLsn >= from) {
          w.open = false;
          w.changed.clear();
        }
      }
    },
  };
}

export function describeWindow(w: ChunkWindow): string {
  return `${w.model.relation.schema}.${w.model.relation.table} chunk ${w.id} (open mark ${w.openLsn === null ? '?' : formatLsn(w.openLsn)})`;
}
