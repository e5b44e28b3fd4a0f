/**
 * The stateful side of normalization: the relation cache of one replication
 * session and the catalog look-ups it needs. The conversions themselves are
 * the pure functions in src/normalize/.
 */
import type { Logger } from 'pino';
import type { Lsn } from '../lsn.ts';
import { normalizeDelete, normalizeInsert, normalizeTruncate, normalizeUpdate, type TxContext } from '../normalize/change-events.ts';
import { buildMessageModel, normalizeMessage } from '../normalize/logical-message.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { buildTableModel, type TableModel } from '../normalize/table-model.ts';
import type { TypeCatalog } from '../source/type-catalog.ts';
import type { ChangeEvent, PgoutputMessage, Relation } from '../types.ts';

export type { TxContext };

type RowMessage = Extract<PgoutputMessage, { tag: 'insert' | 'update' | 'delete' }>;
type TruncateMessage = Extract<PgoutputMessage, { tag: 'truncate' }>;
type LogicalMessage = Extract<PgoutputMessage, { tag: 'message' }>;

export interface ChangeNormalizer {
  /** A Relation message: (re)build the table's model; a promise because types and keys are looked up first. */
  relation(relation: Relation): Promise<void> | void;
  /** The table a relation id names; throws if no Relation message came for it in this session. */
  table(relationId: number): { schema: string; table: string };
  change(message: RowMessage, tx: TxContext, lsn: Lsn): ChangeEvent[];
  truncate(message: TruncateMessage, tx: TxContext, lsn: Lsn): ChangeEvent[];
  /** `tx` is NO_TX (with its lastCommitLsn) for a non-transactional message. */
  message(message: LogicalMessage, tx: TxContext, lsn: Lsn): ChangeEvent;
  /** A new session starts: drop relations (the server sends them again). */
  reset(): void;
}

export interface ChangeNormalizerOptions {
  catalog: TypeCatalog;
  options: NormalizeOptions;
  logger: Logger;
}

/**
 * A table's model as the catalog describes it now: its types resolved, its
 * NOT NULL flags, defaults and key read. For a Relation message of the stream
 * and for a table a snapshot reads alike, so both print rows the same way.
 */
export async function loadTableModel(catalog: TypeCatalog, relation: Relation, options: NormalizeOptions): Promise<TableModel> {
  await catalog.resolve(relation.columns.map((c) => c.typeOid));
  const meta = await catalog.resolveRelation(relation);
  return buildTableModel(relation, (oid) => catalog.lookup(oid), options, meta);
}

/** Context for a non-transactional message: no xid, no commit time. */
export const NO_TX: TxContext = { xid: null, commitTimeUs: null, finalLsn: 0n, lastCommitLsn: null, origin: null };

export function createChangeNormalizer({ catalog, options, logger }: ChangeNormalizerOptions): ChangeNormalizer {
  const models = new Map<number, TableModel>();
  const messageModel = buildMessageModel(options);

  const model = (relationId: number): TableModel => {
    const m = models.get(relationId);
    if (!m) throw new Error(`pgoutput protocol error: change for relation ${relationId} before its Relation message`);
    return m;
  };

  return {
    async relation(relation) {
      const built = await loadTableModel(catalog, relation, options);
      const previous = models.get(relation.relationId);
      if (previous && previous.columns.map((c) => c.name).join() !== built.columns.map((c) => c.name).join()) {
        logger.info({ table: `${relation.schema}.${relation.table}`, columns: built.columns.map((c) => c.name) }, 'table shape changed');
      }
      models.set(relation.relationId, built);
    },
    table(relationId) {
      const { relation } = model(relationId);
      return { schema: relation.schema, table: relation.table };
    },
    change(message, tx, lsn) {
      const m = model(message.relationId);
      const ctx = { tx, lsn };
      switch (message.tag) {
        case 'insert':
          return [normalizeInsert(m, message.newTuple, options, ctx)];
        case 'update':
          return normalizeUpdate(m, message, options, ctx);
        case 'delete':
          return [normalizeDelete(m, message, options, ctx)];
      }
    },
    truncate(message, tx, lsn) {
      return normalizeTruncate(message.relationIds.map(model), options, { tx, lsn });
    },
    message(message, tx, lsn) {
      return normalizeMessage(messageModel, message, options, { tx, lsn });
    },
    reset() {
      models.clear();
    },
  };
}
