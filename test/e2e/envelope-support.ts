/**
 * What the envelope end-to-end tests (envelopes-*.test.ts) share on top of
 * support.ts: one slotline run per database (its own slot, publication and
 * topic prefix), transactions whose xid, WAL range and time range the test
 * knows, a drain that waits until every sink has a transaction and the
 * consumer has every record up to the topics' high watermarks, and the
 * canonical form of a record that the tests compare as text.
 *
 * Canonical form: the record's key and value JSON exactly as read from Kafka,
 * with only what differs from run to run replaced by placeholders —
 * `"ts_ms":<ts_ms>`, `"ts_us":<ts_us>`, `"ts_ns":<ts_ns>`, `"txId":<txId>`,
 * `"lsn":<lsn>`, `"sequence":"<sequence>"` and the `slotline.lsn` /
 * `slotline.txid` header values. Each replaced value is checked first: its
 * shape (a sequence is a JSON array string of two decimal strings), its
 * relations (ts_ns = ts_us × 1000, sequence[1] = lsn, the headers name the same
 * LSN and xid) and, in checkUnits(), its place (the xid of the transaction
 * that made it, an LSN inside that transaction's WAL range, a commit time
 * inside its time range, sequence[0] between the previous commit and this one).
 * Field order is part of what is compared: the text is never re-serialized.
 * The expected text is built by ./expected/debezium-json.ts.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import pg from 'pg';
import { describeError } from '../../src/errors.ts';
import { formatLsn, parseLsn } from '../../src/lsn.ts';
import { freshDatabase, kafkaBrokers, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, readTopics, runInProcess, writeConfig, type ConsumedRecord, type TopicReader } from './support.ts';

// ─── one slotline run ─────────────────────────────────────────────────────────

export interface EnvelopeRunOptions {
  /** Stem of the database, slot, publication and topic prefix names. */
  name: string;
  major: number;
  /** DDL run before slotline starts (not captured). */
  setupSql: string;
  mainExtra?: string;
  /** Extra YAML lines of the main Kafka sink file (after `create_topics:\n  enabled: true`). */
  kafkaExtra?: string;
  /** More Kafka sink files: sink name → YAML keys after name, type and brokers. */
  extraSinks?: Record<string, string>;
}

/** A unit of the stream: a transaction, or a non-transactional logical message. */
export interface Unit {
  /** The transaction's xid; null for a non-transactional message. */
  xid: bigint | null;
  /** WAL insert position before the unit's first change. */
  walBefore: bigint;
  /**
   * WAL insert position right before COMMIT; for a non-transactional message, the
   * position pg_logical_emit_message returns: the end of its record, which is also
   * the LSN logical decoding gives the message (and that slotline confirms after it).
   */
  walBeforeEnd: bigint;
  /** WAL insert position after the unit committed. */
  walAfter: bigint;
  /** Server clock (µs since the epoch) before the first change and after the commit. */
  startUs: bigint;
  endUs: bigint;
  /** Result rows of each statement. */
  results: any[][];
}

export interface EnvelopeRun {
  db: FreshDatabase;
  /** topic_prefix (also `source.name`). */
  prefix: string;
  brokers: string[];
  /** Runs the statements in one transaction on the run's connection. */
  tx(statements: string | string[], client?: pg.Client): Promise<Unit>;
  /** `pg_logical_emit_message(false, prefix, content)` outside any transaction. */
  nonTransactionalMessage(prefix: string, content: string): Promise<Unit>;
  /** A new connection to the run's database (closed by stop()). */
  connect(): Promise<pg.Client>;
  /**
   * Waits until every sink has acknowledged `last` (and so everything before
   * it), then until the consumer holds every record below each partition's
   * high watermark of `topics`. Returns those records by topic (in the given
   * order), partition and offset.
   */
  drain(topics: string[], last: Unit, timeoutMs?: number): Promise<ConsumedRecord[]>;
  stop(): Promise<void>;
}

