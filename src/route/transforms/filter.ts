/**
 * `filter`: keeps the events of its tables for which `condition` holds and
 * drops the others (Debezium's Filter SMT, with a small expression language
 * of our own instead of Groovy/JavaScript: filter-expression.ts). Events of
 * other tables and logical decoding messages pass. A dropped event still
 * moves the checkpoint past it.
 */
import type { FilterConfig } from '../../config/transform-schema.ts';
import { globToRegExp } from '../router.ts';
import { columnCheck } from './column-check.ts';
import { evaluate, parseCondition, referencedColumns } from './filter-expression.ts';
import type { Transform, TransformContext } from './transform.ts';

export function createFilter(config: FilterConfig, context: TransformContext): Transform {
  const condition = parseCondition(config.condition);
  const tables = config.tables.map(globToRegExp);
  const columns = [...new Set(referencedColumns(condition).map((c) => c.column))];
  const check = columnCheck(`filter condition ${JSON.stringify(config.condition)}`, config.tables, columns, context);
  return {
    apply(event) {
      if (event.op === 'm') return event;
      const table = `${event.schema}.${event.table}`;
      if (!tables.some((t) => t.test(table))) return event;
      if (event.op !== 't') check.atChange(event.schemas, table);
      return evaluate(condition, event) ? event : null;
    },
    check: (describeTable) => check.atStart(describeTable),
  };
}
