/**
 * Rows → Elasticsearch JSON documents, by each field's Connect schema (the
 * event's `schemas.value`), the way Elasticsearch users expect:
 * - integers as numbers; int64 beyond ±2^53 as strings (JSON numbers would lose digits);
 * - floats as numbers, NaN and ±Infinity as null (JSON has no such numbers);
 * - Connect decimals (decimal_handling_mode precise) as their exact decimal text;
 *   `double` and `string` modes arrive as number and text already;
 * - Debezium dates as `YYYY-MM-DD`, timestamps as ISO-8601 UTC with their full
 *   precision, times as `HH:MM:SS[.ffffff]`, zoned types as Debezium's ISO text;
 * - json/jsonb as objects, arrays as arrays, maps and structs as objects,
 *   bytes as base64.
 * Unchanged TOAST values (the `unavailable_value_placeholder`) are found by
 * `unavailableColumns`; the sink fills them from the stored document.
 */
import { decodeDecimal } from '../../src/normalize/numeric.ts';
import { placeholderBytes, placeholderText } from '../../src/normalize/binary.ts';
import { javaNameUuidFromBytes } from '../../src/normalize/java-compat.ts';
import type { ChangeEvent, ConnectSchema, Row } from '../../src/types.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function toJsonValue(value: unknown, schema: ConnectSchema | undefined): Json {
  if (value === null || value === undefined) return null;
  switch (schema?.name) {
    case 'org.apache.kafka.connect.data.Decimal':
      return Buffer.isBuffer(value) ? decodeDecimal(value, Number(schema.parameters?.scale ?? 0)) : plain(value);
    case 'io.debezium.data.VariableScaleDecimal': {
      const v = value as { scale?: number; value?: unknown };
      return Buffer.isBuffer(v.value) ? decodeDecimal(v.value, Number(v.scale ?? 0)) : null;
    }
    case 'io.debezium.data.Json':
      if (typeof value !== 'string') return plain(value);
      try {
        return JSON.parse(value) as Json;
      } catch {
        return value;
      }
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return isoDate(Number(value));
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return isoTimestamp(BigInt(value as number | bigint) * 1000n);
    case 'io.debezium.time.MicroTimestamp':
      return isoTimestamp(BigInt(value as number | bigint));
    case 'io.debezium.time.NanoTimestamp':
      return isoTimestamp(BigInt(value as number | bigint) / 1000n);
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return timeOfDay(BigInt(value as number | bigint) * 1000n, 3);
    case 'io.debezium.time.MicroTime':
      return timeOfDay(BigInt(value as number | bigint), 6);
    default:
      break;
  }
  if (schema?.type === 'array' && Array.isArray(value)) return value.map((v) => toJsonValue(v, schema.items));
  if (schema?.type === 'struct' && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, Json> = {};
    for (const f of schema.fields ?? []) out[f.field] = toJsonValue((value as Row)[f.field], f);
    return out;
  }
  if (value instanceof Map) {
    const out: Record<string, Json> = {};
    for (const [k, v] of value) out[String(k)] = toJsonValue(v, schema?.values);
    return out;
  }
  return plain(value);
}

/** A value without a schema hint. */
function plain(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map((v) => plain(v));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value as Json;
}

const DAY_MS = 86_400_000;

function isoDate(days: number): string {
  return new Date(days * DAY_MS).toISOString().replace(/T.*$/, '');
}

/** µs since the epoch → ISO-8601 UTC, keeping microseconds when there are any. */
export function isoTimestamp(us: bigint): string {
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
  const micros = Number(us - ms * 1000n);
  const base = new Date(Number(ms)).toISOString();
  return micros === 0 ? base : base.replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

function timeOfDay(us: bigint, digits: 3 | 6): string {
  const total = Number(us);
  const seconds = Math.floor(total / 1e6);
  const fraction = total - seconds * 1e6;
  const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  if (fraction === 0) return `${hh}:${mm}:${ss}`;
  return `${hh}:${mm}:${ss}.${String(fraction).padStart(6, '0').slice(0, digits)}`;
}

export interface DocumentOptions {
  include?: readonly string[];
  exclude?: readonly string[];
  metadata?: { prefix: string } | null;
}

/** The document of a row (`after`), with column selection and optional metadata fields. */
export function rowDocument(event: ChangeEvent, row: Row, options: DocumentOptions): Record<string, Json> {
  const doc: Record<string, Json> = {};
  const include = options.include ? new Set(options.include) : null;
  const exclude = new Set(options.exclude ?? []);
  const fields = event.schemas.value.fields ?? [];
  const byName = new Map(fields.map((f) => [f.field, f]));
  for (const [name, value] of Object.entries(row)) {
    if ((include && !include.has(name)) || exclude.has(name)) continue;
    doc[name] = toJsonValue(value, byName.get(name));
  }
  if (options.metadata) Object.assign(doc, metadataFields(event, options.metadata.prefix));
  return doc;
}

export function metadataFields(event: ChangeEvent, prefix: string): Record<string, Json> {
  return {
    [`${prefix}_op`]: event.op,
    [`${prefix}_lsn`]: Number(event.lsn),
    [`${prefix}_source_ts_ms`]: Number(event.source.ts_ms),
    [`${prefix}_txid`]: event.source.txId === null ? null : Number(event.source.txId),
  };
}

/**
 * Columns of an update whose value is the unchanged-TOAST placeholder (Debezium's
 * UnchangedToastedPlaceholder shapes, made by src/normalize/type-mapping.ts: the
 * text, its bytes, a one-element array of either, a uuid[]'s one UUID made from
 * the placeholder's bytes, the bytes as numbers, an hstore of placeholder →
 * placeholder). A real value equal to the placeholder would be taken for one,
 * as with Debezium.
 */
export function unavailableColumns(row: Row, configured: string): string[] {
  const bytes = placeholderBytes(configured);
  const placeholder = placeholderText(configured);
  const uuid = javaNameUuidFromBytes(bytes);
  const signed = [...bytes].map((b) => (b > 127 ? b - 256 : b));
  const hstoreJson = JSON.stringify({ [placeholder]: placeholder });
  const isPlaceholder = (v: unknown): boolean =>
    v === placeholder || v === hstoreJson || (Buffer.isBuffer(v) && v.equals(bytes)) || (v instanceof Map && v.size === 1 && v.get(placeholder) === placeholder);
  const out: string[] = [];
  for (const [name, value] of Object.entries(row)) {
    if (isPlaceholder(value)) out.push(name);
    else if (Array.isArray(value)) {
      if (value.length === 1 && (isPlaceholder(value[0]) || value[0] === uuid)) out.push(name);
      else if (value.length === signed.length && value.every((v, i) => Number(v) === signed[i])) out.push(name);
    }
  }
  return out;
}