export async function startEnvelopeRun(options: EnvelopeRunOptions): Promise<EnvelopeRun> {
  const db = await freshDatabase(options.name, options.major);
  await db.sql(options.setupSql);
  const brokers = kafkaBrokers();
  const prefix = uniqueName(options.name);
  const configPath = await writeConfig({
    db,
    slot: uniqueName(`${options.name}_slot`),
    publication: uniqueName(`${options.name}_pub`),
    topicPrefix: prefix,
    brokers,
    // No initial snapshot: the first unit is then the first transaction streamed from the slot
    // this start created, whose source.sequence[0] is null (checkUnits).
    mainExtra: `snapshot: { mode: no_data }\n${options.mainExtra ?? ''}`,
    kafkaExtra: options.kafkaExtra,
  });
  for (const [name, body] of Object.entries(options.extraSinks ?? {})) {
    await writeFile(
      join(dirname(configPath), 'sinks', `${name}.yaml`),
      `name: ${name}\ntype: kafka\nbrokers: [${brokers.map((b) => JSON.stringify(b)).join(', ')}]\n${body}\n`,
    );
  }
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    clients.push(client);
    return client;
  };
  const main = await connect();
  const walNow = async (client = main): Promise<bigint> =>
    parseLsn((await client.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
  const clockUs = async (client = main): Promise<bigint> =>
    BigInt((await client.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS us")).rows[0].us);

  const worker = await runInProcess(configPath);
  // A worker that stopped on a fatal error fails the waiting test at once, with its error.
  let fatal: unknown = null;
  worker.running.catch((err: unknown) => (fatal = err ?? new Error('worker failed')));

  const kafka = new Kafka({ brokers, clientId: 'slotline-envelopes-admin', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const readers = new Map<string, TopicReader>();

  return {
    db,
    prefix,
    brokers,
    connect,
    async tx(statements, client = main) {
      const list = typeof statements === 'string' ? [statements] : statements;
      await client.query('BEGIN');
      try {
        const startUs = await clockUs(client);
        const xid = BigInt((await client.query('SELECT txid_current()::text AS xid')).rows[0].xid);
        const walBefore = await walNow(client);
        const results: any[][] = [];
        for (const sql of list) results.push((await client.query(sql)).rows);
        const walBeforeEnd = await walNow(client);
        await client.query('COMMIT');
        return { xid, walBefore, walBeforeEnd, walAfter: await walNow(client), startUs, endUs: await clockUs(client), results };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
    async nonTransactionalMessage(messagePrefix, content) {
      const startUs = await clockUs();
      const walBefore = await walNow();
      const rows = (await main.query('SELECT pg_logical_emit_message(false, $1, $2)::text AS lsn', [messagePrefix, content])).rows;
      const walBeforeEnd = parseLsn(rows[0].lsn);
      return { xid: null, walBefore, walBeforeEnd, walAfter: await walNow(), startUs, endUs: await clockUs(), results: [rows] };
    },
    async drain(topics, last, timeoutMs = 45_000) {
      await eventually(() => {
        if (fatal !== null) throw new Error(`slotline stopped: ${describeError(fatal)}`, { cause: fatal });
        return worker.pipeline.checkpointer.watermark() >= last.walBeforeEnd;
      }, timeoutMs, `every sink to acknowledge up to ${formatLsn(last.walBeforeEnd)}`);
      const id = [...topics].sort().join('\n');
      let reader = readers.get(id);
      if (reader === undefined) {
        reader = await readTopics(brokers, new RegExp(`^(${topics.map(escapeRegExp).join('|')})$`));
        readers.set(id, reader);
      }
      const highs = new Map<string, number>();
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) highs.set(`${topic}/${p.partition}`, Number(p.high));
      }
      const complete = (records: ConsumedRecord[]): boolean => {
        const seen = new Map<string, number>();
        for (const r of records) seen.set(`${r.topic}/${r.partition}`, (seen.get(`${r.topic}/${r.partition}`) ?? 0) + 1);
        return [...highs].every(([tp, high]) => (seen.get(tp) ?? 0) >= high);
      };
      const records = await reader.waitFor(complete, timeoutMs);
      return [...records].sort(
        (a, b) => topics.indexOf(a.topic) - topics.indexOf(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
      );
    },
    async stop() {
      try {
        await worker.stop();
        await worker.running; // rethrows a fatal error the test did not see
      } finally {
        for (const reader of readers.values()) await reader.close();
        await admin.disconnect();
        for (const client of clients) await client.end().catch(() => undefined);
      }
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ─── canonical records ──────────────────────────────────────────────────────

/** What a record says about where it came from, read exactly (int64 as bigint). */
export interface RecordFacts {
  op: string;
  lsn: bigint;
  txId: bigint | null;
  /** sequence[0]: the previous commit's LSN, as a number; null when the text says null. */
  lastCommitLsn: bigint | null;
  sourceUs: bigint;
  /** Envelope (processing) time, ns; for `m` values only ms is known (×1e6). */
  eventNs: bigint;
}

export interface CanonicalRecord {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export interface Canonicalized {
  records: CanonicalRecord[];
  /** Facts of each non-tombstone record, same index as `records` (null for tombstones). */
  facts: Array<RecordFacts | null>;
  /** Shape and relation problems; a test expects this to be empty. */
  problems: string[];
}

// Anywhere in the text: so the tables of these tests have no column of these names.
const VARYING_NUMBER = /"(ts_ms|ts_us|ts_ns|txId|lsn)":-?\d+/g;
const SEQUENCE = /"sequence":"\[(?:null|\\"\d+\\"),\\"\d+\\"\]"/g;

/** The text with run-dependent numbers replaced by placeholders (shape checked by the patterns). */
export function canonicalText(text: string): string {
  return text.replace(VARYING_NUMBER, '"$1":<$1>').replace(SEQUENCE, '"sequence":"<sequence>"');
}

/** JSON.parse keeping every integer exact (int64 fields exceed 2^53). */
export function parseExact(text: string): any {
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value);
}

/**
 * Canonical records plus their facts. Records must be in partition order
 * (drain() order): a tombstone is checked against the record before it.
 */
export function canonicalize(records: readonly ConsumedRecord[]): Canonicalized {
  const problems: string[] = [];
  const facts: Array<RecordFacts | null> = [];
  const out: CanonicalRecord[] = [];
  records.forEach((record, i) => {
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    const problem = (text: string): void => void problems.push(`${where}: ${text}`);
    const headers = { ...record.headers };
    if (record.value === null) {
      // Debezium's tombstone copies the delete's key and headers.
      const previous = records[i - 1];
      const same = previous !== undefined && previous.topic === record.topic && previous.partition === record.partition;
      if (!same || opOf(previous.value) !== 'd') {
        problem('tombstone does not follow a delete');
      } else {
        if (previous.key !== record.key) problem(`tombstone key ${record.key} differs from the delete's ${previous.key}`);
        if (JSON.stringify(previous.headers) !== JSON.stringify(record.headers)) problem('tombstone headers differ from the delete\'s');
      }
      facts.push(null);
    } else {
      const parsed = parseExact(record.value);
      const payload = 'payload' in parsed && 'schema' in parsed ? parsed.payload : parsed;
      const f = recordFacts(payload, problem);
      facts.push(f);
      if (f !== null) {
        if (headers['slotline.lsn'] !== formatLsn(f.lsn)) problem(`header slotline.lsn ${headers['slotline.lsn']} is not the event's LSN ${formatLsn(f.lsn)}`);
        const txid = f.txId === null ? undefined : String(f.txId);
        if (headers['slotline.txid'] !== txid) problem(`header slotline.txid ${headers['slotline.txid']} is not the event's txId ${txid}`);
      }
    }
    if ('slotline.lsn' in headers) headers['slotline.lsn'] = '<lsn>';
    if ('slotline.txid' in headers) headers['slotline.txid'] = '<txId>';
    out.push({
      topic: record.topic,
      partition: record.partition,
      key: record.key === null ? null : canonicalText(record.key),
      value: record.value === null ? null : canonicalText(record.value),
      headers,
    });
  });
  return { records: out, facts, problems };
}

function opOf(value: string | null): unknown {
  if (value === null) return null;
  const parsed = parseExact(value);
  return 'payload' in parsed && 'schema' in parsed ? parsed.payload.op : parsed.op;
}

function recordFacts(payload: any, problem: (text: string) => void): RecordFacts | null {
  const source = payload?.source;
  if (source === undefined) {
    problem('no source block');
    return null;
  }
  const isInt = (v: unknown): v is bigint => typeof v === 'bigint';
  for (const name of ['ts_ms', 'ts_us', 'ts_ns', 'lsn']) if (!isInt(source[name])) problem(`source.${name} is not an integer: ${source[name]}`);
  if (source.txId !== null && !isInt(source.txId)) problem(`source.txId is neither null nor an integer: ${source.txId}`);
  if (!isInt(source.ts_us) || !isInt(source.lsn)) return null;
  if (source.ts_ms !== floorDiv(source.ts_us, 1000n)) problem(`source.ts_ms ${source.ts_ms} is not ts_us/1000 (${source.ts_us})`);
  if (source.ts_ns !== source.ts_us * 1000n) problem(`source.ts_ns ${source.ts_ns} is not ts_us*1000 (${source.ts_us})`);
  let lastCommitLsn: bigint | null = null;
  let sequence: unknown;
  try {
    sequence = JSON.parse(source.sequence);
  } catch {
    sequence = undefined;
  }
  const decimal = (v: unknown): v is string => typeof v === 'string' && /^(0|[1-9]\d*)$/.test(v);
  if (!Array.isArray(sequence) || sequence.length !== 2 || !(sequence[0] === null || decimal(sequence[0])) || !decimal(sequence[1])) {
    problem(`source.sequence ${source.sequence} is not a JSON array of two decimal strings`);
  } else {
    if (BigInt(sequence[1]) !== source.lsn) problem(`source.sequence[1] ${sequence[1]} is not source.lsn ${source.lsn}`);
    lastCommitLsn = sequence[0] === null ? null : BigInt(sequence[0]);
  }
  let eventNs: bigint;
  if (payload.op === 'm') {
    if (!isInt(payload.ts_ms)) problem(`ts_ms is not an integer: ${payload.ts_ms}`);
    eventNs = BigInt(payload.ts_ms) * 1_000_000n;
  } else {
    for (const name of ['ts_ms', 'ts_us', 'ts_ns']) if (!isInt(payload[name])) problem(`${name} is not an integer: ${payload[name]}`);
    eventNs = BigInt(payload.ts_ns);
    if (payload.ts_us !== floorDiv(payload.ts_ns, 1000n)) problem(`ts_us ${payload.ts_us} is not ts_ns/1000 (${payload.ts_ns})`);
    if (payload.ts_ms !== floorDiv(payload.ts_ns, 1_000_000n)) problem(`ts_ms ${payload.ts_ms} is not ts_ns/1e6 (${payload.ts_ns})`);
  }
  // Processing happens after the commit: the envelope's time is not before the source's. Same
  // machine, but Postgres reads the wall clock and slotline a monotonic clock anchored at process
  // start (clockNs), which NTP slewing can move apart by a few ms: hence the slack.
  if (eventNs / 1000n + CLOCK_SLACK_US < source.ts_us) problem(`envelope time ${eventNs} ns is before the commit time ${source.ts_us} µs`);
  return { op: payload.op, lsn: source.lsn, txId: source.txId, lastCommitLsn, sourceUs: source.ts_us, eventNs };
}

/** Tolerance between Postgres' wall clock and slotline's processing clock. */
const CLOCK_SLACK_US = 100_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * Places every record in the unit (transaction or non-transactional message)
 * that made it, `units` in commit order:
 * - a record carries its transaction's xid (null for a non-transactional message);
 * - its LSN lies inside the unit's WAL range and its commit time inside the unit's time range
 *   (non-transactional messages: the processing time, also after the unit started);
 * - all records of a unit share sequence[0]; for the first unit it is null (the run's
 *   slot was created by this start, so no earlier commit is known: Debezium sends
 *   `[null, lsn]` then too); for a non-transactional message it is
 *   the message's own LSN (Debezium commits it before dispatching it); otherwise it lies
 *   after every change of the previous unit and, unless `otherCommitsBetween`, not after
 *   the previous unit's end. (Pass `otherCommitsBetween` when transactions without events
 *   ran between units: PostgreSQL ≤ 14 sends them as empty Begin/Commit pairs, which
 *   move sequence[0] too.)
 * Every unit must have made at least one of the records.
 */
export function checkUnits(
  facts: ReadonlyArray<RecordFacts | null>, units: readonly Unit[], options: { otherCommitsBetween?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const byUnit = units.map(() => [] as RecordFacts[]);
  for (const f of facts) {
    if (f === null) continue;
    const i = units.findIndex((u) => (u.xid === null ? f.txId === null && f.lsn > u.walBefore && f.lsn <= u.walBeforeEnd : f.txId === u.xid));
    if (i < 0) {
      const ranges = units.filter((u) => u.xid === null).map((u) => `(${formatLsn(u.walBefore)}, ${formatLsn(u.walBeforeEnd)}]`);
      problems.push(`${f.op} at ${formatLsn(f.lsn)} (txId ${f.txId}) belongs to no known unit (non-transactional ranges ${ranges.join(' ')}`);
    } else {
      byUnit[i].push(f);
    }
  }
  units.forEach((unit, i) => {
    const name = `unit ${i} (xid ${unit.xid})`;
    const records = byUnit[i];
    if (records.length === 0) {
      problems.push(`${name}: no record`);
      return;
    }
    for (const f of records) {
      // Row changes sit at their record's start, logical messages at their record's end.
      if (f.lsn < unit.walBefore || f.lsn > unit.walBeforeEnd) {
        problems.push(`${name}: lsn ${formatLsn(f.lsn)} outside [${formatLsn(unit.walBefore)}, ${formatLsn(unit.walBeforeEnd)}]`);
      }
      if (unit.xid !== null && (f.sourceUs < unit.startUs || f.sourceUs > unit.endUs)) {
        problems.push(`${name}: source.ts_us ${f.sourceUs} (commit time) outside [${unit.startUs}, ${unit.endUs}]`);
      }
      // A non-transactional message has no commit time: slotline puts the processing time there
      // (docs/type-mapping.md, deviation 7), the same instant as the envelope's ts_ms.
      if (unit.xid === null && (f.sourceUs + CLOCK_SLACK_US < unit.startUs || f.sourceUs / 1000n !== f.eventNs / 1_000_000n)) {
        problems.push(`${name}: source.ts_us ${f.sourceUs} is not the processing time (envelope ts_ms ${f.eventNs / 1_000_000n})`);
      }
      if (f.lastCommitLsn !== records[0].lastCommitLsn) problems.push(`${name}: sequence[0] differs within the unit`);
    }
    const seq0 = records[0].lastCommitLsn;
    if (unit.xid === null) {
      if (seq0 !== records[0].lsn) problems.push(`${name}: non-transactional message has sequence[0] ${seq0}, not its own lsn ${records[0].lsn}`);
    } else if (i === 0) {
      if (seq0 !== null) problems.push(`${name}: sequence[0] ${seq0} on the first transaction from a new slot, not null`);
    } else if (units[i - 1].xid === null) {
      if (seq0 !== byUnit[i - 1][0]?.lsn) problems.push(`${name}: sequence[0] ${seq0} is not the previous non-transactional message's lsn`);
    } else {
      const previous = byUnit[i - 1];
      const lastLsn = previous.reduce((max, f) => (f.lsn > max ? f.lsn : max), 0n);
      const atMost = options.otherCommitsBetween ? records[0].lsn : units[i - 1].walAfter;
      if (seq0 === null || seq0 <= lastLsn || seq0 > atMost) {
        problems.push(`${name}: sequence[0] ${seq0} is not the previous commit (after ${lastLsn}, at most ${atMost})`);
      }
    }
  });
  return problems;
}
