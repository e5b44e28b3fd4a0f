/**
 * Debezium's mapping of one (non-array) Postgres type to a Connect schema and
 * a text → value converter (PostgresValueConverter + JdbcValueConverters, 3.6),
 * with the value Debezium substitutes when a NOT NULL column arrives as NULL.
 * Types Debezium drops are not here: type-mapping.ts sends their text.
 */
import type { ConnectSchema } from '../types.ts';
import { bitsToBoolean, bitsToBytes, decodeBytea, encodeBinary } from './binary.ts';
import { logical, schema } from './connect-schemas.ts';
import { parseEwkb, parsePoint, parseSparseVector, parseVector, pointValue } from './geometric.ts';
import { hstoreJson, hstoreMap, parseHstore } from './hstore.ts';
import { parseDecimal, parseMoney, plainString, roundHalfUp, strippedScale, twosComplementBytes, unscaledDigits, type Decimal } from './numeric.ts';
import type { NormalizeOptions } from './options.ts';
import { bitLength, numericTypmod, timePrecision, type PgTypeInfo } from './pg-types.ts';
import {
  formatTimeTz, formatTimestampTz, intervalIsoString, intervalMicros, parseDate, parseInterval, parseTime, parseTimestamp,
} from './temporal.ts';

export interface ScalarMapping {
  schema: ConnectSchema;
  convert: (text: string) => unknown;
  /** Debezium's value for NULL in a NOT NULL column without a default (JdbcValueConverters.convertValue). */
  fallback: unknown;
  /** The schema is optional whatever the column says (Debezium's Geometry builder is always optional). */
  alwaysOptional?: boolean;
}

type Options = Omit<NormalizeOptions, 'topicPrefix' | 'database'>;

const toInt = (t: string): number => {
  const v = Number(t);
  if (!Number.isInteger(v)) throw new Error(`not an integer: ${t}`);
  return v;
};
const toBigInt = (t: string): bigint => BigInt(t);
const toFloat64 = (t: string): number => Number(t);
const toFloat32 = (t: string): number => Math.fround(Number(t));
const identity = (t: string): string => t;
const ZERO_BYTE = Buffer.from([0]);

/** The mapping of `type` (a root type: not a domain, not an array), or undefined when Debezium has none. */
export function scalarMapping(type: PgTypeInfo, typmod: number, options: Options): ScalarMapping | undefined {
  if (type.kind === 'enum') {
    return { schema: logical.enumeration(type.enumValues ?? []), convert: identity, fallback: '' };
  }
  if (type.schema !== 'pg_catalog') return extensionMapping(type, options);
  switch (type.name) {
    case 'bool':
      return { schema: schema('boolean', false), convert: (t) => t === 't', fallback: false };
    case 'bit':
    case 'varbit': {
      const length = bitLength(typmod);
      return length > 1
        ? { schema: logical.bits(length), convert: bitsToBytes, fallback: Buffer.alloc(0) }
        : { schema: schema('boolean', false), convert: bitsToBoolean, fallback: false };
    }
    case 'int2':
      return { schema: schema('int16', false), convert: toInt, fallback: 0 };
    case 'int4':
      return { schema: schema('int32', false), convert: toInt, fallback: 0 };
    case 'int8':
    case 'oid':
      return { schema: schema('int64', false), convert: toBigInt, fallback: 0n };
    case 'float4':
      return { schema: schema('float32', false), convert: toFloat32, fallback: 0 };
    case 'float8':
      return { schema: schema('float64', false), convert: toFloat64, fallback: 0 };
    case 'numeric':
      return numericMapping(numericTypmod(typmod), options);
    case 'money':
      return moneyMapping(options);
    case 'char':
    case 'bpchar':
    case 'varchar':
    case 'text':
    case 'name':
    case 'inet':
    case 'cidr':
    case 'macaddr':
    case 'macaddr8':
    case 'int4range':
    case 'int8range':
    case 'numrange':
    case 'tsrange':
    case 'tstzrange':
    case 'daterange':
      return { schema: schema('string', false), convert: identity, fallback: '' };
    case 'uuid':
      return { schema: logical.uuid(), convert: identity, fallback: '' };
    case 'json':
    case 'jsonb':
      return { schema: logical.json(), convert: identity, fallback: '' };
    case 'xml':
      return { schema: logical.xml(), convert: identity, fallback: '' };
    case 'tsvector':
      return { schema: logical.tsvector(), convert: identity, fallback: '' };
    case 'bytea': {
      const mode = options.binaryHandlingMode;
      return {
        schema: schema(mode === 'bytes' ? 'bytes' : 'string', false),
        convert: (t) => encodeBinary(decodeBytea(t), mode),
        fallback: mode === 'bytes' ? Buffer.alloc(0) : '',
      };
    }
    case 'date':
      return {
        schema: options.timePrecisionMode === 'connect' ? logical.connectDate() : logical.date(),
        convert: parseDate,
        fallback: 0,
      };
    case 'time':
      return timeMapping(timePrecision(typmod), options);
    case 'timestamp':
      return timestampMapping(timePrecision(typmod), options);
    case 'timestamptz': {
      const width = timePrecision(typmod);
      return { schema: logical.zonedTimestamp(), convert: (t) => formatTimestampTz(t, width), fallback: '1970-01-01T00:00:00Z' };
    }
    case 'timetz':
      return { schema: logical.zonedTime(), convert: formatTimeTz, fallback: '00:00:00Z' };
    case 'interval':
      return options.intervalHandlingMode === 'string'
        ? { schema: logical.interval(), convert: (t) => intervalIsoString(parseInterval(t)), fallback: 'P0Y0M0DT0H0M0S' }
        : { schema: logical.microDuration(), convert: (t) => intervalMicros(parseInterval(t)), fallback: 0n };
    case 'point':
      return { schema: logical.point(), convert: parsePoint, fallback: pointValue(0, 0) };
    default:
      return undefined;
  }
}

