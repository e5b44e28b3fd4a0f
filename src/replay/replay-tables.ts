/**
 * `--tables`: a replay of some tables only. Each must exist, be carried by
 * the publication, be captured (source.tables) and be routed to the sink;
 * the scope then keeps only their changes (and their partitions').
 */
import { OperatorError } from '../errors.ts';
import type { Router } from '../route/router.ts';
import { describeTables, formatTableName, parseTableName, type Queryable } from '../source/pg-catalog.ts';
import type { TableScope } from '../source/table-scope.ts';

export interface ReplayTablesContext {
  publication: string;
  /** What slotline captures (source.tables). */
  scope: TableScope;
  /** The replay's router (its one sink). */
  router: Router;
  sink: string;
  database: string;
}

export async function checkReplayTables(db: Queryable, tables: readonly string[], context: ReplayTablesContext): Promise<void> {
  if (tables.length === 0) return;
  const names = tables.map(parseTableName);
  for (const facts of await describeTables(db, names, context.publication)) {
    const shown = formatTableName(facts);
    if (facts.oid === null) {
      throw new OperatorError(`table ${shown} does not exist in database "${context.database}"`, { hint: 'check the name in --tables (schema.table, case-sensitive)' });
    }
    if (!facts.published) {
      throw new OperatorError(`table ${shown} is not in publication "${context.publication}", so the slot never carried its changes`, {
        hint: 'replay only tables slotline captures; check --tables',
      });
    }
    if (!(await context.scope.includes(facts))) {
      throw new OperatorError(`table ${shown} is not in source.tables, so slotline does not capture it`, { hint: 'replay only tables slotline captures; check --tables' });
    }
    if (context.router.sinksFor(facts.schema, facts.table).length === 0) {
      throw new OperatorError(`sink "${context.sink}" does not take table ${shown} (its tables and exclude_tables)`, { hint: 'leave the table out of --tables, or replay into a sink that routes it' });
    }
  }
}

/** Captured by both scopes. */
export function narrowScope(outer: TableScope, inner: TableScope): TableScope {
  return {
    all: false,
    admit(relation) {
      const a = outer.admit(relation);
      const b = inner.admit(relation);
      if (!a && !b) return;
      return Promise.all([a, b]).then(() => undefined);
    },
    captured: (relationId) => outer.captured(relationId) && inner.captured(relationId),
    includes: async (name) => (await outer.includes(name)) && (await inner.includes(name)),
  };
}
