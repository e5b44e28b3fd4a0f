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
 * Hot path: writers are compiled once per schema object and cached; schema JSON
 * is built once per TableSchemas (per relation version), as text and as bytes,
 * and payloads are spliced into it. No JSON.stringify per event.
 */
import type { ChangeEvent, ConnectSchema, Row, SourceInfo, TableSchemas } from '../types.ts';
import { SOURCE_SCHEMA, TRANSACTION_SCHEMA } from './connect-schemas.ts';
import { javaDoubleToString, javaFloatToString } from './java-compat.ts';
import { quoteJson } from './json-text.ts';

export interface JsonConverterOptions {
  /** JsonConverter `schemas.enable` (default true). */
  schemasEnable?: boolean;
  /** JsonConverter `replace.null.with.default` (Kafka ≥ 3.5; default true). */
  replaceNullWithDefault?: boolean;
}

type Writer = (value: unknown) => string;

const writerCaches = { replace: new WeakMap<ConnectSchema, Writer>(), keep: new WeakMap<ConnectSchema, Writer>() };
const schemaJsonCache = new WeakMap<ConnectSchema, string>();

/** The payload JSON of one value under `schema`. Exposed for tests and for sinks that embed values. */
export function writeValue(schema: ConnectSchema, value: unknown, replaceNullWithDefault = true): string {
  return writerFor(schema, replaceNullWithDefault)(value);
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

// A null in a required field without a default is written as null; JsonConverter would throw a
// DataException there (Debezium only gets there after a failed conversion, e.g. numeric NaN in a
// NOT NULL column in precise mode), and a record we can still read beats a stopped stream.
function compile(schema: ConnectSchema, replace: boolean): Writer {
  const write = compileNonNull(schema, replace);
  const fallback = replace && schema.default !== undefined && schema.default !== null ? write(schema.default) : 'null';
  return (v) => (v === null || v === undefined ? fallback : write(v));
}

function compileNonNull(schema: ConnectSchema, replace: boolean): Writer {
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return (v) => String(v);
    case 'float32':
      return (v) => floatJson(javaFloatToString(v as number));
    case 'float64':
      return (v) => floatJson(javaDoubleToString(v as number));
    case 'boolean':
      return (v) => (v ? 'true' : 'false');
    case 'string':
      return (v) => quoteJson(v as string);
    case 'bytes':
      return (v) => (typeof v === 'string' ? quoteJson(v) : `"${Buffer.from(v as Uint8Array).toString('base64')}"`);
    case 'array': {
      const item = writerFor(schema.items!, replace);
      return (v) => {
        const a = v as unknown[];
        let out = '[';
        for (let i = 0; i < a.length; i++) out += (i === 0 ? '' : ',') + item(a[i]);
        return `${out}]`;
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
  const prefixes = fields.map((f, i) => `${i === 0 ? '{' : ','}${quoteJson(f.field)}:`);
  let writers: Writer[] | undefined;
  return (v) => {
    // Field writers are compiled lazily so that recursive schemas cannot loop at compile time.
    writers ??= fields.map((f) => writerFor(f, replace));
    const row = v as Row;
    if (names.length === 0) return '{}';
    let out = '';
    for (let i = 0; i < names.length; i++) out += prefixes[i] + writers[i](row[names[i]]);
    return `${out}}`;
  };
}

/** String-keyed maps are JSON objects; other key types an array of [key, value] pairs (JsonConverter). */
function mapWriter(schema: ConnectSchema, replace: boolean): Writer {
  const key = writerFor(schema.keys!, replace);
  const value = writerFor(schema.values!, replace);
  const objectMode = schema.keys!.type === 'string';
  return (v) => {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
    let out = objectMode ? '{' : '[';
    for (let i = 0; i < entries.length; i++) {
      const [k, val] = entries[i];
      out += i === 0 ? '' : ',';
      out += objectMode ? `${quoteJson(String(k))}:${value(val)}` : `[${key(k)},${value(val)}]`;
    }
    return out + (objectMode ? '}' : ']');
  };
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
 * A record's JSON in two parts: with schemas, `prefix` is `{"schema":…,"payload":`
 * (the same object for every record of a relation version, so it is serialized
 * once) and the record is prefix + payload + `}`; without, prefix is null and
 * the record is the payload alone. Sinks that write bytes splice the parts
 * into their buffers; the others join them (serializeKey, serializeValue).
 */
export interface RecordJson {
  prefix: SchemaPrefix | null;
  payload: string;
}

/** `{"schema":<schema JSON>,"payload":` as text and as UTF-8 bytes, built once per schema object. */
export interface SchemaPrefix {
  text: string;
  bytes: Buffer;
}

const prefixCache = new WeakMap<ConnectSchema, SchemaPrefix>();

function schemaPrefix(schema: ConnectSchema): SchemaPrefix {
  let prefix = prefixCache.get(schema);
  if (prefix === undefined) {
    const text = `{"schema":${schemaJson(schema)},"payload":`;
    prefix = { text, bytes: Buffer.from(text) };
    prefixCache.set(schema, prefix);
  }
  return prefix;
}

/** The parts of the Kafka record key, or null for a null key (no key columns, truncate). */
export function keyJson(event: ChangeEvent, options: JsonConverterOptions = {}): RecordJson | null {
  const schema = event.schemas.key;
  if (schema === null || event.key === null) return null;
  const payload = writerFor(schema, options.replaceNullWithDefault ?? true)(event.key);
  return { prefix: options.schemasEnable === false ? null : schemaPrefix(schema), payload };
}

/** The parts of the Kafka record value (the envelope, or MessageValue for `op: m`). Tombstones are the sink's business. */
export function valueJson(event: ChangeEvent, options: JsonConverterOptions = {}): RecordJson {
  const replace = options.replaceNullWithDefault ?? true;
  const payload = event.op === 'm' ? messagePayload(event, replace) : envelopePayload(event, replace);
  return { prefix: options.schemasEnable === false ? null : schemaPrefix(event.schemas.envelope), payload };
}

/** The parts of any value under its schema (a transformed record's key or value). */
export function schemaValueJson(part: { schema: ConnectSchema; value: unknown }, options: JsonConverterOptions = {}): RecordJson {
  const payload = writerFor(part.schema, options.replaceNullWithDefault ?? true)(part.value);
  return { prefix: options.schemasEnable === false ? null : schemaPrefix(part.schema), payload };
}

/** A record's JSON as one string. */
export function joinJson(json: RecordJson): string {
  return json.prefix === null ? json.payload : `${json.prefix.text}${json.payload}}`;
}

/** The Kafka record key, or null for a null key (no key columns, truncate). */
export function serializeKey(event: ChangeEvent, options: JsonConverterOptions = {}): string | null {
  const json = keyJson(event, options);
  return json === null ? null : joinJson(json);
}

/** The Kafka record value (the envelope, or MessageValue for `op: m`). Tombstones are the sink's business. */
export function serializeValue(event: ChangeEvent, options: JsonConverterOptions = {}): string {
  return joinJson(valueJson(event, options));
}

/**
 * The records an event becomes, as text: the envelope (or a transform's
 * record) and the tombstone that follows it when there is one. For sinks that
 * print records; the Kafka sink builds the same from bytes.
 */
export function serializeRecords(event: ChangeEvent, options: JsonConverterOptions, tombstonesOnDelete: boolean): Array<{ key: string | null; value: string | null }> {
  const record = event.record;
  if (record === undefined) {
    const key = serializeKey(event, options);
    const out = [{ key, value: serializeValue(event, options) as string | null }];
    if (event.op === 'd' && tombstonesOnDelete) out.push({ key, value: null });
    return out;
  }
  const key = record.key === undefined ? serializeKey(event, options) : record.key && joinJson(schemaValueJson(record.key, options));
  const out = [{ key, value: record.value && joinJson(schemaValueJson(record.value, options)) }];
  if (record.tombstone) out.push({ key, value: null });
  return out;
}

function envelopePayload(event: ChangeEvent, replace: boolean): string {
  const row = writerFor(event.schemas.value, replace);
  const source = writerFor(SOURCE_SCHEMA, replace) as (s: SourceInfo) => string;
  const ns = event.tsNs ?? event.tsUs * 1000n;
  return `{"before":${row(event.before)},"after":${row(event.after)},"source":${source(event.source)},`
    + `"transaction":${transaction(replace)},"op":"${event.op}","ts_ms":${ns / 1_000_000n},"ts_us":${ns / 1000n},"ts_ns":${ns}}`;
}

function messagePayload(event: ChangeEvent, replace: boolean): string {
  const source = writerFor(SOURCE_SCHEMA, replace) as (s: SourceInfo) => string;
  const block = event.schemas.envelope.fields!.find((f) => f.field === 'message')!;
  const ns = event.tsNs ?? event.tsUs * 1000n;
  return `{"op":"m","ts_ms":${ns / 1_000_000n},"source":${source(event.source)},"transaction":${transaction(replace)},`
    + `"message":${writerFor(block, replace)(event.message)}}`;
}

function transaction(replace: boolean): string {
  return writerFor(TRANSACTION_SCHEMA, replace)(null);
}

/** Pre-builds the schema JSON of a table, so the first event does not pay for it. */
export function warmSchemas(schemas: TableSchemas): void {
  if (schemas.key !== null) schemaPrefix(schemas.key);
  schemaPrefix(schemas.envelope);
}
