/**
 * Envelope fields named the way Debezium's ExtractNewRecordState names them
 * in `add.fields` / `add.headers`: `op`, `ts_ms` at the top level; `table`,
 * `lsn`, … (or `source.lsn`) in `source`; `transaction.id` in `transaction`.
 * The new name is prefix + field, or prefix + struct + "_" + field when the
 * struct was written (`source.ts_ms` → `__source_ts_ms`), or prefix + the
 * name after `:`.
 */
import { SOURCE_SCHEMA, TRANSACTION_SCHEMA, schema as connectSchema } from '../../normalize/connect-schemas.ts';
import type { ChangeEvent, ConnectSchema } from '../../types.ts';

export interface FieldReference {
  /** The name it gets in the value or header. */
  name: string;
  /** Connect schema of the copy: the field's schema, optional, without default (SchemaUtil.copySchemaBasics). */
  schema: ConnectSchema;
  /** The value in an event, without default replacement (Struct.getWithoutDefault). */
  valueOf(event: ChangeEvent): unknown;
  /** It names the envelope's `op` (the one header Debezium adds to a tombstone). */
  isOp: boolean;
}

const TOP_LEVEL = new Set(['op', 'ts_ms', 'ts_us', 'ts_ns']);
const TRANSACTION = new Set(['id', 'total_order', 'data_collection_order']);

export function fieldReference(prefix: string, entry: string): FieldReference {
  const [reference, rename] = entry.split(':');
  const parts = reference.split('.');
  const field = parts.length === 1 ? parts[0] : parts[1];
  const struct = parts.length === 1 ? (TOP_LEVEL.has(field) ? null : TRANSACTION.has(field) ? 'transaction' : 'source') : parts[0];
  const name = prefix + (rename !== undefined ? rename : parts.length === 1 ? field : `${struct}_${field}`);
  if (struct === null) {
    const schema = connectSchema(field === 'op' ? 'string' : 'int64', true);
    return { name, schema, valueOf: (event) => topLevel(event, field), isOp: field === 'op' };
  }
  const parent = struct === 'source' ? SOURCE_SCHEMA : TRANSACTION_SCHEMA;
  const found = parent.fields!.find((f) => f.field === field)!;
  const { field: _name, default: _default, ...basics } = found;
  const schema: ConnectSchema = { ...basics, optional: true };
  if (struct === 'transaction') return { name, schema, valueOf: () => null, isOp: false }; // slotline's envelopes carry no transaction block
  return { name, schema, valueOf: (event) => (event.source as unknown as Record<string, unknown>)[field] ?? null, isOp: false };
}

function topLevel(event: ChangeEvent, field: string): unknown {
  const ns = event.tsNs ?? event.tsUs * 1000n;
  switch (field) {
    case 'op':
      return event.op;
    case 'ts_ms':
      return ns / 1_000_000n;
    case 'ts_us':
      return ns / 1000n;
    default:
      return ns;
  }
}

/** A header value as Kafka Connect's SimpleHeaderConverter writes it: strings as they are, numbers as decimal text. */
export function headerText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}
