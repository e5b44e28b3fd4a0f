/**
 * The bytes Kafka Connect's JsonConverter writes for Debezium's records
 * (`schemas.enable` true or false): `{"schema":…,"payload":…}` with the schema
 * node keys in JsonConverter's order and its type names (float32 is "float",
 * float64 "double") (type, fields|items|keys+values, optional,
 * name, version, doc, parameters, default, then field), bytes and Decimals as
 * base64, int64 exact, floats as Java prints them with NaN/±Infinity as JSON
 * strings, and a null field replaced by its schema default
 * (`replace.null.with.default`, on by default — why `source.snapshot` reads "false").
 *
 * Hot path: writers are compiled once per schema object and cached, and write
 * UTF-8 straight into the caller's buffer (json-bytes.ts); the schema JSON is
 * built once per relation version and copied in. No JSON.stringify and no
 * string per event; text callers get the same bytes, decoded.
 */
import type { ChangeEvent, ConnectSchema, Row, SourceInfo, TableSchemas } from '../types.ts';
import { SOURCE_SCHEMA, TRANSACTION_SCHEMA } from './connect-schemas.ts';
import { javaDoubleToString, javaFloatToString } from './java-compat.ts';
import { bytesOf, JsonOut, scratchOut, utf8, writeAscii, writeBase64, writeInteger, writeRaw, writeString } from './json-bytes.ts';
import { fieldPrefixes, segmentedStructWriter } from './json-struct-segments.ts';
import { quoteJson } from './json-text.ts';

export interface JsonConverterOptions {
  /** JsonConverter `schemas.enable` (default true). */
  schemasEnable?: boolean;
  /** JsonConverter `replace.null.with.default` (Kafka ≥ 3.5; default true). */
  replaceNullWithDefault?: boolean;
}

/** Writes one value's JSON into `out` (json-bytes.ts): the Kafka sink's records are these bytes. */
type Writer = (value: unknown, out: JsonOut) => void;

const writerCaches = { replace: new WeakMap<ConnectSchema, Writer>(), keep: new WeakMap<ConnectSchema, Writer>() };
const schemaJsonCache = new WeakMap<ConnectSchema, string>();

/** The payload JSON of one value under `schema`. Exposed for tests and for sinks that embed values. */
export function writeValue(schema: ConnectSchema, value: unknown, replaceNullWithDefault = true): string {
  const write = writerFor(schema, replaceNullWithDefault);
  return asText((out) => write(value, out));
}

function writerFor(schema: ConnectSchema, replace: boolean): Writer {
  const cache = replace ? writerCaches.replace : writerCaches.keep;
  let w = cache.get(schema);
  if (w === undefined) {
    w = compile(schema, replace);
    cache.set(schema, w);
  }
  return w;
}

const NULL = utf8('null');
const TRUE = utf8('true');
const FALSE = utf8('false');
const COMMA = utf8(',');

// A null in a required field without a default is written as null; JsonConverter would throw a
// DataException there (Debezium only gets there after a failed conversion, e.g. numeric NaN in a
// NOT NULL column in precise mode), and a record we can still read beats a stopped stream.
function compile(schema: ConnectSchema, replace: boolean): Writer {
  const write = compileNonNull(schema, replace);
  const fallback = replace && schema.default !== undefined && schema.default !== null ? bytesOf((out) => write(schema.default, out)) : NULL;
  return (v, out) => (v === null || v === undefined ? writeRaw(out, fallback) : write(v, out));
}

function compileNonNull(schema: ConnectSchema, replace: boolean): Writer {
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return (v, out) => writeInteger(out, v as number | bigint);
    case 'float32':
      return (v, out) => writeAscii(out, floatJson(javaFloatToString(v as number)));
    case 'float64':
      return (v, out) => writeAscii(out, floatJson(javaDoubleToString(v as number)));
    case 'boolean':
      return (v, out) => writeRaw(out, v ? TRUE : FALSE);
    case 'string':
      return (v, out) => writeString(out, v as string);
    case 'bytes':
      return (v, out) => (typeof v === 'string' ? writeString(out, v) : writeBase64(out, v as Uint8Array));
    case 'array': {
      const item = writerFor(schema.items!, replace);
      const open = utf8('[');
      const close = utf8(']');
      return (v, out) => {
        const a = v as unknown[];
        writeRaw(out, open);
        for (let i = 0; i < a.length; i++) {
          if (i > 0) writeRaw(out, COMMA);
          item(a[i], out);
        }
        writeRaw(out, close);
      };
    }
    case 'map':
      return mapWriter(schema, replace);
    case 'struct':
      return structWriter(schema, replace);
  }
}

