/**
 * `key`: Debezium's `message.key.columns`. For the tables named, the record
 * key is built from the given columns instead of the primary key — in table
 * column order, with the columns' own field schemas, in a struct named
 * `<prefix>.<schema>.<table>.Key` as Debezium names it. The Kafka partition
 * follows the key (murmur2 of its bytes), so one tenant's changes stay in
 * order on one partition. A delete's key comes from `before`, which holds
 * non-key columns only with REPLICA IDENTITY FULL (as with Debezium).
 */
import type { KeyConfig } from '../../config/transform-schema.ts';
import { struct } from '../../normalize/connect-schemas.ts';
import { OperatorError } from '../../errors.ts';
import type { ChangeEvent, Row, TableSchemas } from '../../types.ts';
import type { Transform, TransformContext } from './transform.ts';

export function createMessageKey(config: KeyConfig, context: TransformContext): Transform {
  const tables = new Map(Object.entries(config.columns));
  const cache = new WeakMap<TableSchemas, { schemas: TableSchemas; names: string[] }>();

  const planOf = (schemas: TableSchemas, wanted: readonly string[]) => {
    let plan = cache.get(schemas);
    if (plan === undefined) {
      const fields = (schemas.value.fields ?? []).filter((f) => wanted.includes(f.field));
      plan = { schemas: { ...schemas, key: struct(`${schemas.topicStem}.Key`, false, fields) }, names: fields.map((f) => f.field) };
      cache.set(schemas, plan);
    }
    return plan;
  };

  return {
    apply(event) {
      if (event.op === 'm' || event.op === 't') return event;
      const wanted = tables.get(`${event.schema}.${event.table}`);
      if (wanted === undefined) return event;
      const plan = planOf(event.schemas, wanted);
      const row = event.after ?? event.before ?? {};
      const key: Row = {};
      for (const name of plan.names) key[name] = row[name] ?? null;
      // A primary-key change is a d + c of the old and new primary key; the message key no longer says which, so its headers go.
      const out: ChangeEvent = { ...event, key, schemas: plan.schemas };
      delete out.keyChange;
      return out;
    },
    async check(describeTable) {
      for (const [table, columns] of tables) {
        const [schema, name] = table.split('.');
        const described = await describeTable({ schema, table: name });
        if (described === null) {
          context.logger.warn({ sink: context.sink, table }, 'key transform: no such table (yet); its columns are not checked');
          continue;
        }
        const missing = columns.filter((c) => !described.columns.includes(c));
        if (missing.length > 0) {
          throw new OperatorError(`sink "${context.sink}": key transform names columns ${table} does not have: ${missing.join(', ')}`, {
            hint: `${table} has ${described.columns.join(', ')}; fix transforms[].columns in the sink file`,
          });
        }
      }
    },
  };
}
