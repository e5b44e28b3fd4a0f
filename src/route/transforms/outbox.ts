/**
 * `outbox`: Debezium's Outbox Event Router. An inserted outbox row becomes a
 * domain event: topic from `route_by_field` through the regex/replacement
 * (`outbox.event.{routedByValue}`, Debezium's `outbox.event.${routedByValue}`), key = `aggregateid` with its column
 * schema, value = `payload` with its column schema (or, when some column is
 * placed in the envelope, a struct `{payload, …}` named after the table's
 * value schema with the routed value inserted: `<prefix>.public.outbox.<type>.Value`),
 * header `id`, record timestamp = the event's `ts_ms`. Deletes are ignored
 * (the usual insert-then-delete in one transaction still emits the insert);
 * updates are ignored with a warning; truncates are dropped; other tables
 * and logical decoding messages pass unchanged.
 */
import type { OutboxConfig } from '../../config/transform-schema.ts';
import { OperatorError } from '../../errors.ts';
import { formatLsn } from '../../lsn.ts';
import type { ChangeEvent, ConnectField, ConnectSchema, Row } from '../../types.ts';
import { globToRegExp } from '../router.ts';
import { headerText } from './envelope-fields.ts';
import { expandJson } from './json-expand.ts';
import type { Transform, TransformContext } from './transform.ts';

interface Placement {
  column: string;
  placement: 'header' | 'envelope' | 'partition';
  alias: string;
}

const STRING_SCHEMA: ConnectSchema = { type: 'string', optional: false };

