/**
 * Index mappings derived from a table's Connect schema (for `create_index: true`
 * without `mapping_file`): the Elasticsearch field type that holds what
 * elasticsearch-documents.ts writes for the column.
 */
import type { ConnectSchema } from '../../src/types.ts';

export type FieldMapping = Record<string, unknown>;

export function fieldMapping(schema: ConnectSchema): FieldMapping | null {
  switch (schema.name) {
    case 'org.apache.kafka.connect.data.Decimal':
    case 'io.debezium.data.VariableScaleDecimal':
      // Exact decimal text: a keyword keeps it exact; ranges need a numeric copy the user maps.
      return { type: 'keyword' };
    case 'io.debezium.data.Json':
      return { type: 'object', dynamic: true };
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return { type: 'date', format: 'strict_date' };
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
    case 'io.debezium.time.MicroTimestamp':
    case 'io.debezium.time.NanoTimestamp':
    case 'io.debezium.time.ZonedTimestamp':
      // `date` (millisecond precision) rather than `date_nanos`, which refuses dates before 1970.
      return { type: 'date' };
    case 'io.debezium.time.Time':
    case 'io.debezium.time.MicroTime':
    case 'io.debezium.time.ZonedTime':
    case 'org.apache.kafka.connect.data.Time':
    case 'io.debezium.time.Interval':
    case 'io.debezium.data.Uuid':
    case 'io.debezium.data.Enum':
    case 'io.debezium.data.Ltree':
      return { type: 'keyword' };
    case 'io.debezium.data.Bits':
      return { type: 'binary' };
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
      return { type: 'byte' };
    case 'int16':
      return { type: 'short' };
    case 'int32':
      return { type: 'integer' };
    case 'int64':
      return { type: 'long' };
    case 'float32':
      return { type: 'float' };
    case 'float64':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
    case 'bytes':
      return { type: 'binary' };
    case 'array':
      // Elasticsearch fields are multi-valued: an array maps as its items.
      return schema.items ? fieldMapping(schema.items) : null;
    case 'map':
      return { type: 'object', dynamic: true };
    case 'struct': {
      const properties: Record<string, FieldMapping> = {};
      for (const f of schema.fields ?? []) {
        const m = fieldMapping(f);
        if (m) properties[f.field] = m;
      }
      return { properties };
    }
    default:
      return null;
  }
}

/** `mappings` of a table's index: one property per column of the row's Value struct (after column selection). */
export function tableMappings(value: ConnectSchema, keep: (column: string) => boolean, metadataPrefix: string | null): Record<string, unknown> {
  const properties: Record<string, FieldMapping> = {};
  for (const f of value.fields ?? []) {
    if (!keep(f.field)) continue;
    const m = fieldMapping(f);
    if (m) properties[f.field] = m;
  }
  if (metadataPrefix !== null) {
    properties[`${metadataPrefix}_op`] = { type: 'keyword' };
    properties[`${metadataPrefix}_lsn`] = { type: 'unsigned_long' };
    properties[`${metadataPrefix}_source_ts_ms`] = { type: 'date', format: 'epoch_millis' };
    properties[`${metadataPrefix}_txid`] = { type: 'long' };
  }
  return { properties };
}
