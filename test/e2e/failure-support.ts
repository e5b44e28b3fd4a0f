/**
 * What the failure tests (test/e2e/failure-*.test.ts) share beyond ./support.ts:
 *
 * - an **oracle**: a second pgoutput slot on the same publication, read with
 *   pg_logical_slot_get_binary_changes, that lists every committed transaction
 *   with its end LSN and the LSN of each change. Kafka records carry the
 *   change's LSN in the `slotline.lsn` header, so "is everything up to the
 *   slot's confirmed_flush_lsn in Kafka?" becomes an exact set comparison;
 * - a **write load**: small transactions of inserts, updates and deletes over
 *   a set of keys, each row carrying its key's event number in `seq`;
 * - the **delivery checks**: what at-least-once with replay from the confirmed
 *   LSN permits in a Kafka partition, said precisely (analyzeDelivery, perKeyOrder);
 * - probes of the slot, the walsender and the topic.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import pg from 'pg';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { formatLsn, parseLsn, type Lsn } from '../../src/lsn.ts';
import type { FreshDatabase } from '../harness/context.ts';
import { eventually, type ConsumedRecord, type TopicReader } from './support.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: the tests print their seed, and SLOTLINE_FAILURE_SEED replays a run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function testSeed(): number {
  const fixed = process.env.SLOTLINE_FAILURE_SEED;
  return fixed ? Number(fixed) : randomBytes(4).readUInt32LE(0);
}

// ---------------------------------------------------------------- capture setup

/** One committed transaction of the captured tables, as the oracle slot decoded it. */
export interface CommittedTx {
  xid: string;
  /** End of the commit record: what a consumer confirms once it has the transaction. */
  endLsn: Lsn;
  /** LSN of each insert/update/delete, in order (the `slotline.lsn` header of its record). */
  changes: Lsn[];
}

export interface Oracle {
  /** Every transaction committed so far, in commit order (after sync()). */
  readonly txs: CommittedTx[];
  /** Reads the transactions committed since the last call. */
  sync(): Promise<CommittedTx[]>;
  close(): Promise<void>;
}

export interface CaptureSpec {
  table: string;
  publication: string;
  /** slotline's slot: created here, so slotline resumes it from the same point as the oracle. */
  slot: string;
  oracleSlot: string;
}

/**
 * Creates `public.<table>` (id, seq, payload; REPLICA IDENTITY FULL so a delete
 * carries its seq), the publication, slotline's slot and then the oracle slot.
 * Nothing is written to the table before both slots exist, so both see the same
 * transactions.
 */