/** Extension types, recognised by type name in any schema (Debezium's TypeRegistry does the same). */
function extensionMapping(type: PgTypeInfo, options: Options): ScalarMapping | undefined {
  switch (type.name) {
    case 'citext':
    case 'isbn':
      return { schema: schema('string', false), convert: identity, fallback: '' };
    case 'ltree':
      return { schema: logical.ltree(), convert: identity, fallback: '' };
    case 'hstore':
      return options.hstoreHandlingMode === 'map'
        ? {
          schema: { type: 'map', optional: false, keys: schema('string', false), values: schema('string', true) },
          convert: (t) => hstoreMap(parseHstore(t)),
          fallback: new Map(),
        }
        : { schema: logical.json(), convert: (t) => hstoreJson(parseHstore(t)), fallback: '{}' };
    case 'vector':
      return { schema: logical.doubleVector(), convert: (t) => parseVector(t, false), fallback: [] };
    case 'halfvec':
      return { schema: logical.floatVector(), convert: (t) => parseVector(t, true), fallback: [] };
    case 'sparsevec':
      return { schema: logical.sparseVector(), convert: parseSparseVector, fallback: null };
    case 'geometry':
    case 'geography': {
      const empty = parseEwkb('010700000000000000');
      return type.name === 'geometry'
        ? { schema: logical.geometry('Geometry'), convert: parseEwkb, fallback: empty, alwaysOptional: true }
        : { schema: logical.geometry('Geography'), convert: parseEwkb, fallback: empty };
    }
    default:
      return undefined;
  }
}

/** numeric with a decoded type modifier (null: unconstrained). */
export function numericMapping(mod: { precision: number; scale: number } | null, options: Options): ScalarMapping {
  const mode = options.decimalHandlingMode;
  if (mode === 'double') return { schema: schema('float64', false), convert: toFloat64, fallback: 0 };
  if (mode === 'string') {
    return {
      schema: schema('string', false),
      convert: (t) => {
        const d = parseDecimal(t);
        if (typeof d === 'string') return SPECIAL_NAMES[d];
        return mod === null ? plainString(d) : plainString(d, unscaledDigits(d, mod.scale), mod.scale);
      },
      fallback: mod === null || mod.scale <= 0 ? '0' : `0.${'0'.repeat(mod.scale)}`,
    };
  }
  if (mod === null) {
    return {
      schema: logical.variableScaleDecimal(),
      convert: (t) => {
        const d = parseDecimal(t);
        if (typeof d === 'string') return null; // Debezium: no special values in precise mode
        const { digits, scale } = strippedScale(d);
        return { scale, value: twosComplementBytes(d.negative, digits) };
      },
      fallback: { scale: 0, value: ZERO_BYTE },
    };
  }
  return {
    schema: logical.decimal(mod.scale, mod.precision),
    convert: (t) => {
      const d = parseDecimal(t);
      if (typeof d === 'string') return null;
      return twosComplementBytes(d.negative, unscaledDigits(d, mod.scale));
    },
    fallback: ZERO_BYTE,
  };
}

const SPECIAL_NAMES = { NaN: 'NAN', Infinity: 'POSITIVE_INFINITY', '-Infinity': 'NEGATIVE_INFINITY' } as const;

function moneyMapping(options: Options): ScalarMapping {
  const digits = options.moneyFractionDigits;
  switch (options.decimalHandlingMode) {
    case 'double':
      return { schema: schema('float64', false), convert: (t) => Number(plainString(parseMoney(t))), fallback: 0 };
    case 'string':
      return { schema: schema('string', false), convert: (t) => plainString(parseMoney(t)), fallback: digits > 0 ? `0.${'0'.repeat(digits)}` : '0' };
    default:
      return {
        schema: logical.decimal(digits),
        convert: (t) => {
          const d: Decimal = roundHalfUp(parseMoney(t), digits);
          return twosComplementBytes(d.negative, d.int + d.frac);
        },
        fallback: ZERO_BYTE,
      };
  }
}

function timeMapping(precision: number, options: Options): ScalarMapping {
  if (options.timePrecisionMode === 'connect') {
    return { schema: logical.connectTime(), convert: (t) => Math.floor(parseTime(t) / 1000), fallback: 0 };
  }
  if (options.timePrecisionMode === 'adaptive' && precision <= 3) {
    return { schema: logical.time(), convert: (t) => Math.floor(parseTime(t) / 1000), fallback: 0 };
  }
  return { schema: logical.microTime(), convert: (t) => BigInt(parseTime(t)), fallback: 0n };
}

function timestampMapping(precision: number, options: Options): ScalarMapping {
  const millis = (t: string): bigint => {
    const micros = parseTimestamp(t);
    // floor division, as Instant.toEpochMilli does for times before 1970
    return micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n);
  };
  if (options.timePrecisionMode === 'connect') return { schema: logical.connectTimestamp(), convert: millis, fallback: 0n };
  if (precision <= 3) return { schema: logical.timestamp(), convert: millis, fallback: 0n };
  return { schema: logical.microTimestamp(), convert: parseTimestamp, fallback: 0n };
}
