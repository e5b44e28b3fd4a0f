/**
 * `unwrap`: Debezium's ExtractNewRecordState. The record value becomes the
 * row (`after`); deletes, tombstones and truncates as
 * `delete_tombstone_handling_mode` says; `add_fields` / `add_headers` copy
 * envelope fields into the value / headers.
 *
 * Schemas as Debezium's SMT leaves them for JsonConverter: with nothing added
 * the value schema is the table's optional `.Value` struct; once a field is
 * added (`__deleted`, add_fields) it is a copy with the same name, not
 * optional (SchemaUtil.copySchemaBasics keeps no `optional`), the added fields
 * optional strings / their envelope field's type.
 *
 * Row sinks (Elasticsearch, Redis) see the same rows: added fields land in
 * documents and cached values, a rewritten delete becomes an update of the
 * row with `__deleted: "true"` (a soft delete), a dropped delete is not applied.
 */
import { deleteTombstoneMode, type UnwrapConfig } from '../../config/transform-schema.ts';
import { envelopeSchema, field, schema as connectSchema, withOptional } from '../../normalize/connect-schemas.ts';
import type { ChangeEvent, ConnectSchema, Row, TableSchemas } from '../../types.ts';
import { fieldReference, headerText } from './envelope-fields.ts';
import type { Transform } from './transform.ts';

const DELETED_FIELD = '__deleted';

export function createUnwrap(config: UnwrapConfig): Transform {
  const mode = deleteTombstoneMode(config);
  const rewrite = mode === 'rewrite' || mode === 'rewrite-with-tombstone';
  const fields = config.add_fields.map((entry) => fieldReference(config.add_fields_prefix, entry));
  const headers = config.add_headers.map((entry) => fieldReference(config.add_headers_prefix, entry));
  const schemasCache = new WeakMap<TableSchemas, TableSchemas>();

  /** The table's schemas with the value schema as this transform writes rows. */
  const schemasOf = (schemas: TableSchemas): TableSchemas => {
    if (!rewrite && fields.length === 0) return schemas;
    let out = schemasCache.get(schemas);
    if (out === undefined) {
      const { optional: _optional, fields: columns, ...basics } = schemas.value;
      const added = [
        ...(rewrite ? [field(DELETED_FIELD, connectSchema('string', true))] : []),
        ...fields.map((f) => field(f.name, f.schema)),
      ];
      const value: ConnectSchema = { ...basics, type: 'struct', optional: false, fields: [...(columns ?? []), ...added] };
      // Sinks that still write an envelope of the row (Redis streams) describe the rewritten row in it.
      out = { ...schemas, value, envelope: envelopeSchema(schemas.topicStem, withOptional(value, true)) };
      schemasCache.set(schemas, out);
    }
    return out;
  };

  const rowOf = (event: ChangeEvent, base: Row, deleted: string): Row => {
    const row: Row = { ...base };
    if (rewrite) row[DELETED_FIELD] = deleted;
    for (const f of fields) row[f.name] = f.valueOf(event);
    return row;
  };

  const headersOf = (event: ChangeEvent): Array<[string, string | null]> => headers.map((h) => [h.name, headerText(h.valueOf(event))]);

  return {
    apply(event) {
      // Logical decoding messages are no row envelope: Debezium's SMT passes them as they are.
      if (event.op === 'm') return event;
      // A truncate has neither row: ExtractNewRecordState drops it.
      if (event.op === 't') return null;
      if (event.op !== 'd') {
        const schemas = schemasOf(event.schemas);
        const after = rowOf(event, event.after ?? {}, 'false');
        return { ...event, schemas, after, record: { value: { schema: schemas.value, value: after }, headers: headersOf(event), tombstone: false } };
      }
      switch (mode) {
        case 'drop':
          return null;
        case 'tombstone':
          // ExtractField on `after`: the after schema with a null value (JsonConverter prints a null payload).
          return { ...event, record: { value: { schema: event.schemas.value, value: null }, headers: headersOf(event), tombstone: false } };
        case 'delete-to-tombstone':
          return { ...event, record: { value: null, headers: headersOf(event), tombstone: false } };
        default: {
          const schemas = schemasOf(event.schemas);
          const after = rowOf(event, event.before ?? {}, 'true');
          return {
            ...event, op: 'u', schemas, after,
            record: {
              value: { schema: schemas.value, value: after }, headers: headersOf(event), tombstone: mode === 'rewrite-with-tombstone',
              // Debezium's tombstone shares the delete's header list, which the SMT already filled; applied to
              // the tombstone (no envelope), it adds the `op` headers once more, as "d".
              tombstoneHeaders: [...headersOf(event), ...headers.filter((h) => h.isOp).map((h) => [h.name, 'd'] as const)],
            },
          };
        }
      }
    },
  };
}