/** Jackson writes non-finite doubles as strings (JsonWriteFeature.WRITE_NAN_AS_STRINGS). */
function floatJson(s: string): string {
  return s === 'NaN' || s === 'Infinity' || s === '-Infinity' ? `"${s}"` : s;
}

function structWriter(schema: ConnectSchema, replace: boolean): Writer {
  const fields = schema.fields ?? [];
  const names = fields.map((f) => f.field);
  const prefixes = fieldPrefixes(fields);
  const empty = utf8('{}');
  const close = utf8('}');
  let writers: Writer[] | undefined;
  return (v, out) => {
    // Field writers are compiled lazily so that recursive schemas cannot loop at compile time.
    writers ??= fields.map((f) => writerFor(f, replace));
    const row = v as Row;
    if (names.length === 0) return writeRaw(out, empty);
    for (let i = 0; i < names.length; i++) {
      writeRaw(out, prefixes[i]);
      writers[i](row[names[i]], out);
    }
    writeRaw(out, close);
  };
}

/** String-keyed maps are JSON objects; other key types an array of [key, value] pairs (JsonConverter). */
function mapWriter(schema: ConnectSchema, replace: boolean): Writer {
  const key = writerFor(schema.keys!, replace);
  const value = writerFor(schema.values!, replace);
  const objectMode = schema.keys!.type === 'string';
  const [open, close] = objectMode ? [utf8('{'), utf8('}')] : [utf8('['), utf8(']')];
  const colon = utf8(':');
  const pairOpen = utf8('[');
  const pairClose = utf8(']');
  return (v, out) => {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
    writeRaw(out, open);
    for (let i = 0; i < entries.length; i++) {
      const [k, val] = entries[i];
      if (i > 0) writeRaw(out, COMMA);
      if (objectMode) {
        writeString(out, String(k));
        writeRaw(out, colon);
        value(val, out);
      } else {
        writeRaw(out, pairOpen);
        key(k, out);
        writeRaw(out, COMMA);
        value(val, out);
        writeRaw(out, pairClose);
      }
    }
    writeRaw(out, close);
  };
}

/** A spare JsonOut for text callers; a nested call (a default written while compiling) takes a fresh one. */
let spare: JsonOut | null = null;

function asText(write: (out: JsonOut) => void): string {
  const out = spare ?? scratchOut();
  spare = null;
  out.at = 0;
  out.start = 0;
  try {
    write(out);
    return out.buf.toString('utf8', 0, out.at);
  } finally {
    // A record far larger than usual leaves its buffer to the collector.
    if (out.buf.length <= 1 << 20) spare = out;
  }
}

// ─── schema nodes ───────────────────────────────────────────────────────────

/** JsonConverter.asJsonSchema(schema), cached per schema object. */
export function schemaJson(schema: ConnectSchema): string {
  let s = schemaJsonCache.get(schema);
  if (s === undefined) {
    s = buildSchemaJson(schema, undefined);
    schemaJsonCache.set(schema, s);
  }
  return s;
}

/** JsonConverter's names differ from Connect's for the two float types. */
const JSON_TYPE_NAME: Record<string, string> = { float32: 'float', float64: 'double' };

