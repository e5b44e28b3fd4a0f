/**
 * The contract between the runtime and a sink (connectors/<type>/).
 *
 * A sink connects, writes batches, and closes. It does not retry, back off or
 * dead-letter: the runtime wraps it for that (STYLE.md, habit 3). It throws
 * SlotlineError subclasses (src/errors.ts) so the wrapper knows what to do:
 * RetryableError → retry the same batch; OperatorError → stop with the hint;
 * RecordError → that one event is bad (dead-letter or fail, by config).
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Lsn } from './lsn.ts';
import type { TransformConfig } from './config/transform-schema.ts';
import type { ChangeEvent } from './types.ts';
import type { NormalizeOptions } from './normalize/options.ts';
import type { TableName } from './source/pg-catalog.ts';
import type { TableDescription } from './source/pg-table-describer.ts';
import type { SinkVerifier, VerifierContext } from './verify/sink-verifier.ts';

export type { TableDescription, TableName };

export interface Sink {
  readonly name: string;
  /**
   * Ask the runtime to end this sink's batches only at transaction ends, so a
   * write holds whole transactions. A transaction larger than a quarter of the
   * in-flight ceiling still comes in chunks (waiting longer would stall the
   * slot); its commit is listed only in the write of its last chunk.
   */
  readonly wholeTransactions?: boolean;
  /**
   * Lets the runtime call write() once more while a write is in flight, with
   * the next full batch, so the sink can prepare it while the last one is on
   * the wire. The sink must send nothing of it before the write before it
   * succeeded, and must reject it when that write failed; the runtime still
   * acknowledges writes in order, and after a failure writes both again, in
   * order. Ignored for a sink that asks for whole transactions.
   */
  readonly writesAhead?: boolean;
  /** Writes records (topic, key, value, headers) — Kafka, console — so a transform's `ChangeEvent.record` is honoured. */
  readonly writesRecords?: boolean;
  /** Called once before the first write. Connects and checks settings; throws OperatorError for what a person must fix. */
  start(): Promise<void>;
  /**
   * Called with events in commit order, one call at a time (see writesAhead). Resolves only when
   * every event is durably accepted: the checkpoint passes these events after that.
   * A rejected write may have applied part of the batch; the runtime retries the
   * whole batch, so sinks must tolerate duplicates (DESIGN.md, invariant 3).
   */
  write(events: ChangeEvent[], info: WriteInfo): Promise<void>;
  /** Flushes and disconnects. Called once; errors are logged, not retried. */
  stop(): Promise<void>;
}

/** What a write covers besides its events. */
export interface WriteInfo {
  /**
   * The transactions whose commit falls in this batch, in commit order:
   * `commitLsn` is Begin's final LSN (as on their events; 0n for a
   * non-transactional message), `endLsn` the position the checkpoint passes once
   * this write resolves. Events of a transaction not listed here continue in a
   * later write.
   */
  commits: ReadonlyArray<{ commitLsn: Lsn; endLsn: Lsn }>;
}

/** Settings every sink file has, whatever its type. */
export interface SinkCommonConfig {
  name: string;
  type: string;
  /** Globs of `schema.table` to route to this sink. */
  tables: string[];
  exclude_tables: string[];
  /** Also route logical decoding messages (op 'm'). */
  messages: boolean;
  /** Applied in order to this sink's events before it writes them (src/route/transforms/). */
  transforms?: TransformConfig[];
}

export interface SinkContext {
  logger: Logger;
  /** Debezium `topic.prefix` (the server name). */
  topicPrefix: string;
  normalize: NormalizeOptions;
  /** Global `schemas_enable` (JsonConverter form); a sink file may override it. */
  schemasEnable: boolean;
  /** Global `tombstones_on_delete`; a sink file may override it. */
  tombstonesOnDelete: boolean;
  /**
   * The source table's columns, event key, and what its old rows carry, as
   * the catalog says now; null when no such table exists. For checks in
   * start() (e.g. templates naming columns). Names are exact, as stored in
   * the catalog (no quoting, no case folding). Rejects on a connection
   * problem: treat that as retryable. The answer can go stale (ALTER TABLE
   * after start-up), so a sink still checks what events actually carry.
   */
  describeTable(name: TableName): Promise<TableDescription | null>;
  /** Counts records this sink sent to its dead-letter destination (for metrics). */
  deadLettered?(count: number): void;
}

/** Where a sink keeps its own position, for `slotline status`. */
export interface StoredCheckpoint {
  /** Where it is stored, for people (no credentials), e.g. `redis://host:6379 key slotline:checkpoint:cache`. */
  where: string;
  /** The stored position; null when nothing is stored yet, or it cannot be summed up in one LSN (then `note` says why). */
  lsn: Lsn | null;
  note?: string;
}

/** One entry of the connector registry (connectors/index.ts). */
/** A key of a sink file (as a path) that must change before the file can serve several sources, and why. */
export interface SharingProblem {
  path: Array<string | number>;
  message: string;
}

export interface SinkPlugin<C extends SinkCommonConfig = SinkCommonConfig> {
  type: string;
  description: string;
  /** zod schema of the type-specific keys; merged with the common keys by src/config. */
  configSchema: z.ZodObject;
  /** Builds the sink; loads its client library on first use, so a config pays only for the sinks it names. */
  create(config: C, context: SinkContext): Promise<Sink>;
  /**
   * Reads the checkpoint the sink stores itself (sinks that have one), on a
   * short connection of its own. Rejects when the sink cannot be reached.
   * Sinks without such a position (versions per document, offsets per
   * record) leave it out and say so in `checkpointNote`.
   */
  readCheckpoint?(config: C, topicPrefix: string): Promise<StoredCheckpoint>;
  /** For sinks without readCheckpoint: what stands for a position instead. */
  checkpointNote?: string;
  /**
   * Where this sink keeps its own checkpoint, as a text that is equal for two
   * sink files exactly when they would share it (and each would skip or
   * fence what the other wrote); null when this file keeps none.
   * `slotline replay` refuses a shadow sink that shares a production sink's.
   */
  checkpointLocation?(config: C, topicPrefix: string): string | null;
  /**
   * What this file must change to serve several sources (`sources:`), each
   * as the key to change and why; the loader refuses the config until then.
   * Leave out when one file can serve any number of sources as it is.
   */
  sharingProblems?(config: C): SharingProblem[];
  /**
   * Reads the sink back for `slotline verify` (src/verify/sink-verifier.ts),
   * with the sink's own mapping code. Sinks that cannot be read back leave it out.
   */
  verifier?(config: C, context: VerifierContext): Promise<SinkVerifier>;
}