export async function prepareCapture(db: FreshDatabase, spec: CaptureSpec): Promise<Oracle> {
  await db.sql(`CREATE TABLE public.${spec.table} (id int PRIMARY KEY, seq int NOT NULL, payload text NOT NULL)`);
  await db.sql(`ALTER TABLE public.${spec.table} REPLICA IDENTITY FULL`);
  await db.sql(`CREATE PUBLICATION ${spec.publication} FOR TABLE public.${spec.table}`);
  await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [spec.slot]);
  await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [spec.oracleSlot]);
  const txs: CommittedTx[] = [];
  let open: CommittedTx | null = null;
  return {
    txs,
    async sync() {
      // get (not peek): each call decodes only the WAL after the previous one. A
      // connection per call, so the oracle survives a server restart.
      const rows: Array<{ lsn: string; xid: string; tag: number }> = await db.sql(
        `SELECT lsn::text, xid::text, get_byte(data, 0) AS tag
           FROM pg_logical_slot_get_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
        [spec.oracleSlot, spec.publication],
      );
      const added: CommittedTx[] = [];
      for (const row of rows) {
        const tag = String.fromCharCode(row.tag);
        if (tag === 'B') open = { xid: row.xid, endLsn: 0n, changes: [] };
        else if (tag === 'I' || tag === 'U' || tag === 'D') open!.changes.push(parseLsn(row.lsn));
        else if (tag === 'C') {
          // The SQL interface reports a commit at txn->end_lsn, as the walsender does.
          open!.endLsn = parseLsn(row.lsn);
          if (open!.changes.length > 0) added.push(open!);
          open = null;
        }
      }
      txs.push(...added);
      return added;
    },
    async close() {},
  };
}

/** Drops slots that are not in use; the shared server lives on for other test files. */
export async function dropSlots(db: FreshDatabase, names: string[]): Promise<void> {
  await db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ANY($1) AND NOT active', [names]);
}

/** Adds keys under `runtime:` of a main file written by writeConfig (which writes that section itself). */
export async function withRuntime(configPath: string, settings: Record<string, number | string>): Promise<void> {
  const text = await readFile(configPath, 'utf8');
  const lines = Object.entries(settings).map(([key, value]) => `  ${key}: ${value}\n`).join('');
  if (!text.includes('\nruntime:\n')) throw new Error(`${configPath} has no runtime section`);
  await writeFile(configPath, text.replace('\nruntime:\n', `\nruntime:\n${lines}`));
}

// ---------------------------------------------------------------- write load

export interface LoadOptions {
  table: string;
  keys: number;
  /** Statements per transaction, inclusive range. */
  opsPerTx: [number, number];
  payloadBytes: number;
  /** Pause between transactions (pacing, so the load does not starve the 2 cores). */
  pauseMs: number;
  random: () => number;
  /** Continue the key numbering of an earlier load on the same table. */
  resume?: LoadSummary;
}

export interface LoadSummary {
  transactions: number;
  changes: number;
  /** Per key, the number of its last event (insert, update or delete), counted from 1. */
  lastEvent: Map<number, number>;
  /** Keys whose row exists at the end. */
  exists: Set<number>;
}

export interface Load {
  /** Transactions committed so far. */
  readonly transactions: number;
  /** Stops after the current transaction; rejects if the load failed. */
  stop(): Promise<LoadSummary>;
}

/**
 * One connection committing small transactions: per statement, a random key is
 * inserted (when absent) with seq = its next event number, updated with
 * `seq = seq + 1`, or deleted. An event's number is after.seq for an insert or
 * update and before.seq + 1 for a delete, so per key the events are 1, 2, 3, …
 */
export function startLoad(db: FreshDatabase, options: LoadOptions): Load {
  const { random } = options;
  const lastEvent = new Map<number, number>(options.resume?.lastEvent);
  const exists = new Set<number>(options.resume?.exists);
  let transactions = 0;
  let changes = 0;
  let stopping = false;
  const payload = (): string => randomBytes(Math.ceil(options.payloadBytes / 2)).toString('hex').slice(0, options.payloadBytes);
  const table = `public.${options.table}`;

  const loop = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      while (!stopping) {
        const [min, max] = options.opsPerTx;
        const ops = min + Math.floor(random() * (max - min + 1));
        const nextEvent = new Map(lastEvent);
        const nextExists = new Set(exists);
        await client.query('BEGIN');
        for (let i = 0; i < ops; i++) {
          const key = 1 + Math.floor(random() * options.keys);
          const event = (nextEvent.get(key) ?? 0) + 1;
          nextEvent.set(key, event);
          if (!nextExists.has(key)) {
            await client.query(`INSERT INTO ${table} (id, seq, payload) VALUES ($1, $2, $3)`, [key, event, payload()]);
            nextExists.add(key);
          } else if (random() < 0.85) {
            const r = await client.query(`UPDATE ${table} SET seq = seq + 1, payload = $2 WHERE id = $1 RETURNING seq`, [key, payload()]);
            if (r.rows[0].seq !== event) throw new Error(`load: key ${key} has seq ${r.rows[0].seq}, expected ${event}`);
          } else {
            await client.query(`DELETE FROM ${table} WHERE id = $1`, [key]);
            nextExists.delete(key);
          }
        }
        await client.query('COMMIT');
        for (const [key, event] of nextEvent) lastEvent.set(key, event);
        exists.clear();
        for (const key of nextExists) exists.add(key);
        transactions++;
        changes += ops;
        if (options.pauseMs > 0) await sleep(options.pauseMs);
      }
    } finally {
      await client.end();
    }
  };
  const running = loop();
  running.catch(() => undefined);
  return {
    get transactions() {
      return transactions;
    },
    async stop() {
      stopping = true;
      await running;
      return { transactions, changes, lastEvent, exists };
    },
  };
}

// ---------------------------------------------------------------- probes

export interface SlotState {
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: Lsn;
}

export interface Probe {
  slot(name: string): Promise<SlotState>;
  /** pg_current_wal_lsn(): the server's flushed WAL end (all databases). */
  walLsn(): Promise<Lsn>;
  /** The walsender's sent_lsn for the slot's active connection; null when none. */
  sentLsn(slot: string): Promise<Lsn | null>;
  close(): Promise<void>;
}

/** One persistent connection for polling (opening one per poll would load the server). */
export async function openProbe(db: FreshDatabase): Promise<Probe> {
  const client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
  return {
    async slot(name) {
      const { rows } = await client.query('SELECT active, active_pid, confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [name]);
      if (rows.length === 0) throw new Error(`no slot ${name}`);
      return { active: rows[0].active, activePid: rows[0].active_pid, confirmedFlushLsn: parseLsn(rows[0].c) };
    },
    async walLsn() {
      return parseLsn((await client.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
    },
    async sentLsn(slot) {
      const { rows } = await client.query(
        `SELECT r.sent_lsn::text AS l FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`,
        [slot],
      );
      return rows.length > 0 && rows[0].l ? parseLsn(rows[0].l) : null;
    },
    close: () => client.end(),
  };
}

/** Peak resident set (VmHWM) of a live process, in KiB; null once it is gone. */
export function peakRssKiB(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- Kafka

export interface TopicAdmin {
  /** Creates a one-partition topic (a regex subscription only sees topics that exist). */
  create(topic: string): Promise<void>;
  /** Records in the topic: the sum of its partitions' high watermarks. */
  endOffset(topic: string): Promise<number>;
  close(): Promise<void>;
}

export async function openTopicAdmin(brokers: string[]): Promise<TopicAdmin> {
  const admin: Admin = new Kafka({ brokers, clientId: 'slotline-failure-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return {
    async create(topic) {
      // kafkajs' waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers
      // until the new topic's metadata has propagated: wait for a leader ourselves.
      await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
      await eventually(async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
        return metadata !== null && metadata.topics[0].partitions.length > 0 && metadata.topics[0].partitions.every((p) => p.leader >= 0);
      }, 30_000, `a leader for the new topic ${topic}`);
    },
    async endOffset(topic) {
      const sum = (offsets: Array<{ high: string }>): number => offsets.reduce((total, p) => total + Number(p.high), 0);
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      if (offsets.length > 0) return sum(offsets);
      // kafkajs' admin keeps the metadata it had when it first asked for a topic that did not
      // exist yet, or was being created, until it is 5 minutes old: it then answers no partitions
      // (an end offset of 0) for a topic that has records. A client of its own asks the broker.
      const fresh = new Kafka({ brokers, clientId: 'slotline-failure-test-fresh', logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await fresh.connect();
      try {
        return sum(await fresh.fetchTopicOffsets(topic));
      } finally {
        await fresh.disconnect();
      }
    },
    close: () => admin.disconnect(),
  };
}

/** Waits until the reader has every record the topic holds now (one partition). */
export async function readerCaughtUp(reader: TopicReader, admin: TopicAdmin, topic: string, timeoutMs = 30_000): Promise<void> {
  const end = await admin.endOffset(topic);
  await reader.waitFor((records) => end === 0 || records.some((r) => r.topic === topic && Number(r.offset) === end - 1), timeoutMs);
}

/** The records at `offsets` of partition 0, by seeking a consumer to each. */
export async function readAt(brokers: string[], topic: string, offsets: number[]): Promise<Map<number, { key: string | null; value: string | null }>> {
  const kafka = new Kafka({ brokers, clientId: 'slotline-failure-spot', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `spot-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 64 * 1024 });
  const found = new Map<number, { key: string | null; value: string | null }>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    // seek() throws until the consumer has joined its group.
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const offset = Number(message.offset);
        if (offsets.includes(offset)) found.set(offset, { key: message.key?.toString() ?? null, value: message.value?.toString() ?? null });
      },
    });
    await joined;
    for (const offset of offsets) {
      consumer.seek({ topic, partition: 0, offset: String(offset) });
      const deadline = Date.now() + 20_000;
      while (!found.has(offset)) {
        if (Date.now() > deadline) throw new Error(`offset ${offset} of ${topic} not read in 20 s`);
        await sleep(50);
      }
    }
  } finally {
    await consumer.disconnect();
  }
  return found;
}

