/**
 * Logical decoding messages (`pg_logical_emit_message`) → Debezium `op: m`
 * events on topic `<prefix>.message`: key MessageKey `{prefix}`, value
 * MessageValue `{op, ts_ms, source, transaction, message{prefix, content}}`,
 * content per binary.handling.mode. `source.schema`/`table` are empty strings.
 *
 * A non-transactional message has no xid and no commit time; its `source.ts_*`
 * is the processing time (Debezium leaves whatever commit time it saw last, or
 * the current time if none).
 */
import type { ChangeEvent, TableSchemas } from '../types.ts';
import { encodeBinary } from './binary.ts';
import { clockNs, sourceInfo, type EventContext } from './change-events.ts';
import { messageSchemas } from './connect-schemas.ts';
import type { NormalizeOptions } from './options.ts';
import { topicStem } from './table-model.ts';

export interface MessageModel {
  schemas: TableSchemas;
  binaryHandlingMode: NormalizeOptions['binaryHandlingMode'];
}

/** Built once per options: the message schemas do not depend on anything else. */
export function buildMessageModel(options: NormalizeOptions): MessageModel {
  const { key, value } = messageSchemas(options.binaryHandlingMode);
  return {
    schemas: { topicStem: topicStem(options.topicPrefix, 'message'), key, value, envelope: value },
    binaryHandlingMode: options.binaryHandlingMode,
  };
}

export function normalizeMessage(
  model: MessageModel,
  message: { prefix: string; content: Buffer; transactional: boolean },
  options: Pick<NormalizeOptions, 'topicPrefix' | 'database' | 'debeziumVersion'>,
  ctx: EventContext,
): ChangeEvent {
  const nowNs = ctx.nowNs ?? clockNs();
  const tx = message.transactional ? ctx.tx : { ...ctx.tx, xid: null, commitTimeUs: null };
  const local: EventContext = { ...ctx, tx };
  return {
    op: 'm',
    schema: '',
    table: '',
    key: { prefix: message.prefix },
    before: null,
    after: null,
    source: sourceInfo(options, local, '', '', nowNs),
    message: { prefix: message.prefix, content: encodeBinary(message.content, model.binaryHandlingMode) },
    tsUs: nowNs / 1000n,
    tsNs: nowNs,
    schemas: model.schemas,
    lsn: ctx.lsn,
    commitLsn: message.transactional ? tx.finalLsn : 0n,
    size: 512 + message.prefix.length + message.content.length * 2,
  };
}
