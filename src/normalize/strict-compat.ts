/**
 * `debezium_compat: strict`: Debezium 3.6.1's own losses, reproduced.
 *
 * By default slotline keeps what Debezium drops or loses (docs/type-mapping.md,
 * "Deviations"). In strict mode type-mapping.ts takes scalars (columns and
 * array elements) from strictScalarMapping() and passes every column's mapping
 * through strictColumnMapping(), so it comes out as Debezium 3.6.1's:
 * - undefined where Debezium has no schema for the type: the column is left
 *   out of the schema and the value (Debezium's include.unknown.datatypes=false);
 * - Debezium's schema where it differs (bit(n)[], int2vector, numeric(p,-s));
 * - Debezium's reading of temporal array elements through pgjdbc's java.sql
 *   types (pgjdbc-elements.ts) and of multi-dimensional arrays;
 * - a converter that returns DEBEZIUM_NULL where Debezium reads the value as
 *   SQL NULL (`name`), or DEBEZIUM_FAILS where its conversion fails (null in an
 *   optional column; in a required one Debezium's connector stops, and so does
 *   slotline: table-model.ts and change-events.ts throw strictFailure());
 * - Debezium's unchanged-TOAST value, which exists for a few declared types only.
 * bench/debezium-parity.ts checks every rule against a real Debezium 3.6.1.
 */
import type { ConnectSchema } from '../types.ts';
import { ConversionError } from './conversion-error.ts';
import { placeholderBytes, placeholderText } from './binary.ts';
import { arrayOf, logical, schema } from './connect-schemas.ts';
import { hstoreJson } from './hstore.ts';
import { javaNameUuidFromBytes } from './java-compat.ts';
import type { NormalizeOptions } from './options.ts';
import { outerLength } from './pg-array-parser.ts';
import {
  ARRAY_TIMESTAMPTZ_MINUS_INFINITY, arrayDateDays, arrayTimestampText, arrayTimestampTzText, arrayTimeText, arrayTimeTzText,
} from './pgjdbc-elements.ts';
import { bitLength, numericTypmod, type PgTypeInfo } from './pg-types.ts';
import { numericMapping, scalarMapping, type ScalarMapping } from './scalar-types.ts';
import type { ColumnMapping } from './type-mapping.ts';

/** A converted value that stands for SQL NULL: the column's NULL value (null, or its default / fallback when NOT NULL). */
export const DEBEZIUM_NULL: unique symbol = Symbol('read as SQL NULL by Debezium 3.6.1');
/** A value Debezium 3.6.1 fails to convert: null when the column is optional, else the event cannot be built. */
export const DEBEZIUM_FAILS: unique symbol = Symbol('not convertible by Debezium 3.6.1');

type Options = Omit<NormalizeOptions, 'topicPrefix' | 'database'>;

/** What stops the stream when a required column holds a value Debezium 3.6.1 cannot convert (Debezium stops too). */
export function strictFailure(column: string, typeName: string, text: string): ConversionError {
  return new ConversionError(column, typeName, text, undefined, {
    reason: 'Debezium 3.6.1 cannot convert it either, and with the column NOT NULL it stops (debezium_compat: strict does the same)',
    hint: 'set debezium_compat: lossless to send the value, or drop NOT NULL from the column (Debezium then sends null)',
  });
}

/**
 * Debezium's mapping of a scalar type (a root type), as a column or as an
 * array's element (`element`), or undefined where it has none.
 */
export function strictScalarMapping(type: PgTypeInfo, typmod: number, options: Options, element: boolean): ScalarMapping | undefined {
  const mapping = type.schema === 'pg_catalog' && type.name === 'numeric' ? negativeScale(type, typmod, options) : scalarMapping(type, typmod, options);
  if (mapping === undefined || type.schema !== 'pg_catalog') return mapping;
  if (type.name === 'name') {
    // Debezium's value resolver has no case for `name` and reads it as an unknown type: NULL.
    return { ...mapping, convert: () => DEBEZIUM_NULL };
  }
  if (!element) return mapping;
  // date[]: epoch days in every time.precision.mode.
  if (type.name === 'date') return { ...mapping, convert: arrayDateDays };
  if (type.name === 'timestamptz') {
    const convert = mapping.convert;
    return { ...mapping, convert: (text) => (text === '-infinity' ? ARRAY_TIMESTAMPTZ_MINUS_INFINITY : convert(arrayTimestampTzText(text))) };
  }
  const rewrite = ELEMENT_TEXT[type.name];
  if (rewrite !== undefined) {
    const convert = mapping.convert;
    return { ...mapping, convert: (text) => convert(rewrite(text)) };
  }
  if (type.name === 'numeric') {
    // pgjdbc's BigDecimal cannot hold NaN or ±Infinity: the whole array fails.
    const convert = mapping.convert;
    return { ...mapping, convert: (text) => (NUMERIC_SPECIALS.has(text) ? DEBEZIUM_FAILS : convert(text)) };
  }
  return mapping;
}

const NUMERIC_SPECIALS = new Set(['NaN', 'Infinity', '-Infinity']);

/** Array elements that go through pgjdbc's java.sql types: the text whose usual conversion gives Debezium's value. */
const ELEMENT_TEXT: Record<string, (text: string) => string> = {
  time: arrayTimeText,
  timetz: arrayTimeTzText,
  timestamp: arrayTimestampText,
};

/**
 * Debezium's mapping of a column slotline maps as `mapping` (from strict
 * scalars), or undefined when Debezium leaves the column out. `declared` is the
 * column's own type (a domain, say), `mapping.rootType` the type under it.
 */