// ---------------------------------------------------------------- delivery checks

/** A change record (tombstones left out), in log order, without the reader's own re-deliveries. */
export interface ChangeRecord {
  offset: number;
  lsn: Lsn;
  op: string;
  key: number;
  /** The key's event number: after.seq for c/u, before.seq + 1 for d. */
  event: number;
}

export function changeRecords(records: readonly ConsumedRecord[], topic: string): ChangeRecord[] {
  const byOffset = new Map<number, ChangeRecord>();
  for (const r of records) {
    if (r.topic !== topic || r.value === null) continue;
    if (r.partition !== 0) throw new Error(`${topic} has a partition ${r.partition}: the checks assume one`);
    const parsed = JSON.parse(r.value);
    const value = parsed.payload !== undefined && parsed.schema !== undefined ? parsed.payload : parsed;
    const row = value.op === 'd' ? value.before : value.after;
    byOffset.set(Number(r.offset), {
      offset: Number(r.offset),
      lsn: parseLsn(r.headers['slotline.lsn']),
      op: value.op,
      key: row.id,
      event: value.op === 'd' ? row.seq + 1 : row.seq,
    });
  }
  return [...byOffset.values()].sort((a, b) => a.offset - b.offset);
}

export interface DeliveryReport {
  expected: number;
  /** Distinct committed changes found in the topic. */
  delivered: number;
  /** Records beyond the first copy of each change. */
  duplicates: number;
  /** Committed changes not in the topic. */
  missing: string[];
  /** Maximal runs of consecutive changes (indexes into the commit-order change list). */
  runs: Array<{ from: number; to: number }>;
  problems: string[];
}

