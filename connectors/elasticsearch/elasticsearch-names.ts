/**
 * Index names and document ids. Index templates are checked twice: the literal
 * part when the config is read, the expanded name (which includes schema and
 * table names) before the first write to it, against Elasticsearch's rules:
 * lower case, no `\ / * ? " < > | , #` or space, not starting with `-`, `_`, `+`,
 * not `.` or `..`, at most 255 bytes.
 */
import { OperatorError } from '../../src/errors.ts';
import type { ChangeEvent, Row } from '../../src/types.ts';

export const INDEX_PLACEHOLDERS = ['prefix', 'schema', 'table'] as const;

const FORBIDDEN = /[\\/*?"<>|,# :]/;

/** Problems of an index name (already lower-cased). */
export function indexNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name === '') problems.push('index name is empty');
  if (name === '.' || name === '..') problems.push(`index name ${JSON.stringify(name)} is not allowed`);
  if (/^[-_+]/.test(name)) problems.push(`index name ${JSON.stringify(name)} must not start with "-", "_" or "+"`);
  const bad = FORBIDDEN.exec(name);
  if (bad) problems.push(`character ${JSON.stringify(bad[0])} is not allowed in an index name ${JSON.stringify(name)}`);
  if (Buffer.byteLength(name) > 255) problems.push(`index name ${JSON.stringify(name.slice(0, 40))}… is longer than 255 bytes`);
  return problems;
}

/** Problems of an index template: unknown placeholders, braces, and the literal text against the index name rules. */
export function indexTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  const allowed = INDEX_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
  for (const [, name] of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(INDEX_PLACEHOLDERS as readonly string[]).includes(name)) problems.push(`unknown placeholder "{${name}}" in index template (allowed: ${allowed})`);
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) problems.push(`unbalanced "{" or "}" in index template ${JSON.stringify(template)}`);
  if (template === '') return ['index template is empty'];
  // Check the template with every placeholder as a harmless letter.
  for (const p of indexNameProblems(template.replace(/\{[^{}]*\}/g, 'x').toLowerCase())) problems.push(`index template ${JSON.stringify(template)}: ${p}`);
  return problems;
}

/**
 * Index of an event's table, or the one a `route` transform chose for it
 * (`destination`, lower-cased); throws OperatorError when a schema or table
 * name, or a routed value, makes it invalid.
 */
export function createIndexNamer(template: string, prefix: string): (event: Pick<ChangeEvent, 'schema' | 'table' | 'destination'>) => string {
  const cache = new Map<string, string>();
  return (event) => {
    const routed = event.destination;
    const cacheKey = routed === undefined ? `${event.schema}\u0000${event.table}` : `\u0001${routed}`;
    let name = cache.get(cacheKey);
    if (name === undefined) {
      const values: Record<string, string> = { prefix, schema: event.schema, table: event.table };
      name = (routed ?? template.replace(/\{([a-z]+)\}/g, (_, p: string) => values[p])).toLowerCase();
      const problems = indexNameProblems(name);
      if (problems.length > 0) {
        const hint = routed === undefined ? 'change `index` in the sink file so every table gives a valid index name' : 'change the route transform\'s template, or the column values it takes';
        throw new OperatorError(`index for ${event.schema}.${event.table}: ${problems.join('; ')}`, { hint, permanent: true });
      }
      if (cache.size >= 10_000) cache.clear();
      cache.set(cacheKey, name);
    }
    return name;
  };
}

/**
 * The document id of a row. With a template, `{column}` is replaced by the
 * column's value as text; without, the key struct: one key column gives its
 * value as text, several give a JSON array of their values (unambiguous, and
 * in key-column order, so the same row always gets the same id).
 */
export function createIdMaker(template: string | undefined): (event: ChangeEvent, row: Row) => string {
  if (template !== undefined) {
    return (event, row) =>
      template.replace(/\{([^{}]+)\}/g, (_, column: string) => {
        if (!(column in row)) {
          throw new OperatorError(`id template ${JSON.stringify(template)}: ${event.schema}.${event.table} has no column "${column}"`, {
            hint: 'change `id` in the sink file to name columns every routed table has',
            permanent: true,
          });
        }
        return idText(row[column]);
      });
  }
  return (event) => {
    const key = event.key;
    const names = event.schemas.key?.fields?.map((f) => f.field) ?? [];
    if (key === null || names.length === 0) {
      throw new OperatorError(`${event.schema}.${event.table} has no primary key (replica identity key), so it has no default document id`, {
        hint: 'add a primary key, or set `id` in the sink file to a template over unique columns',
        permanent: true,
      });
    }
    if (names.length === 1) return idText(key[names[0]]);
    return JSON.stringify(names.map((n) => idJson(key[n])));
  };
}

function idText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object') return JSON.stringify(idJson(value));
  return String(value);
}

function idJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value ?? null;
}
