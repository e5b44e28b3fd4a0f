/**
 * `mask`: Debezium's column mappers `column.mask.with.N.chars`,
 * `column.mask.hash.<algorithm>.with.salt.<salt>` (v1 and v2) and
 * `column.truncate.to.N.chars`, per column glob over `schema.table.column`.
 *
 * As in Debezium: mask and hash touch text columns only (text, varchar,
 * char, name — JDBC CHAR/VARCHAR), the hash is the lowercase hex digest of
 * salt + value (v1: the value as Java serializes a String; v2: its UTF-8
 * text) cut to the column's declared length; truncation cuts any string or
 * bytes value. The field schema of each matched column gets Debezium's
 * parameter (`masked: "true"`, `truncateLength: "N"`).
 *
 * Unlike Debezium, key columns are masked too (Debezium leaves the record key
 * unmasked): a masked value must never reach a sink.
 */
import { hash as oneShotHash } from 'node:crypto';
import { HASH_ALGORITHMS, type MaskConfig } from '../../config/transform-schema.ts';
import { envelopeSchema } from '../../normalize/connect-schemas.ts';
import type { ColumnFacts, ConnectField, ConnectSchema, Row, TableSchemas } from '../../types.ts';
import { globToRegExp } from '../router.ts';
import type { Transform } from './transform.ts';

/** pg types Postgres's JDBC driver reports as CHAR / VARCHAR: the ones Debezium's MaskStrings masks. */
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'char', 'name']);

type Rule = MaskConfig['rules'][number];
type Mapper = (value: unknown) => unknown;

interface Plan {
  schemas: TableSchemas;
  mappers: Map<string, Mapper>;
}

export function createMask(config: MaskConfig): Transform {
  const rules = config.rules.map((rule) => ({ rule, patterns: rule.columns.map(globToRegExp) }));
  const cache = new WeakMap<TableSchemas, Plan | null>();

  const planOf = (schemas: TableSchemas, table: string): Plan | null => {
    let plan = cache.get(schemas);
    if (plan !== undefined) return plan;
    const mappers = new Map<string, Mapper>();
    const parameters = new Map<string, Record<string, string>>();
    for (const f of schemas.value.fields ?? []) {
      const name = `${table}.${f.field}`;
      const rule = rules.find((r) => r.patterns.some((p) => p.test(name)))?.rule;
      if (rule === undefined) continue;
      const facts = schemas.columns?.get(f.field) ?? { typeName: '', length: -1 };
      const mapped = columnMapper(rule, facts);
      if (mapped.mapper !== null) mappers.set(f.field, mapped.mapper);
      if (mapped.parameter !== null) parameters.set(f.field, mapped.parameter);
    }
    if (mappers.size === 0 && parameters.size === 0) plan = null;
    else {
      const withParameters = (s: ConnectSchema | null): ConnectSchema | null =>
        s && { ...s, fields: s.fields?.map((f): ConnectField => (parameters.has(f.field) ? { ...f, parameters: { ...f.parameters, ...parameters.get(f.field) } } : f)) };
      const value = withParameters(schemas.value)!;
      plan = { schemas: { ...schemas, key: withParameters(schemas.key), value, envelope: envelopeSchema(schemas.topicStem, value) }, mappers };
    }
    cache.set(schemas, plan);
    return plan;
  };

  const maskRow = (row: Row | null, mappers: Map<string, Mapper>): Row | null => {
    if (row === null) return null;
    const out: Row = { ...row };
    for (const [name, mapper] of mappers) if (name in out) out[name] = mapper(out[name]);
    return out;
  };

  return {
    apply(event) {
      if (event.op === 'm' || event.op === 't') return event;
      const plan = planOf(event.schemas, `${event.schema}.${event.table}`);
      if (plan === null) return event;
      const { mappers } = plan;
      return {
        ...event,
        schemas: plan.schemas,
        key: maskRow(event.key, mappers),
        before: maskRow(event.before, mappers),
        after: maskRow(event.after, mappers),
        ...(event.keyChange ? { keyChange: { ...event.keyChange, key: maskRow(event.keyChange.key, mappers)! } } : {}),
      };
    },
  };
}

/** What a rule does to one column: its value mapper (null: values pass) and its schema parameter. */
function columnMapper(rule: Rule, facts: ColumnFacts): { mapper: Mapper | null; parameter: Record<string, string> | null } {
  const text = TEXT_TYPES.has(facts.typeName);
  if (rule.truncate_to_chars !== undefined) {
    const max = rule.truncate_to_chars;
    // Debezium: truncation is possible when the column is unsized or longer than N.
    if (facts.length >= 0 && facts.length <= max) return { mapper: null, parameter: null };
    return { mapper: (v) => truncate(v, max), parameter: { truncateLength: String(max) } };
  }
  const parameter = { masked: 'true' };
  if (!text) return { mapper: null, parameter };
  if (rule.mask_with_chars !== undefined) {
    const mask = '*'.repeat(rule.mask_with_chars);
    // Debezium's MaskingValueConverter masks a NULL too (seen beside Debezium 3.6.1).
    return { mapper: () => mask, parameter };
  }
  const { algorithm, salt, version } = rule.hash!;
  const digest = HASH_ALGORITHMS[algorithm];
  const saltBytes = Buffer.from(salt, 'utf8');
  const hash = (v: unknown): unknown => {
    if (typeof v !== 'string') return v === undefined ? v : null;
    // crypto.hash (one shot) costs half of createHash().update().digest() per value.
    const hex = oneShotHash(digest, Buffer.concat([saltBytes, version === 1 ? javaSerializedString(v) : Buffer.from(v, 'utf8')]), 'hex');
    return facts.length > 0 ? hex.slice(0, facts.length) : hex;
  };
  return { mapper: hash, parameter };
}

function truncate(value: unknown, max: number): unknown {
  if (typeof value === 'string') return value.length > max ? value.slice(0, max) : value;
  if (Buffer.isBuffer(value)) return value.length > max ? value.subarray(0, max) : value;
  return value;
}

/**
 * A String as java.io.ObjectOutputStream writes it alone: stream header,
 * TC_STRING + u16 length (TC_LONGSTRING + u64 past 65535 bytes), then
 * modified UTF-8 (NUL as C0 80, other code points from UTF-16 units, so a
 * supplementary character is two 3-byte surrogates).
 */
export function javaSerializedString(text: string): Buffer {
  // Most values are ASCII without NUL: their modified UTF-8 is their Latin-1 bytes.
  if (text.length <= 0xffff && /^[\u0001-\u007f]*$/.test(text)) {
    const out = Buffer.allocUnsafe(7 + text.length);
    out.writeUInt32BE(0xaced0005, 0);
    out[4] = 0x74;
    out.writeUInt16BE(text.length, 5);
    out.write(text, 7, 'latin1');
    return out;
  }
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) bytes.push(c);
    else if (c <= 0x7ff) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  const long = bytes.length > 0xffff;
  const head = Buffer.alloc(long ? 13 : 7);
  head.writeUInt16BE(0xaced, 0);
  head.writeUInt16BE(5, 2);
  if (long) {
    head[4] = 0x7c;
    head.writeBigUInt64BE(BigInt(bytes.length), 5);
  } else {
    head[4] = 0x74;
    head.writeUInt16BE(bytes.length, 5);
  }
  return Buffer.concat([head, Buffer.from(bytes)]);
}
