/**
 * Templates over an event's row values: the Redis sink's key templates
 * (`product:{id}`, `product:slug:{before.slug}`) and the `route` transform's
 * topic / index templates.
 *
 * A placeholder names a column: `{col}` takes it from the event's key, else
 * from the new row, else from the old row; `{key.col}`, `{before.col}` and
 * `{after.col}` take it from that part only. `{{` and `}}` are literal braces
 * (for Redis Cluster hash tags: `{{user:{id}}}:cart` → `{user:7}:cart`).
 *
 * Values are rendered as the Postgres text form a cache key would hold:
 * integers as digits, text as is, booleans `true`/`false`, decimals in plain
 * notation (Connect Decimal decoded with its scale), bytes as `\x` + hex, and
 * other types as Debezium carries them (e.g. a `date` as days since 1970). A
 * value the event does not carry (NULL, no old row, unchanged TOAST) renders as
 * `undefined`: the caller skips that key.
 */
import { decodeDecimal } from '../normalize/numeric.ts';
import type { ConnectSchema, ChangeEvent } from '../types.ts';

export type TemplateSource = 'any' | 'key' | 'before' | 'after';
export type TemplatePart = string | { source: TemplateSource; column: string };

export interface KeyTemplate {
  text: string;
  parts: TemplatePart[];
}

const PLACEHOLDER = /^(?:(key|before|after)\.)?([^{}.]+)$/;

/** Parses a template; throws an Error whose message names the problem. */
export function parseTemplate(text: string): KeyTemplate {
  const parts: TemplatePart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if ((ch === '{' || ch === '}') && text[i + 1] === ch) {
      literal += ch;
      i++;
    } else if (ch === '{') {
      const close = text.indexOf('}', i);
      if (close < 0) throw new Error(`unclosed "{" in key template ${JSON.stringify(text)} (write "{{" for a literal brace)`);
      const inner = text.slice(i + 1, close).trim();
      const match = PLACEHOLDER.exec(inner);
      if (!match) throw new Error(`bad placeholder "{${inner}}" in key template ${JSON.stringify(text)}: expected {column}, {key.column}, {before.column} or {after.column}`);
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ source: (match[1] as TemplateSource | undefined) ?? 'any', column: match[2] });
      i = close;
    } else if (ch === '}') {
      throw new Error(`unmatched "}" in key template ${JSON.stringify(text)} (write "}}" for a literal brace)`);
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push(literal);
  if (parts.length === 0) throw new Error('key template is empty');
  return { text, parts };
}

/** Columns a template names that the table's row schema does not have. */
export function unknownColumns(template: KeyTemplate, rowSchema: ConnectSchema): string[] {
  const columns = new Set((rowSchema.fields ?? []).map((f) => f.field));
  return template.parts.flatMap((p) => (typeof p !== 'string' && !columns.has(p.column) ? [p.column] : []));
}

/** Renders a template for an event, or undefined when a value it names is missing. */
export function renderTemplate(template: KeyTemplate, event: ChangeEvent): string | undefined {
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = lookup(event, part);
    if (value === undefined) return undefined;
    out += value;
  }
  return out;
}

function lookup(event: ChangeEvent, part: { source: TemplateSource; column: string }): string | undefined {
  const order: Array<'key' | 'before' | 'after'> = part.source === 'any' ? ['key', 'after', 'before'] : [part.source];
  for (const where of order) {
    const row = event[where];
    if (!row || !(part.column in row)) continue;
    const value = row[part.column];
    if (value === null || value === undefined) continue;
    const schema = (where === 'key' ? event.schemas.key : event.schemas.value)?.fields?.find((f) => f.field === part.column);
    return renderValue(value, schema);
  }
  return undefined;
}

/** The text form of one Debezium value (see the file comment). */
export function renderValue(value: unknown, schema?: ConnectSchema): string {
  if (Buffer.isBuffer(value)) {
    if (schema?.name === 'org.apache.kafka.connect.data.Decimal') return decodeDecimal(value, Number(schema.parameters?.scale ?? 0));
    return `\\x${value.toString('hex')}`;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Map) return JSON.stringify(Object.fromEntries(value));
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
