/**
 * End to end: per-key order and Kafka partitioning (DESIGN.md invariant 2, and
 * the compatibility target: a Debezium consumer partitions the same).
 *
 * 20 keys, then 200 updates from 4 connections running interleaved
 * transactions of two updates each. Every update bumps its row's `version`, so
 * the row lock makes `version` count that key's commits: each key's records
 * must carry versions 0, 1, 2, … with no gap, repeat or swap.
 *
 * The topic is created by the sink with 6 partitions; every record must sit on
 * the partition Java's producer picks for its key bytes:
 * toPositive(murmur2(key)) % 6 (murmur2 checked against Kafka's own test
 * vectors in kafka-partitioner.test.ts), and within a partition the
 * transactions are in commit order.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { murmur2 } from '../../connectors/kafka/kafka-partitioner.ts';
import { pgServers } from '../harness/context.ts';
import { canonicalize, parseExact, startEnvelopeRun, type EnvelopeRun, type Unit } from './envelope-support.ts';

const KEYS = 20;
const WRITERS = 4;
const TX_PER_WRITER = 25;
const UPDATES_PER_TX = 2;
const PARTITIONS = 6;

const SETUP = `
CREATE TABLE public.counters (id integer PRIMARY KEY, version integer NOT NULL, writer integer NOT NULL);
CREATE TABLE public.barrier (id integer PRIMARY KEY);
`;

/** BuiltInPartitioner.partitionForKey: toPositive(murmur2(key bytes)) % partitions. */
function javaPartitionForKey(key: Uint8Array, partitions: number): number {
  // murmur2 is checked against Kafka's own UtilsTest vectors in connectors/kafka/kafka-partitioner.test.ts.
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** A small deterministic generator, so that a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe.each(pgServers().map((s) => s.major))('per-key order and partitions, PostgreSQL %i', (major) => {
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: `env_order_${major}`, major, setupSql: SETUP, kafkaExtra: `  partitions: ${PARTITIONS}` });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('keeps each key\'s changes in commit order on the partition Java\'s partitioner picks', async () => {
    const rows = Array.from({ length: KEYS }, (_, i) => `(${i + 1}, 0, 0)`).join(', ');
    await run.tx(`INSERT INTO public.counters VALUES ${rows}`);

    const random = lcg(major);
    const plans = Array.from({ length: WRITERS }, () =>
      Array.from({ length: TX_PER_WRITER }, () => {
        const keys = new Set<number>();
        while (keys.size < UPDATES_PER_TX) keys.add(1 + Math.floor(random() * KEYS));
        return [...keys].sort((a, b) => a - b); // one lock order: no deadlocks
      }));
    const updatesPerKey = new Map<number, number>();
    for (const plan of plans) for (const keys of plan) for (const k of keys) updatesPerKey.set(k, (updatesPerKey.get(k) ?? 0) + 1);

    const clients = await Promise.all(plans.map(() => run.connect()));
    await Promise.all(plans.map(async (plan, w) => {
      for (const keys of plan) {
        await run.tx(keys.map((k) => `UPDATE public.counters SET version = version + 1, writer = ${w + 1} WHERE id = ${k}`), clients[w]);
      }
    }));
    // Committed after every writer: once the sink has it, it has all their transactions.
    const barrier: Unit = await run.tx('INSERT INTO public.barrier VALUES (1)');

    const topic = `${run.prefix}.public.counters`;
    const records = await run.drain([topic], barrier);
    const { problems } = canonicalize(records);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(KEYS + WRITERS * TX_PER_WRITER * UPDATES_PER_TX);

    const kafka = new Kafka({ brokers: run.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    expect(metadata.partitions).toHaveLength(PARTITIONS);

    const versions = new Map<number, number[]>();
    const partitionsUsed = new Set<number>();
    const misplaced: string[] = [];
    const lastCommitByPartition = new Map<number, bigint>();
    const outOfOrder: string[] = [];
    const writerByCommit = new Map<bigint, number>();
    for (const r of records) {
      const expectedPartition = javaPartitionForKey(Buffer.from(r.key!, 'utf8'), PARTITIONS);
      if (r.partition !== expectedPartition) misplaced.push(`${r.key} on ${r.partition}, Java picks ${expectedPartition}`);
      partitionsUsed.add(r.partition);
      const { payload } = parseExact(r.value!);
      const id = Number(payload.after.id);
      versions.set(id, [...(versions.get(id) ?? []), Number(payload.after.version)]);
      expect(payload.op).toBe(Number(payload.after.version) === 0 ? 'c' : 'u');
      // sequence[0] is the previous commit: it never goes back within a partition. It is
      // null on the first transaction from the slot this run created (nothing came before).
      const [previous] = JSON.parse(payload.source.sequence) as [string | null, string];
      const lastCommit = previous === null ? 0n : BigInt(previous);
      if (lastCommit < (lastCommitByPartition.get(r.partition) ?? 0n)) outOfOrder.push(`${r.partition}@${r.offset}`);
      lastCommitByPartition.set(r.partition, lastCommit);
      if (payload.op === 'u') writerByCommit.set(lastCommit, Number(payload.after.writer));
    }
    // The writers' transactions did interleave: in commit order, the writer changes often.
    const writers = [...writerByCommit].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w);
    expect(writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length).toBeGreaterThan(WRITERS * 2);
    expect(misplaced).toEqual([]);
    expect(outOfOrder).toEqual([]);
    expect(partitionsUsed.size).toBeGreaterThan(1); // the keys do spread, so the check above means something
    for (let id = 1; id <= KEYS; id++) {
      const n = updatesPerKey.get(id) ?? 0;
      expect({ id, versions: versions.get(id) }).toEqual({ id, versions: Array.from({ length: n + 1 }, (_, v) => v) });
    }
  });
});
