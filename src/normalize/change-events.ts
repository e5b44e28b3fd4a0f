/**
 * pgoutput row changes → Debezium change events (PostgresChangeRecordEmitter,
 * RelationalChangeRecordEmitter). Pure: the caller passes the transaction
 * context and the processing time.
 *
 * before/after by replica identity:
 * - insert: after only;
 * - update: before = the old tuple when pgoutput sent one (FULL: the whole old
 *   row; DEFAULT/INDEX: only when key columns changed, holding those columns and
 *   NULL — or the NOT NULL fallback — elsewhere), else null;
 * - delete: before = the old tuple, same rules;
 * - an update that changes the key becomes a `d` for the old key and a `c` for
 *   the new one, each carrying the other key (`keyChange`) for the
 *   `__debezium.newkey` / `__debezium.oldkey` headers.
 * An unchanged TOASTed value takes the old tuple's value when there is one,
 * else the column's placeholder.
 */
import type { Lsn } from '../lsn.ts';
import type { ChangeEvent, Op, Row, SourceInfo, TableSchemas, Tuple } from '../types.ts';
import { ConversionError, NULL_TEXT, UNCHANGED_TOAST_TEXT } from './conversion-error.ts';
import type { NormalizeOptions } from './options.ts';
import { DEBEZIUM_FAILS, strictFailure } from './strict-compat.ts';
import type { TableModel } from './table-model.ts';

/** Debezium version reported in `source.version`. */
export const DEBEZIUM_VERSION = '3.6.1.Final';

/**
 * What the runtime knows about the transaction of a change.
 *
 * `lastCommitLsn` is Debezium's `lsn_commit`, the first element of
 * `source.sequence`: the WAL position at which the *previous* transaction's
 * COMMIT message arrived — the XLogData start of a pgoutput Commit, which equals
 * that Commit's `endLsn` — or of the last non-transactional logical message,
 * whichever came later; after a restart, the LSN the stream resumed from
 * (Debezium uses its stored offset); null before any.
 */
export interface TxContext {
  /** Begin's xid; null for a non-transactional logical message. */
  xid: number | null;
  /** Begin's commit time (µs since the Unix epoch); null for a non-transactional message (processing time is used). */
  commitTimeUs: bigint | null;
  /** Begin's final LSN: the LSN of the transaction's commit record (ChangeEvent.commitLsn). */
  finalLsn: Lsn;
  lastCommitLsn: Lsn | null;
  /** From an Origin message in this transaction (replicated changes); null otherwise. */
  origin: { name: string; lsn: Lsn } | null;
}

export interface EventContext {
  tx: TxContext;
  /** WAL position of this change: the XLogData start of its pgoutput message. */
  lsn: Lsn;
  /** Processing time, ns since the Unix epoch (envelope ts_ms/us/ns). Defaults to the wall clock. */
  nowNs?: bigint;
}

type SourceOptions = Pick<NormalizeOptions, 'topicPrefix' | 'database' | 'debeziumVersion'>;

/** Wall clock in ns with µs resolution, like the JVM's Instant.now() on Linux. */
export function clockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

export function sourceInfo(options: SourceOptions, ctx: EventContext, schema: string, table: string, nowNs: bigint): SourceInfo {
  const { tx, lsn } = ctx;
  const same = txFields(tx, nowNs);
  return {
    version: options.debeziumVersion ?? DEBEZIUM_VERSION,
    connector: 'postgresql',
    name: options.topicPrefix,
    ts_ms: same.ms,
    snapshot: null,
    db: options.database,
    sequence: `${same.sequenceStart}"${lsn}"]`,
    ts_us: same.us,
    ts_ns: same.ns,
    schema,
    table,
    txId: same.txId,
    lsn,
    xmin: null,
    origin: tx.origin?.name ?? null,
    origin_lsn: tx.origin?.lsn ?? null,
  };
}

