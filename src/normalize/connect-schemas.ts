/**
 * Kafka Connect schema nodes for Debezium's logical types and envelopes, in
 * Debezium's field order (Envelope, SchemaFactory, PostgresSourceInfoStructMaker,
 * PostgresSchemaFactory). Everything the JSON converter prints comes from here.
 */
import type { ConnectField, ConnectSchema } from '../types.ts';

type Type = ConnectSchema['type'];

export function schema(type: Type, optional: boolean, extra: Partial<ConnectSchema> = {}): ConnectSchema {
  return { type, optional, ...extra };
}

/** A struct member: the schema plus its field name. */
export function field(name: string, s: ConnectSchema): ConnectField {
  return { ...s, field: name };
}

export function struct(name: string | undefined, optional: boolean, fields: ConnectField[], extra: Partial<ConnectSchema> = {}): ConnectSchema {
  return { type: 'struct', optional, ...(name === undefined ? {} : { name }), ...extra, fields };
}

/** The same node with another `optional` flag. */
export function withOptional(s: ConnectSchema, optional: boolean): ConnectSchema {
  return s.optional === optional ? s : { ...s, optional };
}

// ─── logical types (name + version 1 unless noted) ──────────────────────────

const named = (type: Type, name: string, extra: Partial<ConnectSchema> = {}): ConnectSchema =>
  ({ type, optional: false, name, version: 1, ...extra });

export const logical = {
  json: () => named('string', 'io.debezium.data.Json'),
  xml: () => named('string', 'io.debezium.data.Xml'),
  uuid: () => named('string', 'io.debezium.data.Uuid'),
  ltree: () => named('string', 'io.debezium.data.Ltree'),
  tsvector: () => named('string', 'io.debezium.data.Tsvector'),
  enumeration: (allowed: readonly string[]) => named('string', 'io.debezium.data.Enum', { parameters: { allowed: allowed.join(',') } }),
  bits: (length: number) => named('bytes', 'io.debezium.data.Bits', { parameters: { length: String(length) } }),
  /** Connect Decimal; Debezium adds the precision parameter for numeric(p,s) but not for money. */
  decimal: (scale: number, precision?: number) => named('bytes', 'org.apache.kafka.connect.data.Decimal', {
    parameters: precision === undefined ? { scale: String(scale) } : { scale: String(scale), 'connect.decimal.precision': String(precision) },
  }),
  variableScaleDecimal: () => struct('io.debezium.data.VariableScaleDecimal', false, [
    field('scale', schema('int32', false)),
    field('value', schema('bytes', false)),
  ], { version: 1, doc: 'Variable scaled decimal' }),
  date: () => named('int32', 'io.debezium.time.Date'),
  time: () => named('int32', 'io.debezium.time.Time'),
  microTime: () => named('int64', 'io.debezium.time.MicroTime'),
  timestamp: () => named('int64', 'io.debezium.time.Timestamp'),
  microTimestamp: () => named('int64', 'io.debezium.time.MicroTimestamp'),
  zonedTimestamp: () => named('string', 'io.debezium.time.ZonedTimestamp'),
  zonedTime: () => named('string', 'io.debezium.time.ZonedTime'),
  microDuration: () => named('int64', 'io.debezium.time.MicroDuration'),
  interval: () => named('string', 'io.debezium.time.Interval'),
  connectDate: () => named('int32', 'org.apache.kafka.connect.data.Date'),
  connectTime: () => named('int32', 'org.apache.kafka.connect.data.Time'),
  connectTimestamp: () => named('int64', 'org.apache.kafka.connect.data.Timestamp'),
  point: () => struct('io.debezium.data.geometry.Point', false, [
    field('x', schema('float64', false)),
    field('y', schema('float64', false)),
    field('wkb', schema('bytes', true)),
    field('srid', schema('int32', true)),
  ], { version: 1, doc: 'Geometry (POINT)' }),
  // Debezium's Geometry builder is optional from the start (so the field always is); Geography's is not.
  geometry: (name: 'Geometry' | 'Geography') => struct(`io.debezium.data.geometry.${name}`, name === 'Geometry', [
    field('wkb', schema('bytes', false)),
    field('srid', schema('int32', true)),
  ], { version: 1, doc: name }),
  doubleVector: () => named('array', 'io.debezium.data.DoubleVector', { items: schema('float64', false) }),
  floatVector: () => named('array', 'io.debezium.data.FloatVector', { items: schema('float32', false) }),
  sparseVector: () => struct('io.debezium.data.SparseDoubleVector', false, [
    field('dimensions', schema('int16', false)),
    field('vector', { type: 'map', optional: false, keys: schema('int16', false), values: schema('float64', false) }),
  ], { version: 1, doc: 'Sparse double vector' }),
};

