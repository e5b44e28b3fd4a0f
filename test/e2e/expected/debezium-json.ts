/**
 * The records Debezium 3.6.1 writes through Kafka Connect's JsonConverter, as
 * text, in the canonical form of ../envelope-support.ts (run-dependent numbers
 * as `<ts_ms>`, `<lsn>`, … placeholders). Written out from
 * shared/reference/debezium.md §1–2 and Debezium's SchemaFactory /
 * PostgresSourceInfoStructMaker / PostgresSchemaFactory, never from slotline's
 * code: the envelope tests compare slotline's output with these strings.
 *
 * Schema node keys come in JsonConverter's order: type, fields, optional,
 * name, version, parameters, default, then field.
 */

export const DEBEZIUM_VERSION = '3.6.1.Final';

/** `io.debezium.connector.postgresql.Source` as the `source` member of an envelope (shared/reference/debezium.md §2). */
export const SOURCE_FIELD_SCHEMA =
  '{"type":"struct","fields":['
  + '{"type":"string","optional":false,"field":"version"},'
  + '{"type":"string","optional":false,"field":"connector"},'
  + '{"type":"string","optional":false,"field":"name"},'
  + '{"type":"int64","optional":false,"field":"ts_ms"},'
  + '{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,'
  + '"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},'
  + '{"type":"string","optional":false,"field":"db"},'
  + '{"type":"string","optional":true,"field":"sequence"},'
  + '{"type":"int64","optional":true,"field":"ts_us"},'
  + '{"type":"int64","optional":true,"field":"ts_ns"},'
  + '{"type":"string","optional":false,"field":"schema"},'
  + '{"type":"string","optional":false,"field":"table"},'
  + '{"type":"int64","optional":true,"field":"txId"},'
  + '{"type":"int64","optional":true,"field":"lsn"},'
  + '{"type":"int64","optional":true,"field":"xmin"},'
  + '{"type":"string","optional":true,"field":"origin"},'
  + '{"type":"int64","optional":true,"field":"origin_lsn"}'
  + '],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"}';

export const TRANSACTION_FIELD_SCHEMA =
  '{"type":"struct","fields":['
  + '{"type":"string","optional":false,"field":"id"},'
  + '{"type":"int64","optional":false,"field":"total_order"},'
  + '{"type":"int64","optional":false,"field":"data_collection_order"}'
  + '],"optional":true,"name":"event.block","version":1,"field":"transaction"}';

const j = (s: string): string => JSON.stringify(s);

/** `<stem>.Envelope` version 2 whose before/after are `<stem>.Value` with `valueFields` (JSON text of the field nodes). */
export function envelopeSchema(stem: string, valueFields: string[]): string {
  const row = (name: string): string => `{"type":"struct","fields":[${valueFields.join(',')}],"optional":true,"name":${j(`${stem}.Value`)},"field":"${name}"}`;
  return `{"type":"struct","fields":[${row('before')},${row('after')},${SOURCE_FIELD_SCHEMA},${TRANSACTION_FIELD_SCHEMA},`
    + '{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},'
    + '{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],'
    + `"optional":false,"name":${j(`${stem}.Envelope`)},"version":2}`;
}

export function keySchema(stem: string, keyFields: string[]): string {
  return `{"type":"struct","fields":[${keyFields.join(',')}],"optional":false,"name":${j(`${stem}.Key`)}}`;
}

export const MESSAGE_KEY_SCHEMA =
  '{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey","version":1}';

/** MessageValue with `binary.handling.mode=bytes` content. */
export const MESSAGE_VALUE_SCHEMA =
  '{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},'
  + `${SOURCE_FIELD_SCHEMA},${TRANSACTION_FIELD_SCHEMA},`
  + '{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},{"type":"bytes","optional":true,"field":"content"}],'
  + '"optional":false,"name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}'
  + '],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue","version":1}';

/** A schema field node: `field("int32", false, "id")`, extras (name, version, parameters, default) in JsonConverter order. */
export function field(type: string, optional: boolean, name: string, extra = ''): string {
  return `{"type":"${type}","optional":${optional}${extra === '' ? '' : `,${extra}`},"field":${j(name)}}`;
}

export interface SourceSpec {
  prefix: string;
  db: string;
  schema: string;
  table: string;
  /** false for non-transactional messages (txId null). */
  transactional?: boolean;
}

/** The canonical `source` payload. */
export function sourcePayload(s: SourceSpec): string {
  return `{"version":"${DEBEZIUM_VERSION}","connector":"postgresql","name":${j(s.prefix)},"ts_ms":<ts_ms>,"snapshot":"false",`
    + `"db":${j(s.db)},"sequence":"<sequence>","ts_us":<ts_us>,"ts_ns":<ts_ns>,"schema":${j(s.schema)},"table":${j(s.table)},`
    + `"txId":${s.transactional === false ? 'null' : '<txId>'},"lsn":<lsn>,"xmin":null,"origin":null,"origin_lsn":null}`;
}

/** The canonical envelope payload; `before`/`after` are JSON text or null. */
export function envelopePayload(op: 'c' | 'u' | 'd' | 't', before: string | null, after: string | null, source: SourceSpec): string {
  return `{"before":${before ?? 'null'},"after":${after ?? 'null'},"source":${sourcePayload(source)},"transaction":null,`
    + `"op":"${op}","ts_ms":<ts_ms>,"ts_us":<ts_us>,"ts_ns":<ts_ns>}`;
}

/** The canonical MessageValue payload (content already base64 for bytes mode). */
export function messagePayload(prefix: string, content: string, source: SourceSpec): string {
  return `{"op":"m","ts_ms":<ts_ms>,"source":${sourcePayload({ ...source, schema: '', table: '' })},"transaction":null,`
    + `"message":{"prefix":${j(prefix)},"content":${j(content)}}}`;
}

/** JsonConverter's record text: `{schema, payload}` when schemas are enabled, else the payload alone. */
export function record(schema: string, payload: string, schemas: boolean): string {
  return schemas ? `{"schema":${schema},"payload":${payload}}` : payload;
}

/** Headers of a record with a transaction id (every record but non-transactional messages). */
export const TX_HEADERS = { 'slotline.lsn': '<lsn>', 'slotline.txid': '<txId>' } as const;