function buildSchemaJson(schema: ConnectSchema, fieldName: string | undefined): string {
  let out = `{"type":"${JSON_TYPE_NAME[schema.type] ?? schema.type}"`;
  if (schema.type === 'struct') out += `,"fields":[${(schema.fields ?? []).map((f) => buildSchemaJson(f, f.field)).join(',')}]`;
  else if (schema.type === 'array') out += `,"items":${buildSchemaJson(schema.items!, undefined)}`;
  else if (schema.type === 'map') out += `,"keys":${buildSchemaJson(schema.keys!, undefined)},"values":${buildSchemaJson(schema.values!, undefined)}`;
  out += `,"optional":${schema.optional}`;
  if (schema.name !== undefined) out += `,"name":${quoteJson(schema.name)}`;
  if (schema.version !== undefined) out += `,"version":${schema.version}`;
  if (schema.doc !== undefined) out += `,"doc":${quoteJson(schema.doc)}`;
  if (schema.parameters !== undefined) {
    out += `,"parameters":{${Object.entries(schema.parameters).map(([k, v]) => `${quoteJson(k)}:${quoteJson(v)}`).join(',')}}`;
  }
  if (schema.default !== undefined && schema.default !== null) out += `,"default":${writeValue(schema, schema.default)}`;
  if (fieldName !== undefined) out += `,"field":${quoteJson(fieldName)}`;
  return `${out}}`;
}

// ─── records ────────────────────────────────────────────────────────────────

/**
 * With schemas, a record is `{"schema":…,"payload":` (the same for every
 * record of a relation version, so serialized once, as bytes), the payload,
 * and `}`; without, the payload alone.
 */
const prefixCache = new WeakMap<ConnectSchema, Uint8Array>();
const CLOSE = utf8('}');

function schemaPrefix(schema: ConnectSchema): Uint8Array {
  let prefix = prefixCache.get(schema);
  if (prefix === undefined) {
    prefix = utf8(`{"schema":${schemaJson(schema)},"payload":`);
    prefixCache.set(schema, prefix);
  }
  return prefix;
}

function writeRecord<T>(out: JsonOut, schema: ConnectSchema, options: JsonConverterOptions, payload: (value: T, out: JsonOut) => void, value: T): void {
  if (options.schemasEnable === false) return payload(value, out);
  writeRaw(out, schemaPrefix(schema));
  payload(value, out);
  writeRaw(out, CLOSE);
}

/** Writes the Kafka record key into `out`; false, with nothing written, for a null key (no key columns, truncate). */
export function writeKeyRecord(event: ChangeEvent, options: JsonConverterOptions, out: JsonOut): boolean {
  const schema = event.schemas.key;
  if (schema === null || event.key === null) return false;
  writeRecord(out, schema, options, writerFor(schema, options.replaceNullWithDefault ?? true), event.key);
  return true;
}

/** Writes the Kafka record value (the envelope, or MessageValue for `op: m`) into `out`. Tombstones are the sink's business. */
export function writeValueRecord(event: ChangeEvent, options: JsonConverterOptions, out: JsonOut): void {
  const replace = options.replaceNullWithDefault ?? true;
  writeRecord(out, event.schemas.envelope, options, (event.op === 'm' ? messageWriter : envelopeWriter)(replace), event);
}

/** Writes any value under its schema (a transformed record's key or value) into `out`. */
export function writeSchemaValueRecord(part: { schema: ConnectSchema; value: unknown }, options: JsonConverterOptions, out: JsonOut): void {
  writeRecord(out, part.schema, options, writerFor(part.schema, options.replaceNullWithDefault ?? true), part.value);
}

/** The Kafka record key, or null for a null key (no key columns, truncate). */
export function serializeKey(event: ChangeEvent, options: JsonConverterOptions = {}): string | null {
  let written = false;
  const text = asText((out) => (written = writeKeyRecord(event, options, out)));
  return written ? text : null;
}

/** The Kafka record value (the envelope, or MessageValue for `op: m`). Tombstones are the sink's business. */
export function serializeValue(event: ChangeEvent, options: JsonConverterOptions = {}): string {
  return asText((out) => writeValueRecord(event, options, out));
}

function serializeSchemaValue(part: { schema: ConnectSchema; value: unknown }, options: JsonConverterOptions): string {
  return asText((out) => writeSchemaValueRecord(part, options, out));
}

/**
 * The records an event becomes, as text: the envelope (or a transform's
 * record) and the tombstone that follows it when there is one. For sinks that
 * print records; the Kafka sink writes the same as bytes.
 */
export function serializeRecords(event: ChangeEvent, options: JsonConverterOptions, tombstonesOnDelete: boolean): Array<{ key: string | null; value: string | null }> {
  const record = event.record;
  if (record === undefined) {
    const key = serializeKey(event, options);
    const out = [{ key, value: serializeValue(event, options) as string | null }];
    if (event.op === 'd' && tombstonesOnDelete) out.push({ key, value: null });
    return out;
  }
  const key = record.key === undefined ? serializeKey(event, options) : record.key && serializeSchemaValue(record.key, options);
  const out = [{ key, value: record.value && serializeSchemaValue(record.value, options) }];
  if (record.tombstone) out.push({ key, value: null });
  return out;
}

