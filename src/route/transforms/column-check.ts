/**
 * Columns a transform names, checked as the Redis sink checks its templates:
 * at start-up against the tables the transform names exactly (a column the
 * table does not have stops the worker with a hint), and for tables matched by
 * a glob at their first change (and after each ALTER TABLE, since the schema
 * object changes with the Relation).
 */
import { OperatorError } from '../../errors.ts';
import type { TableDescription, TableName } from '../../sink.ts';
import type { TableSchemas } from '../../types.ts';
import type { TransformContext } from './transform.ts';

export interface ColumnCheck {
  /** At start-up: the exactly named tables. */
  atStart(describeTable: (name: TableName) => Promise<TableDescription | null>): Promise<void>;
  /** At a table's first change (per schema version); throws OperatorError. */
  atChange(schemas: TableSchemas, table: string): void;
}

export function columnCheck(what: string, tables: readonly string[], columns: readonly string[], context: TransformContext): ColumnCheck {
  const checked = new WeakSet<TableSchemas>();
  const problem = (table: string, missing: string[], has: string[]) =>
    new OperatorError(`sink "${context.sink}": ${what} names column ${missing.join(', ')}, which ${table} does not have`, {
      hint: `${table} has columns ${has.join(', ')}: fix the transform in the sink file, or narrow its tables`,
      permanent: true,
    });
  return {
    async atStart(describeTable) {
      for (const qualified of tables.filter((t) => !/[*?]/.test(t))) {
        const dot = qualified.indexOf('.');
        const described = await describeTable({ schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) });
        if (described === null) {
          context.logger.warn({ sink: context.sink, table: qualified }, `${what}: table ${qualified} does not exist; checked at its first change`);
          continue;
        }
        const missing = columns.filter((c) => !described.columns.includes(c));
        if (missing.length > 0) throw problem(qualified, missing, described.columns);
      }
    },
    atChange(schemas, table) {
      if (checked.has(schemas)) return;
      const has = (schemas.value.fields ?? []).map((f) => f.field);
      const missing = columns.filter((c) => !has.includes(c));
      if (missing.length > 0) throw problem(table, missing, has);
      checked.add(schemas);
    },
  };
}
