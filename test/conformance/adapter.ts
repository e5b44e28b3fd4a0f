/**
 * What the conformance suite (./suite.ts) needs from a sink: one adapter per
 * sink type (./adapters/), so every behaviour is written once and every sink
 * is held to it.
 *
 * Every run captures one table, `public.items (id, seq, payload)`, written by
 * the failure tests' load (test/e2e/failure-support.ts): each change of a key
 * carries the key's event number, 1, 2, 3, … An adapter reads back what its
 * sink holds in that one shape, SinkContents.
 */
import type { Run } from './run.ts';

/** What a sink holds for `public.items`. */
export interface SinkContents {
  /** The row each present key has in the sink: its `seq`. A deleted key is absent. */
  rows: Map<number, number>;
  /**
   * Sinks that keep every change (a log: Kafka, console): each key's event
   * numbers in the order the sink holds them. Absent for sinks that keep only
   * the latest row (Redis, Elasticsearch).
   */
  history?: Map<number, number[]>;
}

export interface BadRecord {
  /** A payload every run's sink takes, and one it rejects (after `prepare`). */
  goodPayload: string;
  badPayload: string;
  /** Makes the sink reject `badPayload` for this run (an index mapping, a topic's max.message.bytes). */
  prepare(run: Run): Promise<void>;
  /** The on_record_error settings the sink has, each with the sink file lines that choose it. */
  modes: { fail(run: Run): string; dead_letter?(run: Run): string };
  /** What `fail` stops the worker with, and its hint. */
  fails: { message: RegExp; hint: RegExp };
  /** With `dead_letter`: the ids of the rows the sink has dead-lettered, with their reasons. */
  deadLetters?(run: Run): Promise<Array<{ id: number; reason: string }>>;
}

export interface SinkAdapter {
  /** The sink's `type`, also its name in the sink file. */
  type: string;
  /** Starts what this sink file's runs use (a private server, which `break` may stop). */
  start(): Promise<void>;
  close(): Promise<void>;
  /** The sink file's keys after `name` and `type`, for `run` (its topic prefix names topics, indexes, key prefixes). */
  sinkYaml(run: Run): string;
  /** Before the worker starts (e.g. the topic a reader subscribes to). */
  prepare?(run: Run): Promise<void>;
  /** After the run's test (its readers closed). */
  finish?(run: Run): Promise<void>;
  /** What the sink holds for the run now. */
  read(run: Run): Promise<SinkContents>;
  /** Takes the sink away (the server stopped, the stream not read) while `run`'s worker goes on… */
  break(run: Run): Promise<void>;
  /** …and brings it back. */
  restore(run: Run): Promise<void>;
  /**
   * A record the sink rejects, or null for a sink that rejects none (console,
   * Redis): it has no on_record_error key, and refuses one in its sink file.
   */
  badRecord: BadRecord | null;
  /** Sink file keys (replacing `sinkYaml`) that a person must fix, and what the worker stops with. */
  operatorError: { sinkYaml(run: Run): string; message: RegExp; hint: RegExp };
}

/** SinkContents of a log of Debezium values (schemas off), in log order; tombstones (null) are skipped. */
export function logContents(values: ReadonlyArray<{ op: string; before: any; after: any } | null>): SinkContents {
  const rows = new Map<number, number>();
  const history = new Map<number, number[]>();
  for (const value of values) {
    if (value === null) continue;
    const row = value.op === 'd' ? value.before : value.after;
    const event = value.op === 'd' ? row.seq + 1 : row.seq;
    const events = history.get(row.id) ?? [];
    events.push(event);
    history.set(row.id, events);
    if (value.op === 'd') rows.delete(row.id);
    else rows.set(row.id, row.seq);
  }
  return { rows, history };
}
