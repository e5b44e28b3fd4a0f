/**
 * A write's events → the bulk operations that bring the index to their state.
 *
 * Every operation is a whole document (or a delete) carrying the change's LSN
 * as its external version, so only the last change of a document in a segment
 * matters: earlier ones are superseded, and dropping them means no document has
 * two operations in one segment, so bulks can run concurrently without
 * reordering changes of one document. Truncates split a write into segments,
 * applied in order.
 *
 * An update whose unchanged TOAST columns were not sent takes them from the
 * previous change of the same row in this write, else from the stored document
 * (`needsStored`, filled by the sink with _mget before anything is sent).
 */
import type { ChangeEvent } from '../../src/types.ts';
import { rowDocument, unavailableColumns, type DocumentOptions, type Json } from './elasticsearch-documents.ts';

export interface DocOp {
  kind: 'index' | 'delete';
  index: string;
  id: string;
  /** External version: the change's LSN. */
  version: bigint;
  doc: Record<string, Json> | null;
  /** Position of the event in the write, for RecordError and the dead-letter entry. */
  eventIndex: number;
  /** TOAST columns still to take from the stored document. */
  needsStored: string[];
}

export type Segment = { kind: 'ops'; ops: DocOp[] } | { kind: 'truncate'; event: ChangeEvent; eventIndex: number };

export interface PlanContext {
  indexOf(event: ChangeEvent): string;
  idOf(event: ChangeEvent, row: Record<string, unknown>): string;
  document: DocumentOptions;
  placeholder: string;
}

export function opKey(op: Pick<DocOp, 'index' | 'id'>): string {
  return `${op.index}\u0000${op.id}`;
}

export function planWrite(events: readonly ChangeEvent[], ctx: PlanContext): Segment[] {
  const segments: Segment[] = [];
  let current: Map<string, DocOp> | null = null;
  const close = (): void => {
    if (current && current.size > 0) segments.push({ kind: 'ops', ops: [...current.values()] });
    current = null;
  };
  events.forEach((event, eventIndex) => {
    if (event.op === 't') {
      close();
      segments.push({ kind: 'truncate', event, eventIndex });
      return;
    }
    if (event.op === 'm') return;
    current ??= new Map();
    const index = ctx.indexOf(event);
    let op: DocOp;
    if (event.op === 'd') {
      const id = ctx.idOf(event, { ...(event.key ?? {}), ...(event.before ?? {}) });
      op = { kind: 'delete', index, id, version: event.lsn, doc: null, eventIndex, needsStored: [] };
    } else {
      const row = event.after ?? {};
      const id = ctx.idOf(event, row);
      const doc = rowDocument(event, row, ctx.document);
      const needsStored: string[] = [];
      if (event.op === 'u') {
        const missing = unavailableColumns(row, ctx.placeholder).filter((c) => c in doc);
        const previous = current.get(opKey({ index, id }));
        for (const column of missing) {
          if (previous?.kind === 'index' && previous.doc && !previous.needsStored.includes(column)) doc[column] = previous.doc[column];
          else if (previous?.kind === 'delete') delete doc[column];
          else needsStored.push(column);
        }
      }
      op = { kind: 'index', index, id, version: event.lsn, doc, eventIndex, needsStored };
    }
    const key = opKey(op);
    // A snapshot read carries a version below the streamed changes (normalizeRead): it may come
    // after a newer change of the same document, and must lose to it here as Elasticsearch would.
    const kept = current.get(key);
    if (kept !== undefined && kept.version > op.version) return;
    // Re-insert so the map's order is the order of last changes.
    current.delete(key);
    current.set(key, op);
  });
  close();
  return segments;
}

/** Fills TOAST columns from stored documents; a column the store lacks too is left out (returned for a warning). */
export function fillFromStored(op: DocOp, stored: Record<string, unknown> | undefined): string[] {
  const lost: string[] = [];
  for (const column of op.needsStored) {
    if (stored && column in stored) op.doc![column] = stored[column] as Json;
    else {
      delete op.doc![column];
      lost.push(column);
    }
  }
  op.needsStored = [];
  return lost;
}