/** What every change of one transaction has in common in its source block, worked out once (BigInt arithmetic and printing). */
interface TxFields {
  tx: TxContext;
  xid: number | null;
  commitTimeUs: bigint | null;
  lastCommitLsn: Lsn | null;
  ms: bigint;
  us: bigint;
  ns: bigint;
  txId: bigint | null;
  /** `[` and the first element of source.sequence, with its comma. */
  sequenceStart: string;
}

let lastTx: TxFields | null = null;

function txFields(tx: TxContext, nowNs: bigint): TxFields {
  const cached = lastTx;
  // A transaction's context is one object; a message outside one has no commit time, and its time is its own.
  const reusable = cached !== null && cached.tx === tx && tx.commitTimeUs !== null;
  if (reusable && cached.xid === tx.xid && cached.commitTimeUs === tx.commitTimeUs && cached.lastCommitLsn === tx.lastCommitLsn) return cached;
  const us = tx.commitTimeUs ?? nowNs / 1000n;
  const fields: TxFields = {
    tx,
    xid: tx.xid,
    commitTimeUs: tx.commitTimeUs,
    lastCommitLsn: tx.lastCommitLsn,
    ms: us >= 0n ? us / 1000n : -((-us + 999n) / 1000n),
    us,
    ns: us * 1000n,
    txId: tx.xid === null ? null : BigInt(tx.xid),
    sequenceStart: `[${tx.lastCommitLsn === null ? 'null' : `"${tx.lastCommitLsn}"`},`,
  };
  lastTx = fields;
  return fields;
}

interface BuiltRow {
  row: Row;
  textSize: number;
}

function buildRow(model: TableModel, tuple: Tuple, old?: { tuple: Tuple; row: Row }): BuiltRow {
  const row: Row = {};
  let textSize = 0;
  for (const c of model.columns) {
    const text = tuple[c.index];
    if (text === null) {
      row[c.name] = c.nullValue;
      if (c.nullValue === DEBEZIUM_FAILS) throw strictFailure(c.name, c.typeName, NULL_TEXT);
    } else if (text === undefined) {
      // Unchanged TOAST: the old tuple (REPLICA IDENTITY FULL) has the value; else the placeholder.
      const value = old !== undefined && typeof old.tuple[c.index] === 'string' ? old.row[c.name] : c.toast;
      if (value === DEBEZIUM_FAILS) throw strictFailure(c.name, c.typeName, UNCHANGED_TOAST_TEXT);
      row[c.name] = value;
    } else {
      textSize += text.length;
      try {
        row[c.name] = c.convert(text);
      } catch (err) {
        throw err instanceof ConversionError ? err : new ConversionError(c.name, c.typeName, text, err);
      }
    }
  }
  return { row, textSize };
}

function keyOf(model: TableModel, row: Row): Row | null {
  if (model.schemas.key === null) return null;
  const key: Row = {};
  for (const i of model.keyColumns) key[model.columns[i].name] = row[model.columns[i].name];
  return key;
}

function makeEvent(
  model: TableModel, options: SourceOptions, ctx: EventContext, op: Op,
  key: Row | null, before: Row | null, after: Row | null, textSize: number,
): ChangeEvent {
  const nowNs = ctx.nowNs ?? clockNs();
  const { schema, table } = model.relation;
  return {
    op, schema, table, key, before, after,
    source: sourceInfo(options, ctx, schema, table, nowNs),
    tsUs: nowNs / 1000n,
    tsNs: nowNs,
    schemas: model.schemas,
    lsn: ctx.lsn,
    commitLsn: ctx.tx.xid === null ? 0n : ctx.tx.finalLsn,
    size: estimateSize(model.schemas, textSize, model.columns.length),
  };
}

/** Approximate bytes held by an event: the column text plus a per-field and per-event overhead. No serialization. */
function estimateSize(schemas: TableSchemas, textSize: number, fields: number): number {
  return 512 + schemas.topicStem.length + fields * 24 + textSize * 2;
}

export function normalizeInsert(model: TableModel, newTuple: Tuple, options: SourceOptions, ctx: EventContext): ChangeEvent {
  const { row, textSize } = buildRow(model, newTuple);
  return makeEvent(model, options, ctx, 'c', keyOf(model, row), null, row, textSize);
}