/**
 * What at-least-once with replay from the confirmed LSN permits in one
 * partition. Number the committed changes 0…N-1 in commit order. Each worker
 * session writes a contiguous stretch starting at the first change after the
 * slot's confirmed position; confirmed positions are transaction ends and never
 * go back. So the partition is a series of runs of consecutive changes where
 * the first run starts at 0, and every later run
 * - starts at or before the previous run's end + 1 (no change skipped),
 * - starts at the first change of a transaction (a replay resumes at a
 *   confirmed transaction end, never inside one),
 * - starts at or after the previous run's start (the confirmed LSN never moves back);
 * and the runs together cover 0…N-1. Any duplicate is thus a replayed suffix
 * of what was written before, from a transaction boundary.
 */
export function analyzeDelivery(txs: readonly CommittedTx[], records: readonly ChangeRecord[]): DeliveryReport {
  const index = new Map<Lsn, { at: number; txStart: boolean }>();
  let n = 0;
  for (const tx of txs) tx.changes.forEach((lsn, i) => index.set(lsn, { at: n++, txStart: i === 0 }));
  const problems: string[] = [];
  const runs: Array<{ from: number; to: number }> = [];
  const seen = new Set<number>();
  let mapped = 0;
  for (const r of records) {
    const change = index.get(r.lsn);
    if (!change) {
      problems.push(`record at offset ${r.offset} has LSN ${formatLsn(r.lsn)}, which is no committed change`);
      continue;
    }
    mapped++;
    seen.add(change.at);
    const last = runs.at(-1);
    if (last && change.at === last.to + 1) {
      last.to = change.at;
      continue;
    }
    if (!last && change.at !== 0) problems.push(`the first record (offset ${r.offset}) is change #${change.at}, not #0`);
    if (last && change.at > last.to + 1) problems.push(`offset ${r.offset}: change #${change.at} follows #${last.to}: changes skipped`);
    if (last && change.at < last.from) problems.push(`offset ${r.offset}: replay from change #${change.at}, before the previous replay's start #${last.from}`);
    if (last && !change.txStart) problems.push(`offset ${r.offset}: replay starts at change #${change.at}, inside a transaction`);
    runs.push({ from: change.at, to: change.at });
  }
  const missing: string[] = [];
  for (const [lsn, change] of index) if (!seen.has(change.at)) missing.push(formatLsn(lsn));
  return { expected: n, delivered: seen.size, duplicates: mapped - seen.size, missing, runs, problems };
}

