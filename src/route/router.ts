/**
 * Which sinks receive which table's events (pure; cached per table).
 * A sink matches `schema.table` against its `tables` globs and not its
 * `exclude_tables` globs. `*` matches any run of characters, `?` one character;
 * matching is case-sensitive, like Postgres identifiers once quoted.
 */
import type { SinkCommonConfig } from '../sink.ts';

export type RouteFilter = Pick<SinkCommonConfig, 'tables' | 'exclude_tables' | 'messages'>;

export interface Router {
  /** Indexes (into the sinks array given to createRouter) of the sinks that take this table. */
  sinksFor(schema: string, table: string): readonly number[];
  /** Indexes of the sinks that take logical decoding messages. */
  messageSinks(): readonly number[];
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

export function createRouter(sinks: readonly RouteFilter[]): Router {
  const compiled = sinks.map((s) => ({
    include: s.tables.map(globToRegExp),
    exclude: s.exclude_tables.map(globToRegExp),
  }));
  const cache = new Map<string, number[]>();
  const messageSinks = sinks.flatMap((s, i) => (s.messages ? [i] : []));

  /** The last table asked for: events come in runs of one table, whose names are the relation's own strings. */
  let last: { schema: string; table: string; sinks: number[] } | null = null;

  return {
    sinksFor(schema, table) {
      if (last !== null && schema === last.schema && table === last.table) return last.sinks;
      const name = `${schema}.${table}`;
      let hit = cache.get(name);
      if (!hit) {
        hit = [];
        compiled.forEach((c, i) => {
          if (c.include.some((r) => r.test(name)) && !c.exclude.some((r) => r.test(name))) hit!.push(i);
        });
        cache.set(name, hit);
      }
      last = { schema, table, sinks: hit };
      return hit;
    },
    messageSinks: () => messageSinks,
  };
}