export function arrayOf(items: ConnectSchema): ConnectSchema {
  return { type: 'array', optional: false, items };
}

// ─── envelope parts ─────────────────────────────────────────────────────────

export const SNAPSHOT_ALLOWED = 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental';

/** `io.debezium.connector.postgresql.Source`, version 1. */
export const SOURCE_SCHEMA: ConnectSchema = struct('io.debezium.connector.postgresql.Source', false, [
  field('version', schema('string', false)),
  field('connector', schema('string', false)),
  field('name', schema('string', false)),
  field('ts_ms', schema('int64', false)),
  field('snapshot', {
    type: 'string', optional: true, name: 'io.debezium.data.Enum', version: 1,
    parameters: { allowed: SNAPSHOT_ALLOWED }, default: 'false',
  }),
  field('db', schema('string', false)),
  field('sequence', schema('string', true)),
  field('ts_us', schema('int64', true)),
  field('ts_ns', schema('int64', true)),
  field('schema', schema('string', false)),
  field('table', schema('string', false)),
  field('txId', schema('int64', true)),
  field('lsn', schema('int64', true)),
  field('xmin', schema('int64', true)),
  field('origin', schema('string', true)),
  field('origin_lsn', schema('int64', true)),
], { version: 1 });

/** `event.block`: always in the envelope schema, null unless transaction metadata is on (it never is here). */
export const TRANSACTION_SCHEMA: ConnectSchema = struct('event.block', true, [
  field('id', schema('string', false)),
  field('total_order', schema('int64', false)),
  field('data_collection_order', schema('int64', false)),
], { version: 1 });

/** `<stem>.Envelope` version 2: before, after, source, transaction, op, ts_ms, ts_us, ts_ns. */
export function envelopeSchema(stem: string, value: ConnectSchema): ConnectSchema {
  return struct(`${stem}.Envelope`, false, [
    field('before', value),
    field('after', value),
    field('source', SOURCE_SCHEMA),
    field('transaction', TRANSACTION_SCHEMA),
    field('op', schema('string', false)),
    field('ts_ms', schema('int64', true)),
    field('ts_us', schema('int64', true)),
    field('ts_ns', schema('int64', true)),
  ], { version: 2 });
}

/** Key and value schemas of logical decoding messages (topic `<prefix>.message`). */
export function messageSchemas(binaryMode: 'bytes' | 'base64' | 'base64-url-safe' | 'hex'): { key: ConnectSchema; value: ConnectSchema } {
  const key = struct('io.debezium.connector.postgresql.MessageKey', false, [field('prefix', schema('string', true))], { version: 1 });
  const block = struct('io.debezium.connector.postgresql.Message', false, [
    field('prefix', schema('string', true)),
    field('content', schema(binaryMode === 'bytes' ? 'bytes' : 'string', true)),
  ], { version: 1 });
  const value = struct('io.debezium.connector.postgresql.MessageValue', false, [
    field('op', schema('string', false)),
    field('ts_ms', schema('int64', true)),
    field('source', SOURCE_SCHEMA),
    field('transaction', TRANSACTION_SCHEMA),
    field('message', block),
  ], { version: 1 });
  return { key, value };
}