export function strictColumnMapping(mapping: ColumnMapping, declared: PgTypeInfo, typmod: number, options: Options): ColumnMapping | undefined {
  const type = mapping.rootType;
  if (mapping.via === 'text') return vectorAsArray(mapping, type);
  const strict = type.kind === 'array' ? strictArray(mapping, typmod) : mapping;
  return { ...strict, toast: strictToast(declared, type, strict.schema, options) };
}

/**
 * int2vector and oidvector have typcategory A, so Debezium takes them for arrays
 * of int2 / oid (required elements); pgjdbc finds no braces in `1 2` and reads
 * every value as an empty array.
 */
function vectorAsArray(mapping: ColumnMapping, type: PgTypeInfo): ColumnMapping | undefined {
  if (type.schema !== 'pg_catalog' || (type.name !== 'int2vector' && type.name !== 'oidvector')) return undefined;
  const item = schema(type.name === 'int2vector' ? 'int16' : 'int64', false);
  // An empty vector prints as '', which pgjdbc reads as no array at all: NULL.
  const convert = (text: string): unknown => (text === '' ? DEBEZIUM_NULL : []);
  return { ...mapping, schema: arrayOf(item), convert, fallback: [], alwaysOptional: false, via: 'debezium' };
}

function strictArray(mapping: ColumnMapping, typmod: number): ColumnMapping {
  const element = mapping.rootType;
  if (isBitArray(mapping)) {
    // Debezium's schema for bit(n)[] is bit(n)'s, and every array value fails against it.
    const length = bitLength(typmod);
    return { ...mapping, schema: length > 1 ? logical.bits(length) : schema('boolean', false), convert: () => DEBEZIUM_FAILS, fallback: DEBEZIUM_FAILS };
  }
  const convert = mapping.convert;
  const ltree = element.name === '_ltree' && element.schema !== 'pg_catalog';
  return {
    ...mapping,
    convert: (text) => {
      // pgjdbc reads a sub-array into a Java array that no element converter takes: null (or, for
      // string elements, the array's identity hash `[Ljava.lang.String;@1b6d3586`, which carries nothing).
      if (isMultiDimensional(text)) return new Array<null>(outerLength(text)).fill(null);
      const value = convert(text) as unknown[];
      // An element Debezium cannot convert fails the array; so does a NULL in an ltree[], whose
      // converter calls toString() on every element.
      if (value.includes(DEBEZIUM_FAILS) || (ltree && value.includes(null))) return DEBEZIUM_FAILS;
      return value;
    },
  };
}

function isBitArray(mapping: ColumnMapping): boolean {
  return mapping.rootType.name === '_bit' && mapping.rootType.schema === 'pg_catalog';
}

/** `{{…` or `[1:2][1:2]={{…`: more than one dimension. */
function isMultiDimensional(text: string): boolean {
  const start = text.charCodeAt(0) === 91 ? text.indexOf('=') + 1 : 0;
  return text.charCodeAt(start + 1) === 123;
}

/**
 * numeric(p,-s) (PostgreSQL 15+): pgjdbc decodes the scale as the low 16 bits
 * of the modifier, where PostgreSQL keeps an 11-bit two's complement: -2 reads
 * as 2046. Debezium declares that scale and sets every value to it.
 */
function negativeScale(type: PgTypeInfo, typmod: number, options: Options): ScalarMapping | undefined {
  const mod = numericTypmod(typmod);
  if (mod === null || mod.scale >= 0) return scalarMapping(type, typmod, options);
  return numericMapping({ precision: mod.precision, scale: (typmod - 4) & 0xffff }, options);
}

/**
 * What Debezium puts in place of an unchanged TOAST value. Its decoder picks a
 * marker by the declared type's name (so a domain over text[] gets the plain
 * one), and the column's converter makes what it can of it: a few array types
 * get a list, string columns the placeholder text, bytea its bytes (hex mode:
 * its text); every other converter fails on it.
 */
function strictToast(declared: PgTypeInfo, root: PgTypeInfo, s: ConnectSchema, options: Options): unknown {
  const placeholder = placeholderText(options.unavailableValuePlaceholder);
  const bytes = placeholderBytes(options.unavailableValuePlaceholder);
  const signed = (): number[] => [...bytes].map((b) => (b > 127 ? b - 256 : b));
  const marker = declared.schema === 'pg_catalog' ? declared.name : declared.name === 'hstore' ? 'hstore' : '';
  switch (marker) {
    case '_text':
    case '_varchar':
    case '_bpchar':
    case '_json':
    case '_jsonb':
      return [placeholder];
    case '_bytea':
      return options.binaryHandlingMode === 'bytes' ? [bytes] : DEBEZIUM_FAILS;
    case '_date':
      // Connect's Date wants a java.util.Date, not the placeholder's byte values.
      return options.timePrecisionMode === 'connect' ? DEBEZIUM_FAILS : signed();
    case '_int4':
      return signed();
    case '_int8':
      return signed().map((b) => BigInt(b));
    case '_uuid':
      return [javaNameUuidFromBytes(bytes)];
    case 'hstore':
      return options.hstoreHandlingMode === 'map' ? new Map([[placeholder, placeholder]]) : hstoreJson([[placeholder, placeholder]]);
  }
  if (root.schema === 'pg_catalog' && root.name === 'bytea') {
    // The bytes converter and the hex one check for the marker; the base64 ones do not.
    if (options.binaryHandlingMode === 'bytes') return bytes;
    return options.binaryHandlingMode === 'hex' ? placeholder : DEBEZIUM_FAILS;
  }
  return s.type === 'string' ? placeholder : DEBEZIUM_FAILS;
}