export function createOutbox(config: OutboxConfig, context: TransformContext): Transform {
  const tables = config.tables.map(globToRegExp);
  const placements = config.table_fields_additional_placement.map((entry): Placement => {
    const [column, placement, alias] = entry.split(':');
    return { column, placement: placement as Placement['placement'], alias: alias ?? column };
  });
  const envelopeFields = placements.filter((p) => p.placement === 'envelope');
  const regex = new RegExp(`^(?:${config.route_topic_regex})$`);
  // Java's `${name}` group reference (and our `{name}`) is JavaScript's `$<name>`; `$1` is the same in both.
  const replacement = config.route_topic_replacement.replace(/\$?\{(\w+)\}/g, '$$<$1>');
  const valueSchemas = new Map<string, ConnectSchema>();
  const logger = context.logger.child({ sink: context.sink, transform: 'outbox' });

  const fieldOf = (schema: ConnectSchema, name: string): ConnectSchema | undefined => {
    const found = schema.fields?.find((f) => f.field === name);
    if (found === undefined) return undefined;
    const { field: _name, ...rest } = found;
    return rest;
  };

  /** Debezium caches the envelope schema by the payload schema: the first routed value names it for all. */
  const envelopeSchemaOf = (payloadSchema: ConnectSchema, tableValue: ConnectSchema, routed: string, version: number | undefined): ConnectSchema => {
    const id = `${JSON.stringify(payloadSchema)}\u0000${version ?? ''}`;
    let schema = valueSchemas.get(id);
    if (schema === undefined) {
      const original = tableValue.name ?? '';
      const dot = original.lastIndexOf('.');
      const name = dot >= 0 ? `${original.slice(0, dot + 1)}${routed}.${original.slice(dot + 1)}` : original ? `${routed}.${original}` : routed;
      const fields: ConnectField[] = [{ ...payloadSchema, field: 'payload' }];
      for (const p of envelopeFields) {
        const column = fieldOf(tableValue, p.column);
        if (column !== undefined) fields.push({ ...column, field: p.alias });
      }
      schema = { type: 'struct', optional: false, name, ...(version !== undefined ? { version } : {}), fields };
      if (valueSchemas.size >= 10_000) valueSchemas.clear();
      valueSchemas.set(id, schema);
    }
    return schema;
  };

  const timestampOf = (event: ChangeEvent, after: Row): bigint => {
    const tsMs = (event.tsNs ?? event.tsUs * 1000n) / 1_000_000n;
    if (config.table_field_event_timestamp === undefined) return tsMs;
    const value = after[config.table_field_event_timestamp];
    if (value === null || value === undefined) return tsMs;
    const name = fieldOf(event.schemas.value, config.table_field_event_timestamp)?.name;
    const n = BigInt(value as number | bigint);
    if (name === 'io.debezium.time.MicroTimestamp') return n / 1000n;
    if (name === 'io.debezium.time.NanoTimestamp') return n / 1_000_000n;
    return n;
  };

  const unexpectedUpdate = (event: ChangeEvent): void => {
    const where = { table: `${event.schema}.${event.table}`, lsn: formatLsn(event.lsn) };
    if (config.table_op_invalid_behavior === 'fatal') {
      throw new OperatorError(`outbox: unexpected update of an outbox row in ${where.table} at ${where.lsn}`, {
        hint: 'outbox rows are inserted (and maybe deleted), never updated; set table_op_invalid_behavior: warn to skip updates',
      });
    }
    if (config.table_op_invalid_behavior === 'error') logger.error(where, 'unexpected update of an outbox row; ignored');
    else logger.warn(where, 'unexpected update of an outbox row; ignored');
  };

  return {
    needsRecords: true,
    apply(event) {
      if (event.op === 'm') return event;
      if (!tables.some((t) => t.test(`${event.schema}.${event.table}`))) return event;
      if (event.op === 'd' || event.op === 't') return null;
      if (event.op === 'u') {
        unexpectedUpdate(event);
        return null;
      }
      const after = event.after ?? {};
      const tableValue = event.schemas.value;
      let payloadSchema = fieldOf(tableValue, config.table_field_event_payload);
      if (payloadSchema === undefined) throw missingColumn(event, config.table_field_event_payload, 'table_field_event_payload');
      let payload = after[config.table_field_event_payload] ?? null;
      const headers: Array<[string, string | null]> = [['id', headerText(after[config.table_field_event_id])]];
      if (config.table_expand_json_payload) {
        const expanded = typeof payload === 'string' ? expandJson(payload, config.table_field_event_payload) : null;
        if (expanded !== null) ({ schema: payloadSchema, value: payload } = expanded);
        else if (payload !== null) logger.warn({ table: `${event.schema}.${event.table}`, lsn: formatLsn(event.lsn) }, 'JSON expansion failed: the payload is no JSON object; written as it is');
      }
      const routed = String(after[config.route_by_field] ?? '');
      let value: { schema: ConnectSchema; value: unknown } = { schema: payloadSchema, value: payload };
      if (envelopeFields.length > 0) {
        const version = config.table_field_event_schema_version === undefined ? undefined : Number(after[config.table_field_event_schema_version]);
        const struct: Row = { payload };
        for (const p of envelopeFields) if (p.column in after) struct[p.alias] = after[p.column];
        value = { schema: envelopeSchemaOf(payloadSchema, tableValue, routed, version), value: struct };
      }
      let partition: number | undefined;
      for (const p of placements) {
        if (p.placement === 'header') headers.push([p.alias, headerText(after[p.column])]);
        else if (p.placement === 'partition') partition = Number(after[p.column]);
      }
      const empty = payload === null || (typeof payload === 'string' && /^[\u0000-\u0020]*$/.test(payload));
      const keySchema = fieldOf(tableValue, config.table_field_event_key);
      return {
        ...event,
        record: {
          topic: regex.test(routed) ? routed.replace(regex, replacement) : routed,
          key: keySchema === undefined ? { schema: STRING_SCHEMA, value: null } : { schema: keySchema, value: after[config.table_field_event_key] ?? null },
          value: empty && config.route_tombstone_on_empty_payload ? null : value,
          headers,
          tombstone: false,
          timestamp: timestampOf(event, after),
          ...(partition !== undefined ? { partition } : {}),
        },
      };
    },
    async check(describeTable) {
      const needed = [
        config.table_field_event_id, config.table_field_event_key, config.table_field_event_payload, config.route_by_field,
        ...placements.map((p) => p.column),
        ...(config.table_field_event_timestamp ? [config.table_field_event_timestamp] : []),
        ...(config.table_field_event_schema_version ? [config.table_field_event_schema_version] : []),
      ];
      for (const glob of config.tables) {
        if (/[*?]/.test(glob)) continue; // a glob names no one table to check
        const [schema, table] = glob.split('.');
        const described = await describeTable({ schema, table });
        if (described === null) {
          logger.warn({ table: glob }, 'outbox table does not exist (yet); its columns are not checked');
          continue;
        }
        const missing = [...new Set(needed)].filter((c) => !described.columns.includes(c));
        if (missing.length > 0) {
          throw new OperatorError(`sink "${context.sink}": outbox table ${glob} has no column ${missing.join(', ')}`, {
            hint: `${glob} has ${described.columns.join(', ')}; name its columns with table_field_event_* / route_by_field in the sink file`,
          });
        }
      }
    },
  };
}

function missingColumn(event: ChangeEvent, column: string, option: string): OperatorError {
  return new OperatorError(`outbox: ${event.schema}.${event.table} has no column "${column}"`, {
    hint: `set ${option} to the outbox table's column, or leave the table out of the outbox transform's tables`,
  });
}