/**
 * Invariant 1 at one instant: every change of every transaction ending at or
 * before `confirmed` is in the topic. Returns what is not.
 */
export function unconfirmedLoss(txs: readonly CommittedTx[], records: readonly ChangeRecord[], confirmed: Lsn): string[] {
  const inKafka = new Set(records.map((r) => r.lsn));
  const lost: string[] = [];
  for (const tx of txs) {
    if (tx.endLsn > confirmed) break;
    const absent = tx.changes.filter((lsn) => !inKafka.has(lsn));
    if (absent.length > 0) lost.push(`tx ${tx.xid} ends at ${formatLsn(tx.endLsn)} <= confirmed ${formatLsn(confirmed)} but ${absent.length} of its ${tx.changes.length} changes are not in Kafka (first ${formatLsn(absent[0])})`);
  }
  return lost;
}

/** How many leading transactions have every change in the topic. */
export function deliveredPrefix(txs: readonly CommittedTx[], records: readonly ChangeRecord[]): number {
  const inKafka = new Set(records.map((r) => r.lsn));
  let n = 0;
  while (n < txs.length && txs[n].changes.every((lsn) => inKafka.has(lsn))) n++;
  return n;
}

/** Whether the topic holds every change of every transaction in `txs`. */
export function allDelivered(txs: readonly CommittedTx[], records: readonly ChangeRecord[]): boolean {
  return deliveredPrefix(txs, records) === txs.length;
}

/**
 * The same rule seen per key, from the row data alone: a key's event numbers,
 * in log order, start at 1, never skip one (e ≤ previous + 1), and a drop
 * (e ≤ previous) begins a replay that re-sends a contiguous suffix and starts
 * no earlier than the previous replay did; the last event is the writer's last.
 */
export function perKeyOrder(records: readonly ChangeRecord[], lastEvent: ReadonlyMap<number, number>): string[] {
  const byKey = new Map<number, number[]>();
  for (const r of records) {
    let events = byKey.get(r.key);
    if (!events) byKey.set(r.key, (events = []));
    events.push(r.event);
  }
  const problems: string[] = [];
  for (const [key, last] of lastEvent) {
    const events = byKey.get(key) ?? [];
    if (events[0] !== 1) {
      problems.push(`key ${key}: first event is ${events[0]}, not 1`);
      continue;
    }
    let runStart = 1;
    let max = 1;
    for (let i = 1; i < events.length; i++) {
      const [prev, e] = [events[i - 1], events[i]];
      if (e > prev + 1) problems.push(`key ${key}: event ${e} follows ${prev} (skipped ${prev + 1}…${e - 1})`);
      else if (e <= prev) {
        if (e < runStart) problems.push(`key ${key}: replay from event ${e}, before the previous replay's start ${runStart}`);
        runStart = e;
      }
      if (e > max) max = e;
    }
    if (max !== last) problems.push(`key ${key}: last event in Kafka is ${max}, the writer's last is ${last}`);
  }
  for (const key of byKey.keys()) if (!lastEvent.has(key)) problems.push(`key ${key}: in Kafka but never written`);
  return problems;
}