const ENVELOPE = {
  before: utf8('{"before":'),
  after: utf8(',"after":'),
  source: utf8(',"source":'),
  transaction: utf8(',"transaction":'),
  op: utf8(',"op":"'),
  tsMs: utf8('","ts_ms":'),
  tsUs: utf8(',"ts_us":'),
  tsNs: utf8(',"ts_ns":'),
};
const MESSAGE = {
  tsMs: utf8('{"op":"m","ts_ms":'),
  source: utf8(',"source":'),
  transaction: utf8(',"transaction":'),
  message: utf8(',"message":'),
};

type Payload = (event: ChangeEvent, out: JsonOut) => void;
type PayloadBuilder = (source: Writer, transaction: Writer, replace: boolean) => Payload;

/** `build`'s payload writer, made once per replace-null setting. */
function perReplace(build: PayloadBuilder): (replace: boolean) => Payload {
  const made: Array<Payload | undefined> = [undefined, undefined];
  return (replace) => (made[replace ? 1 : 0] ??= build(sourceWriter(replace), writerFor(TRANSACTION_SCHEMA, replace), replace));
}

/** The source block: within a transaction and table only `sequence` and `lsn` change, the bytes around them are reused. */
function sourceWriter(replace: boolean): Writer {
  const write = segmentedStructWriter(SOURCE_SCHEMA.fields!, (f) => writerFor(f, replace), new Set(['sequence', 'lsn']));
  return (v, out) => (v === null || v === undefined ? writeRaw(out, NULL) : write(v, out));
}

const envelopePayload: PayloadBuilder = (source, transaction, replace) => (event, out) => {
  const row = writerFor(event.schemas.value, replace);
  writeRaw(out, ENVELOPE.before);
  row(event.before, out);
  writeRaw(out, ENVELOPE.after);
  row(event.after, out);
  writeRaw(out, ENVELOPE.source);
  source(event.source, out);
  writeRaw(out, ENVELOPE.transaction);
  transaction(null, out);
  writeRaw(out, ENVELOPE.op);
  writeAscii(out, event.op);
  writeTimestamps(out, event.tsNs ?? event.tsUs * 1000n);
  writeRaw(out, CLOSE);
};

/** `","ts_ms":…,"ts_us":…,"ts_ns":…`: the three are prefixes of one decimal string (no BigInt division per event). */
function writeTimestamps(out: JsonOut, ns: bigint): void {
  const digits = String(ns);
  const exact = ns >= 1_000_000n;
  writeRaw(out, ENVELOPE.tsMs);
  writeAscii(out, exact ? digits.slice(0, -6) : String(ns / 1_000_000n));
  writeRaw(out, ENVELOPE.tsUs);
  writeAscii(out, exact ? digits.slice(0, -3) : String(ns / 1000n));
  writeRaw(out, ENVELOPE.tsNs);
  writeAscii(out, digits);
}

const messagePayload: PayloadBuilder = (source, transaction, replace) => (event, out) => {
  const block = event.schemas.envelope.fields!.find((f) => f.field === 'message')!;
  const ns = event.tsNs ?? event.tsUs * 1000n;
  writeRaw(out, MESSAGE.tsMs);
  writeAscii(out, String(ns / 1_000_000n));
  writeRaw(out, MESSAGE.source);
  source(event.source as SourceInfo, out);
  writeRaw(out, MESSAGE.transaction);
  transaction(null, out);
  writeRaw(out, MESSAGE.message);
  writerFor(block, replace)(event.message, out);
  writeRaw(out, CLOSE);
};

const envelopeWriter = perReplace(envelopePayload);
const messageWriter = perReplace(messagePayload);

/** Pre-builds the schema JSON of a table, so the first event does not pay for it. */
export function warmSchemas(schemas: TableSchemas): void {
  if (schemas.key !== null) schemaPrefix(schemas.key);
  schemaPrefix(schemas.envelope);
}
