/**
 * Column type → Connect schema, text converter, NOT NULL fallback and unchanged-
 * TOAST placeholder. Domains map through their base type (taking the first
 * type modifier found down the chain); arrays map element-wise where Debezium
 * supports the element type. Where Debezium would drop the column (unknown,
 * composite and most geometric types, unsupported arrays, arrays of domains),
 * we keep it as an optional STRING holding Postgres' text (docs/type-mapping.md).
 * With `debezium_compat: strict` the mapping is Debezium's own, losses and all
 * (strict-compat.ts): undefined for a column Debezium leaves out.
 */
import type { ConnectSchema } from '../types.ts';
import { placeholderBytes, placeholderText } from './binary.ts';
import { arrayOf, schema, withOptional } from './connect-schemas.ts';
import { hstoreJson } from './hstore.ts';
import { javaNameUuidFromBytes } from './java-compat.ts';
import type { NormalizeOptions } from './options.ts';
import { parsePgArray } from './pg-array-parser.ts';
import type { PgTypeInfo, TypeLookup } from './pg-types.ts';
import { scalarMapping, type ScalarMapping } from './scalar-types.ts';
import { strictColumnMapping, strictScalarMapping } from './strict-compat.ts';

export interface ColumnMapping extends ScalarMapping {
  /** The unchanged-TOAST placeholder for this column (null where Debezium has none). */
  toast: unknown;
  /** How the column is mapped, for docs and tests: Debezium's mapping or our text fallback. */
  via: 'debezium' | 'text';
  /** The declared type after resolving domains: what the schema was derived from. */
  rootType: PgTypeInfo;
}

type Options = Omit<NormalizeOptions, 'topicPrefix' | 'database'>;

/** Debezium's explicitly supported arrays have optional elements; the generic path (enums, tsvector, vectors) does not. */
const OPTIONAL_ELEMENT_ARRAYS = new Set([
  'int2', 'int4', 'int8', 'oid', 'char', 'varchar', 'text', 'bpchar', 'inet', 'cidr', 'macaddr', 'macaddr8',
  'tsrange', 'tstzrange', 'daterange', 'int4range', 'numrange', 'int8range', 'numeric', 'float4', 'float8',
  'bool', 'date', 'uuid', 'jsonb', 'json', 'time', 'timetz', 'timestamp', 'timestamptz', 'bytea',
  // Debezium gives bit[] a non-array schema and then fails every value; we send an array of its element.
  'bit',
]);
const GENERIC_ELEMENT_ARRAYS = new Set(['tsvector']);
const EXTENSION_OPTIONAL_ELEMENT_ARRAYS = new Set(['citext', 'hstore', 'ltree', 'geometry', 'geography']);
const EXTENSION_GENERIC_ELEMENT_ARRAYS = new Set(['vector', 'halfvec', 'sparsevec']);

/** Follows a domain chain to its base type; the first type modifier met applies (as in Debezium). */
export function resolveDomain(type: PgTypeInfo, typmod: number, lookup: TypeLookup): { type: PgTypeInfo; typmod: number } {
  let t = type;
  let mod = typmod;
  for (let depth = 0; t.kind === 'domain'; depth++) {
    if (depth > 32) throw new Error(`domain chain too deep at ${t.schema}.${t.name}`);
    if (mod < 0 && t.baseTypmod >= 0) mod = t.baseTypmod;
    t = lookup(t.baseOid);
  }
  return { type: t, typmod: mod };
}

/** The column's mapping; undefined only in strict mode, for a column Debezium leaves out. */
export function mapColumnType(typeOid: number, typmod: number, lookup: TypeLookup, options: Options): ColumnMapping | undefined {
  const declared = lookup(typeOid);
  if (options.debeziumCompat !== 'strict') return losslessMapping(declared, typmod, lookup, options, scalarMapping);
  return strictColumnMapping(losslessMapping(declared, typmod, lookup, options, strictScalarMapping), declared, typmod, options);
}

/** A scalar type's mapping, as a column (`element` false) or as an array's element. */
type ScalarMapper = (type: PgTypeInfo, typmod: number, options: Options, element: boolean) => ScalarMapping | undefined;

