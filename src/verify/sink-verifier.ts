/**
 * The contract between `slotline verify` (src/verify/) and a sink type: how a
 * row should look in the sink, and how to read what the sink holds. Each
 * connector implements it beside its sink (connectors/<type>/<type>-verify.ts)
 * with the sink's own mapping code, so the comparison is with exactly what the
 * sink would write. The core reads the tables, keeps the consistent point and
 * decides what a difference means; a verifier only maps and reads.
 */
import type { Logger } from 'pino';
import type { Lsn } from '../lsn.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { TableName } from '../source/pg-catalog.ts';
import type { ChangeEvent, Row } from '../types.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One entry a row should leave in the sink: a document, a Redis key, the latest record of a Kafka key. */
export interface Expectation {
  /** Where the entry lives, unique across the sink (index and id, a Redis key, topic and key). */
  address: string;
  /** The same for people: `index/id`, the key. */
  label: string;
  /** The extras scan that covers this address (an index, a key pattern, a topic). */
  space: string;
  /** The content it must hold (parsed JSON); undefined when only its presence can be judged. */
  value?: Json;
  /** False when the entry may be absent without drift (a cache entry with a TTL, an invalidated key). */
  required: boolean;
  /**
   * Per field, the JSON form of the unchanged-TOAST placeholder: a sink that
   * writes change events as they come (Kafka, Redis refresh) holds it for a
   * column an update did not send, and such a field cannot be compared.
   */
  placeholders?: Readonly<Record<string, Json>>;
}

/** What the sink holds at one address. */
export interface Held {
  present: boolean;
  /**
   * The content, when present. Left out by a sink that keeps only a
   * fingerprint (Kafka): then `differs` says whether it matched.
   */
  value?: Json;
  differs?: boolean;
  /**
   * A WAL position of the transaction that wrote the entry (a change's or a
   * commit's LSN), when the sink keeps one: at or past a consistent point, it
   * was written by a transaction the snapshot at that point could not see.
   */
  lsn: Lsn | null;
}

/** An entry a space holds that no row claims (yet): a candidate extra. */
export interface Unclaimed {
  address: string;
  label: string;
  lsn: Lsn | null;
}

export interface VerifierContext {
  logger: Logger;
  /** Debezium `topic.prefix`. */
  topicPrefix: string;
  normalize: NormalizeOptions;
  schemasEnable: boolean;
  tombstonesOnDelete: boolean;
}

export interface SinkVerifier {
  /** Connects and checks the sink can be read, for these tables; OperatorError with a hint when it cannot. */
  start(tables: readonly TableName[]): Promise<void>;
  /**
   * The spaces a table's entries go to, from its name alone. Extras are looked
   * for only in spaces whose every table is verified in this run.
   */
  spaces(table: TableName): string[];
  /**
   * What a row (a snapshot read, `op: r`) should leave in the sink; `toast` is
   * the row of unchanged-TOAST placeholders of its table (for `placeholders`).
   * Pure; empty when the sink keeps nothing for this row.
   */
  expect(row: ChangeEvent, toast: Row): Expectation[];
  /**
   * Called once the sink has everything up to a position, before reads that
   * must see it: a sink read as a log (Kafka) reads up to its end now.
   */
  catchUp?(): Promise<void>;
  /** What the sink holds at these addresses, in the same order. Up to a few thousand at a time. */
  read(entries: readonly Expectation[]): Promise<Held[]>;
  /**
   * Every entry of `space` that no row claims: `claimed` takes the
   * fingerprint (src/verify/fingerprints.ts) of an address. Called after the
   * tables were read, so it knows every row's addresses; an entry found is
   * re-read by address with `read()` (value undefined, not required).
   */
  unclaimed(space: string, claimed: (fingerprint: number) => boolean): AsyncIterable<Unclaimed>;
  /** What this run could not check, for the report (e.g. invalidation rules). */
  notes(): string[];
  /** Disconnects; errors are ignored. */
  stop(): Promise<void>;
}
