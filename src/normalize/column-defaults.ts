/**
 * Column defaults copied into the Connect schema (`"default"`), as Debezium's
 * PostgresDefaultValueConverter does: only for the types it has a mapper for,
 * keyed by the column's declared type name (so domain columns get none),
 * literals taken from the first '…' in the expression, function calls and
 * CURRENT_* replaced by a per-type "zero", NULL::… meaning no default. A
 * default that does not convert is dropped, as Debezium drops it with a warning.
 *
 * The expression is pg_get_expr() text read with DateStyle=ISO,
 * IntervalStyle=iso_8601, TimeZone=UTC (type-catalog.ts sets them), so
 * temporal literals are in the form our converters read.
 */
import type { PgTypeInfo } from './pg-types.ts';
import { parseDecimal } from './numeric.ts';

const FUNCTION_CALL = /^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)/;
const CURRENT_DATE_TIMES = new Set(['current_timestamp', 'current_time', 'current_date', 'localtime', 'localtimestamp']);
const TRIMMED = new Set(['bit', 'varbit', 'bool', 'numeric', 'float4', 'float8', 'int2', 'int4', 'int8', 'uuid', 'date', 'time', 'timestamp', 'timestamptz', 'interval']);

/** Placeholder literal used when the default is computed (a function call or CURRENT_*), per mapper. */
const GENERATED: Record<string, string> = {
  bit: '00', varbit: '0', bool: 'false', bpchar: '', varchar: '', text: '', numeric: '0.0', float4: '0.0', float8: '0.0',
  int2: '0', int4: '0', int8: '0', json: '{}', jsonb: '{}', xml: '', uuid: '00000000-0000-0000-0000-000000000000',
  date: '1970-01-01', time: '00:00:00', timestamp: '1970-01-01 00:00:00', timestamptz: '1970-01-01 00:00:00+00', interval: 'PT0S',
};

/**
 * The Connect default for a column whose declared type is `declared`, or
 * undefined for none. `convert` is the column's text converter; it receives
 * the literal in Postgres output form.
 */
export function columnDefault(expression: string | null, declared: PgTypeInfo, convert: (text: string) => unknown): unknown {
  if (expression === null) return undefined;
  const key = declared.kind === 'enum' ? 'enum' : declared.schema === 'pg_catalog' ? declared.name : undefined;
  if (key === undefined || (key !== 'enum' && !(key in GENERATED))) return undefined;
  try {
    const value = key === 'enum' ? enumDefault(expression, declared) : literalDefault(key, TRIMMED.has(key) ? expression.trim() : expression, convert);
    // Debezium cannot put a Struct default on a schema (KAFKA-12694) and skips it.
    if (value === null || value === undefined || isStruct(value)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

function literalDefault(key: string, expression: string, convert: (text: string) => unknown): unknown {
  const generated = FUNCTION_CALL.test(expression) || CURRENT_DATE_TIMES.has(expression.toLowerCase());
  const literal = generated ? GENERATED[key] : extractLiteral(expression);
  if (literal === null) return undefined;
  switch (key) {
    case 'bool':
      return literal.toLowerCase() === 'true';
    case 'bit':
      // Debezium turns a one-digit bit default into a boolean, whatever the column's length.
      return literal.length === 1 ? literal === '1' : convert(literal);
    case 'int2':
    case 'int4':
    case 'int8':
      if (!/^[+-]?\d+$/.test(literal)) throw new Error('not an integer');
      return convert(String(BigInt(literal)));
    case 'float4':
    case 'float8':
      if (Number.isNaN(Number(literal)) && literal !== 'NaN') throw new Error('not a number');
      return convert(literal);
    case 'numeric': {
      const d = parseDecimal(literal);
      if (typeof d === 'string') throw new Error('special');
      return convert(`${d.negative ? '-' : ''}${d.int}${d.frac === '' ? '' : `.${d.frac}`}`);
    }
    case 'uuid':
      return convert(literal.toLowerCase());
    default:
      return convert(literal);
  }
}

/** `'abc'::text` → abc (up to the first closing quote, like Debezium's non-greedy pattern); `42` → 42; `NULL::int4` → null. */
function extractLiteral(expression: string): string | null {
  if (!expression.includes("'")) return expression.startsWith('NULL::') ? null : expression;
  const m = /'(.*?)'/.exec(expression);
  return m === null ? null : m[1];
}

function enumDefault(expression: string, declared: PgTypeInfo): unknown {
  const cast = expression.lastIndexOf('::');
  if (cast < 0) return undefined;
  const castType = expression.slice(cast + 2).replace(/"/g, '');
  const castName = castType.includes('.') ? castType.slice(castType.lastIndexOf('.') + 1) : castType;
  const castSchema = castType.includes('.') ? castType.slice(0, castType.lastIndexOf('.')) : undefined;
  if (castName !== declared.name || (castSchema !== undefined && castSchema !== declared.schema)) return undefined;
  const literal = expression.slice(0, cast);
  return literal.startsWith("'") && literal.endsWith("'") ? literal.slice(1, -1) : undefined;
}

function isStruct(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Map);
}