function losslessMapping(declared: PgTypeInfo, typmod: number, lookup: TypeLookup, options: Options, scalarOf: ScalarMapper): ColumnMapping {
  const { type, typmod: mod } = resolveDomain(declared, typmod, lookup);
  if (type.kind === 'array') {
    const array = arrayMapping(type, mod, lookup, options, scalarOf);
    if (array !== undefined) return array;
  } else {
    const scalar = scalarOf(type, mod, options, false);
    if (scalar !== undefined) return { ...scalar, toast: scalarToast(scalar.schema, type, options), via: 'debezium', rootType: type };
  }
  return textFallback(type, options);
}

function arrayMapping(type: PgTypeInfo, typmod: number, lookup: TypeLookup, options: Options, scalarOf: ScalarMapper): ColumnMapping | undefined {
  const element = lookup(type.elementOid);
  let optionalElements: boolean;
  if (element.kind === 'enum') optionalElements = false;
  else if (element.schema === 'pg_catalog') {
    if (OPTIONAL_ELEMENT_ARRAYS.has(element.name)) optionalElements = true;
    else if (GENERIC_ELEMENT_ARRAYS.has(element.name)) optionalElements = false;
    else return undefined;
  } else if (EXTENSION_OPTIONAL_ELEMENT_ARRAYS.has(element.name)) optionalElements = true;
  else if (EXTENSION_GENERIC_ELEMENT_ARRAYS.has(element.name)) optionalElements = false;
  else return undefined; // arrays of domains and other custom types: Debezium drops them
  const item = scalarOf(element, typmod, options, true);
  if (item === undefined) return undefined;
  const convertElement = item.convert;
  const mapping: ScalarMapping = {
    schema: arrayOf(withOptional(item.schema, optionalElements || item.alwaysOptional === true)),
    // Multi-dimensional arrays are flattened in row-major order (Debezium emits one null per sub-array).
    convert: (text) => parsePgArray(text).elements.map((e) => (e === null ? null : convertElement(e))),
    fallback: [],
  };
  return { ...mapping, toast: arrayToast(element, item.schema, options), via: 'debezium', rootType: type };
}

function textFallback(type: PgTypeInfo, options: Options): ColumnMapping {
  return {
    schema: schema('string', true),
    convert: (t) => t,
    fallback: null,
    alwaysOptional: true,
    toast: placeholderText(options.unavailableValuePlaceholder),
    via: 'text',
    rootType: type,
  };
}

/** Debezium's UnchangedToastedPlaceholder, by the column's value shape. */
function scalarToast(s: ConnectSchema, type: PgTypeInfo, options: Options): unknown {
  const placeholder = placeholderText(options.unavailableValuePlaceholder);
  if (type.name === 'hstore' && type.schema !== 'pg_catalog') {
    return options.hstoreHandlingMode === 'map'
      ? new Map([[placeholder, placeholder]])
      : hstoreJson([[placeholder, placeholder]]);
  }
  if (s.type === 'string') return placeholder;
  if (s.type === 'bytes' && type.name === 'bytea') return placeholderBytes(options.unavailableValuePlaceholder);
  // Debezium has no placeholder for other shapes (its conversion fails and the field is null).
  return null;
}

function arrayToast(element: PgTypeInfo, item: ConnectSchema, options: Options): unknown {
  const bytes = placeholderBytes(options.unavailableValuePlaceholder);
  const signedBytes = [...bytes].map((b) => (b > 127 ? b - 256 : b));
  switch (item.type) {
    case 'string':
      // uuid[] gets UUID.nameUUIDFromBytes(placeholder); every other string array the placeholder itself.
      return element.name === 'uuid' ? [javaNameUuidFromBytes(bytes)] : [scalarToast(item, element, options)];
    case 'bytes':
      return element.name === 'bytea' ? [bytes] : null;
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      // int4[] and date[] get the placeholder's bytes as numbers; we extend that to the other number arrays.
      return signedBytes;
    case 'int64':
      return signedBytes.map((b) => BigInt(b));
    default:
      return null;
  }
}