export function normalizeUpdate(
  model: TableModel, message: { oldTuple?: Tuple; keyTuple?: Tuple; newTuple: Tuple }, options: SourceOptions, ctx: EventContext,
): ChangeEvent[] {
  const oldTuple = message.oldTuple ?? message.keyTuple;
  const old = oldTuple === undefined ? undefined : buildRow(model, oldTuple);
  const neu = buildRow(model, message.newTuple, old && oldTuple ? { tuple: oldTuple, row: old.row } : undefined);
  const newKey = keyOf(model, neu.row);
  if (old !== undefined && oldTuple !== undefined && keyChanged(model, oldTuple, message.newTuple)) {
    const oldKey = keyOf(model, old.row)!;
    const deleted = makeEvent(model, options, ctx, 'd', oldKey, old.row, null, old.textSize);
    deleted.keyChange = { key: newKey!, header: '__debezium.newkey' };
    const created = makeEvent(model, options, ctx, 'c', newKey, null, neu.row, neu.textSize);
    created.keyChange = { key: oldKey, header: '__debezium.oldkey' };
    return [deleted, created];
  }
  return [makeEvent(model, options, ctx, 'u', newKey, old?.row ?? null, neu.row, neu.textSize + (old?.textSize ?? 0))];
}

/**
 * Key columns compared by their text (same type on both sides, so the same
 * text means the same value). When the old tuple lacks a key column (INDEX
 * identity on other columns) we cannot tell and keep the update as an update;
 * Debezium would compare against a fallback key and split it.
 */
function keyChanged(model: TableModel, oldTuple: Tuple, newTuple: Tuple): boolean {
  for (const i of model.keyColumns) {
    const before = oldTuple[i];
    if (typeof before !== 'string') return false;
    const after = newTuple[i] === undefined ? before : newTuple[i];
    if (after !== before) return true;
  }
  return false;
}

export function normalizeDelete(
  model: TableModel, message: { oldTuple?: Tuple; keyTuple?: Tuple }, options: SourceOptions, ctx: EventContext,
): ChangeEvent {
  const oldTuple = message.oldTuple ?? message.keyTuple;
  if (oldTuple === undefined) throw new Error(`delete on ${model.relation.schema}.${model.relation.table} without old tuple`);
  const { row, textSize } = buildRow(model, oldTuple);
  return makeEvent(model, options, ctx, 'd', keyOf(model, row), row, null, textSize);
}

/** One `t` event per table, key null, before/after null. The runtime decides whether to emit them (Debezium skips truncates by default). */
export function normalizeTruncate(models: readonly TableModel[], options: SourceOptions, ctx: EventContext): ChangeEvent[] {
  return models.map((model) => makeEvent(model, options, ctx, 't', null, null, null, 0));
}

/** Debezium's `source.snapshot` values for snapshot reads. */
export type SnapshotMarker = 'first' | 'first_in_data_collection' | 'true' | 'last_in_data_collection' | 'last' | 'incremental';

/**
 * A snapshot read (`op: r`, after only). `ctx.lsn` is the position the read
 * stands for (`source.lsn`, and the event's `commitLsn`): the slot's consistent
 * point, or a re-snapshot's closing watermark. Every transaction the read could
 * not see commits after it, and every one it saw commits before it, which is
 * what commit-ordered sinks compare (Redis fences are commit LSN first).
 * `versionLsn` becomes the event's `lsn`, which change-ordered sinks compare
 * (Elasticsearch external versions are change LSNs): it must be lower than any
 * change of a transaction the read could not see — the slot's restart LSN —
 * so a streamed change always wins over the read copy.
 */
export function normalizeRead(
  model: TableModel, tuple: Tuple, options: SourceOptions, ctx: EventContext, marker: SnapshotMarker, versionLsn: Lsn,
): ChangeEvent {
  const { row, textSize } = buildRow(model, tuple);
  const event = makeEvent(model, options, ctx, 'r', keyOf(model, row), null, row, textSize);
  event.source.snapshot = marker;
  event.lsn = versionLsn;
  event.commitLsn = ctx.lsn;
  return event;
}
