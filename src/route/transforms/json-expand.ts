/**
 * The outbox router's `table.expand.json.payload`: a JSON text becomes a
 * Connect struct with a schema inferred the way Debezium's JsonSchemaData
 * does it — fields in document order (so JSON is read by a small parser of
 * our own: JSON.parse puts integer-like keys first and loses int64 digits),
 * integers int32 when they fit, else int64, other numbers float64, every
 * schema optional, objects named by their path (`payload`, `payload.customer`),
 * null fields and empty arrays left out, arrays typed by their first non-null
 * element (arrays of objects: the merged element schemas).
 */
import type { ConnectField, ConnectSchema, Row } from '../../types.ts';

type Json =
  | { kind: 'object'; entries: Array<[string, Json]> }
  | { kind: 'array'; items: Json[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

/** A JSON object's text as a struct and its schema named `name`; null when the text is not one (Debezium then keeps the string). */
export function expandJson(text: string, name: string): { schema: ConnectSchema; value: Row } | null {
  if (!text.startsWith('{')) return null;
  let doc: Json;
  try {
    doc = parseJson(text);
  } catch {
    return null;
  }
  const schema = schemaOf(name, doc);
  if (schema === null || schema.type !== 'struct') return null;
  return { schema, value: valueOf(doc, schema) as Row };
}

const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function numberType(text: string): 'int32' | 'int64' | 'float64' {
  if (/[.eE]/.test(text)) return 'float64';
  const n = BigInt(text);
  if (n >= INT32.min && n <= INT32.max) return 'int32';
  return n >= INT64.min && n <= INT64.max ? 'int64' : 'float64';
}

function schemaOf(name: string | null, node: Json): ConnectSchema | null {
  switch (node.kind) {
    case 'string':
      return { type: 'string', optional: true };
    case 'boolean':
      return { type: 'boolean', optional: true };
    case 'number':
      return { type: numberType(node.text), optional: true };
    case 'null':
      return null;
    case 'array': {
      if (node.items.length === 0) return null;
      const items = arrayItemSchema(name, node.items);
      return { type: 'array', optional: true, items };
    }
    case 'object': {
      const fields: ConnectField[] = [];
      for (const [key, value] of node.entries) {
        const fieldSchema = schemaOf(name ? `${name}.${key}` : key, value);
        if (fieldSchema !== null && !fields.some((f) => f.field === key)) fields.push({ ...fieldSchema, field: key });
      }
      return { type: 'struct', optional: true, ...(name ? { name } : {}), fields };
    }
  }
}

function arrayItemSchema(name: string | null, items: Json[]): ConnectSchema {
  const sample = items.find((i) => i.kind !== 'null');
  if (sample === undefined) throw new Error('an array of nulls has no element type');
  for (const item of items) {
    if (item.kind !== 'null' && item.kind !== sample.kind) throw new Error('not a homogenous array');
  }
  if (sample.kind !== 'object') {
    const schema = schemaOf(null, sample);
    if (schema === null) throw new Error('unrecognized array member');
    return schema;
  }
  // Objects: the distinct element schemas merged, fields in first-seen order. Debezium merges
  // a HashSet, so with three or more distinct shapes its field order can differ from ours.
  const distinct = new Map<string, ConnectSchema>();
  for (const item of items) {
    if (item.kind !== 'object') continue;
    const schema = schemaOf(name, item)!;
    distinct.set(JSON.stringify(schema), schema);
  }
  const schemas = [...distinct.values()];
  if (schemas.length === 1) return schemas[0];
  const fields: ConnectField[] = [];
  for (const schema of schemas) for (const f of schema.fields!) if (!fields.some((g) => g.field === f.field)) fields.push(f);
  // SchemaUtil.copySchemaBasics keeps the name but not `optional`.
  return { type: 'struct', optional: false, ...(name ? { name } : {}), fields };
}

function valueOf(node: Json, schema: ConnectSchema): unknown {
  switch (node.kind) {
    case 'string':
    case 'boolean':
      return node.value;
    case 'number':
      return schema.type === 'int64' ? BigInt(node.text) : Number(node.text);
    case 'null':
      return null;
    case 'array':
      return node.items.map((item) => valueOf(item, schema.items!));
    case 'object': {
      const row: Row = {};
      const byName = new Map(node.entries);
      for (const f of schema.fields ?? []) if (byName.has(f.field)) row[f.field] = valueOf(byName.get(f.field)!, f);
      return row;
    }
  }
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** A strict JSON parser keeping object members in document order (a repeated key keeps its first place, last value). */
export function parseJson(text: string): Json {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid JSON at ${at}: ${what}`);
  };
  const space = () => {
    while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
  };
  const value = (): Json => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const entries: Array<[string, Json]> = [];
      space();
      if (text[at] === '}') return at++, { kind: 'object', entries };
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        space();
        if (text[at++] !== ':') fail('expected ":"');
        const v = value();
        const existing = entries.findIndex(([k]) => k === key);
        if (existing >= 0) entries[existing] = [key, v];
        else entries.push([key, v]);
        space();
        if (text[at] === ',') at++;
        else if (text[at] === '}') return at++, { kind: 'object', entries };
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const items: Json[] = [];
      space();
      if (text[at] === ']') return at++, { kind: 'array', items };
      for (;;) {
        items.push(value());
        space();
        if (text[at] === ',') at++;
        else if (text[at] === ']') return at++, { kind: 'array', items };
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return { kind: 'string', value: string() };
    for (const [word, node] of [['true', { kind: 'boolean', value: true }], ['false', { kind: 'boolean', value: false }], ['null', { kind: 'null' }]] as const) {
      if (text.startsWith(word, at)) return (at += word.length), node;
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number === null) fail('unexpected character');
    at += number![0].length;
    return { kind: 'number', text: number![0] };
  };
  const string = (): string => {
    STRING.lastIndex = at;
    const end = STRING.exec(text);
    if (end === null) fail('bad string');
    at += end![0].length;
    return JSON.parse(end![0]) as string;
  };
  const doc = value();
  space();
  if (at !== text.length) fail('trailing text');
  return doc;
}
