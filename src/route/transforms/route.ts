/**
 * `route`: content-based routing. The topic (Kafka, console) or index
 * (Elasticsearch) of an event comes from a template over its row, e.g.
 * `{prefix}.{after.tenant}.orders`: `{prefix}`, `{schema}`, `{table}` as in the
 * sinks' templates, and column placeholders as in the Redis sink's key
 * templates (`{col}` from the key, else the new row, else the old one;
 * `{key.col}`, `{before.col}`, `{after.col}`), with the same checks (a column
 * the table does not have stops the worker). An event that lacks a value the
 * template needs (a NULL, a delete without the column in its old row) keeps
 * the sink's own topic or index, with a warning once per table.
 */
import type { RouteConfig } from '../../config/transform-schema.ts';
import { formatLsn } from '../../lsn.ts';
import { parseTemplate, renderTemplate, type KeyTemplate, type TemplatePart } from '../row-templates.ts';
import { globToRegExp } from '../router.ts';
import { columnCheck } from './column-check.ts';
import type { Transform, TransformContext } from './transform.ts';

const NAMES = new Set(['prefix', 'schema', 'table']);

const isName = (part: TemplatePart): part is { source: 'any'; column: string } => typeof part !== 'string' && part.source === 'any' && NAMES.has(part.column);

export function createRoute(config: RouteConfig, context: TransformContext): Transform {
  const template = parseTemplate(config.topic);
  const tables = config.tables.map(globToRegExp);
  const columns = [...new Set(template.parts.flatMap((p) => (typeof p === 'string' || isName(p) ? [] : [p.column])))];
  const check = columnCheck(`route template ${JSON.stringify(config.topic)}`, config.tables, columns, context);
  const warned = new Set<string>();
  const perTable = new Map<string, KeyTemplate>();

  /** The template with {prefix}, {schema} and {table} filled in for one table. */
  const templateFor = (schema: string, table: string): KeyTemplate => {
    const id = `${schema}\u0000${table}`;
    let filled = perTable.get(id);
    if (filled === undefined) {
      const values: Record<string, string> = { prefix: context.topicPrefix, schema, table };
      filled = { text: template.text, parts: template.parts.map((p) => (isName(p) ? values[p.column] : p)) };
      perTable.set(id, filled);
    }
    return filled;
  };

  return {
    apply(event) {
      if (event.op === 'm' || event.op === 't') return event;
      const table = `${event.schema}.${event.table}`;
      if (!tables.some((t) => t.test(table))) return event;
      check.atChange(event.schemas, table);
      const destination = renderTemplate(templateFor(event.schema, event.table), event);
      if (destination === undefined) {
        if (!warned.has(table)) {
          warned.add(table);
          context.logger.warn({ sink: context.sink, table, template: config.topic, lsn: formatLsn(event.lsn) }, 'route: the event lacks a value the template needs; written to the sink\'s own topic or index (warned once per table)');
        }
        return event;
      }
      return { ...event, destination };
    },
    check: (describeTable) => check.atStart(describeTable),
  };
}
