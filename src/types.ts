/**
 * The shared vocabulary of slotline's stages. Each stage owns its own details;
 * only what crosses a stage boundary lives here.
 *
 *   pgoutput bytes ──decoder──▶ PgoutputMessage ──normalizer──▶ ChangeEvent ──router──▶ Sink
 */
import type { Lsn } from './lsn.ts';

// ─── Decoder output (src/source/pgoutput-decoder.ts) ──────────────────────────

/**
 * A tuple column as pgoutput sends it in text mode:
 * - `string`: the value in the type's text output format,
 * - `null`: SQL NULL,
 * - `undefined`: unchanged TOASTed value ('u'): the server did not send it.
 */
export type TupleValue = string | null | undefined;
export type Tuple = TupleValue[];

export interface RelationColumn {
  name: string;
  /** pgoutput flag 1: the column is part of the replica identity key. */
  isKey: boolean;
  typeOid: number;
  /** atttypmod; -1 when the type has none. */
  typeMod: number;
}

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface Relation {
  relationId: number;
  schema: string;
  table: string;
  replicaIdentity: ReplicaIdentity;
  columns: RelationColumn[];
}

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTimeUs: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTimeUs: bigint }
  | { tag: 'origin'; originLsn: Lsn; name: string }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; newTuple: Tuple }
  /** `oldTuple` with REPLICA IDENTITY FULL ('O'), `keyTuple` when the key changed ('K'). */
  | { tag: 'update'; relationId: number; oldTuple?: Tuple; keyTuple?: Tuple; newTuple: Tuple }
  | { tag: 'delete'; relationId: number; oldTuple?: Tuple; keyTuple?: Tuple }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relationIds: number[] }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer };

// Times: `commitTimeUs` is microseconds since the Unix epoch (the decoder converts
// from the Postgres epoch 2000-01-01).

// ─── Normalizer output (src/normalize/) ───────────────────────────────────────

export type Op = 'c' | 'u' | 'd' | 't' | 'm' | 'r';

/** Debezium's `source` block for Postgres, in Debezium's field order. */
export interface SourceInfo {
  version: string;
  connector: 'postgresql';
  name: string;
  ts_ms: bigint;
  snapshot: string | null;
  db: string;
  sequence: string | null;
  ts_us: bigint;
  ts_ns: bigint;
  schema: string;
  table: string;
  txId: bigint | null;
  lsn: bigint | null;
  xmin: bigint | null;
  origin: string | null;
  origin_lsn: bigint | null;
}

/**
 * A Kafka Connect schema node, as JsonConverter prints it. The normalizer builds
 * these once per Relation; events point at them.
 */
export interface ConnectSchema {
  type: 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';
  optional: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  default?: unknown;
  fields?: ConnectField[];
  items?: ConnectSchema;
  keys?: ConnectSchema;
  values?: ConnectSchema;
}
export interface ConnectField extends ConnectSchema {
  field: string;
}

/**
 * Values inside `key`, `before`, `after` use these JS types:
 * int8/16/32 and float32/64 → number (NaN/±Infinity allowed for floats),
 * int64 → bigint, boolean → boolean, string → string, bytes → Buffer,
 * array → unknown[], map → Map<string | number, unknown> (in the iteration order
 * Debezium's java.util.HashMap has, which the JSON keeps), struct → Record<string, unknown>.
 * A Connect `Decimal` (decimal.handling.mode=precise) is a Buffer holding the
 * unscaled value's big-endian two's complement bytes; the scale is the schema's
 * `scale` parameter (src/normalize/numeric.ts `decodeDecimal` reads it back).
 * The JSON writer (src/normalize/json-converter.ts) prints them exactly as
 * Kafka Connect's JsonConverter would.
 */
export type Row = Record<string, unknown>;

/** Schemas for one table at one Relation version; built once, shared by its events. */
export interface TableSchemas {
  /** `<prefix>.<schema>.<table>` — the default topic, and the schema name stem. */
  topicStem: string;
  /** null when the table has no key columns (Debezium: null key). */
  key: ConnectSchema | null;
  value: ConnectSchema;
  /** The `.Envelope` schema node; JSON form cached by the converter. */
  envelope: ConnectSchema;
  /**
   * Per column: pg_type.typname and the declared length (varchar(n), char(n);
   * -1 without one). For transforms that act by type, as Debezium's column
   * mappers do (column.mask.*, column.truncate.*). Absent on message schemas.
   */
  columns?: ReadonlyMap<string, ColumnFacts>;
}

export interface ColumnFacts {
  typeName: string;
  length: number;
}

export interface ChangeEvent {
  op: Op;
  /** Postgres schema and table; '' for logical decoding messages. */
  schema: string;
  table: string;
  /** The key struct value, or null (no key columns, truncate). Messages have Debezium's MessageKey `{prefix}`. */
  key: Row | null;
  before: Row | null;
  after: Row | null;
  source: SourceInfo;
  /** Only for op 'm'. content follows binary_handling_mode. */
  message?: { prefix: string; content: unknown };
  /** Processing time (when the normalizer made the event), µs since epoch. */
  tsUs: bigint;
  /** The same instant in ns, when known finer than tsUs×1000 (envelope ts_ns). */
  tsNs?: bigint;
  /**
   * Primary-key change (an UPDATE that changed the key becomes `d` + `c`): on
   * the `d`, the new key (Debezium header `__debezium.newkey`); on the `c`, the
   * old key (`__debezium.oldkey`), named in `header` (a transform may make
   * the `d` an update, as unwrap's rewrite does). Same key schema as `schemas.key`.
   */
  keyChange?: { key: Row; header: '__debezium.newkey' | '__debezium.oldkey' };
  /** Schemas for key/value; for 'm' events the message schemas. */
  schemas: TableSchemas;
  /** WAL position of this change. */
  lsn: Lsn;
  /**
   * LSN of the transaction's commit record (Begin's final LSN): one per
   * transaction, increasing in commit order. 0n for non-transactional messages.
   */
  commitLsn: Lsn;
  /** Approximate size in bytes, for the in-flight ceiling. */
  size: number;
  /**
   * The topic (Kafka, console) or index (Elasticsearch) a `route` transform
   * chose from the row; replaces the sink's template.
   */
  destination?: string;
  /**
   * Set by a sink's transforms (src/route/transforms/) when the record is no
   * longer the envelope (unwrap, outbox). Record-writing sinks (Kafka,
   * console) write this instead; row sinks keep using op/before/after.
   */
  record?: TransformedRecord;
}

/** A Connect value with its schema, as JsonConverter writes it. */
export interface SchemaValue {
  schema: ConnectSchema;
  value: unknown;
}

/** What a transform made of an event's record (key, value, topic, headers). */
export interface TransformedRecord {
  /** Replaces the sink's topic template; undefined keeps it. */
  topic?: string;
  /** Replaces the key; undefined keeps the event's key, null is a null key. */
  key?: SchemaValue | null;
  /** The value; null is a tombstone (no value bytes). */
  value: SchemaValue | null;
  /** Extra headers, in order (null value: a header without a value). */
  headers: ReadonlyArray<readonly [string, string | null]>;
  /** Follow the record with a tombstone (replaces the sink's tombstones_on_delete). */
  tombstone: boolean;
  /** The tombstone's extra headers, when not `headers`. */
  tombstoneHeaders?: ReadonlyArray<readonly [string, string | null]>;
  /** Kafka record timestamp (ms since the epoch); undefined: the producer's clock. */
  timestamp?: bigint;
  /** Kafka partition; undefined: by key (murmur2). */
  partition?: number;
}
