/**
 * Debezium 3.6.1 and slotline side by side on the same WAL: the type matrix of
 * ./parity-matrix.ts, streamed by Debezium's PostgreSQL connector on Kafka
 * Connect (JsonConverter, schemas on; ../harness/debezium-connect.ts) and by
 * slotline with the same options, into the same broker. Each starts fresh and
 * creates its own slot; the changes are made once both stream, and every
 * record's key and value are compared as text (./parity-compare.ts).
 *
 * Used by debezium-parity.test.ts and by bench/debezium-parity.ts (all
 * variants, either debezium_compat).
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import pg from 'pg';
import { connectorProperties, startConnect, type ConnectWorker } from '../harness/debezium-connect.ts';
import type { PgEndpoint } from '../harness/postgres.ts';
import { logTail } from '../harness/server-process.ts';
import { compareTopic, type Difference, type KafkaText } from './parity-compare.ts';
import { CHANGE_SQL, EXPECTED_RECORDS, PARITY_TABLES, SETUP_SQL } from './parity-matrix.ts';
import { runInProcess, writeConfig } from './support.ts';

/** One set of options, as Debezium properties and as slotline's main-file keys. */
export interface ParityVariant {
  debezium: Record<string, string>;
  slotline: string;
}

export const VARIANTS: Record<string, ParityVariant> = {
  defaults: { debezium: {}, slotline: '' },
  strings: {
    debezium: {
      'decimal.handling.mode': 'string', 'binary.handling.mode': 'base64', 'interval.handling.mode': 'string',
      'hstore.handling.mode': 'map', 'time.precision.mode': 'adaptive_time_microseconds',
    },
    slotline: 'decimal_handling_mode: string\nbinary_handling_mode: base64\ninterval_handling_mode: string\nhstore_handling_mode: map\ntime_precision_mode: adaptive_time_microseconds\n',
  },
  doubles: {
    debezium: { 'decimal.handling.mode': 'double', 'binary.handling.mode': 'hex', 'time.precision.mode': 'connect', 'money.fraction.digits': '3' },
    slotline: 'decimal_handling_mode: double\nbinary_handling_mode: hex\ntime_precision_mode: connect\nmoney_fraction_digits: 3\n',
  },
  urlsafe: {
    debezium: { 'binary.handling.mode': 'base64-url-safe', 'unavailable.value.placeholder': 'hex:cafe00ff' },
    slotline: 'binary_handling_mode: base64-url-safe\nunavailable_value_placeholder: "hex:cafe00ff"\n',
  },
};

export interface ParityOptions {
  /** The server Debezium connects to, and the (empty) database both capture. */
  server: PgEndpoint;
  database: string;
  brokers: string[];
  kafkaVersion: string;
  /** Lower-case stem of slot, publication and topic-prefix names: unique per run. */
  stem: string;
  variants: string[];
  compat: 'strict' | 'lossless';
}

export interface ParityResult {
  differences: Array<{ variant: string; table: string; differences: Difference[] }>;
  /** JVM identity strings in Debezium's records, read as null. */
  identities: number;
  /** From Kafka Connect's spawn to the last record in. */
  seconds: number;
}

export async function runParity(options: ParityOptions): Promise<ParityResult> {
  const { server, database, brokers, stem, variants } = options;
  const url = server.url(database);
  const publication = `${stem}_pub`;
  await run(url, [SETUP_SQL, `CREATE PUBLICATION ${publication} FOR TABLE ${PARITY_TABLES.join(', ')}`]);
  const prefix = (v: string): string => `${stem}_${v}`;
  const spawned = performance.now();
  const connect = await startConnect({
    brokers,
    kafkaVersion: options.kafkaVersion,
    schemasEnable: true,
    connectors: Object.fromEntries(variants.map((v) => [v, connectorProperties(
      { server, database, topicPrefix: prefix(v), slot: `${stem}_dbz_${v}`, publication, table: PARITY_TABLES.join(',') },
      VARIANTS[v].debezium,
    )])),
  });
  const workers: Array<{ stop(): Promise<void> }> = [];
  try {
    for (const v of variants) {
      const config = await writeConfig({
        db: { databaseUrl: url } as Parameters<typeof writeConfig>[0]['db'],
        slot: `${stem}_sl_${v}`,
        publication,
        topicPrefix: prefix(v),
        tables: PARITY_TABLES,
        brokers,
        kafkaExtra: 'topic: "slotline.{prefix}.{schema}.{table}"\n',
        mainExtra: `${VARIANTS[v].slotline}debezium_compat: ${options.compat}\nsnapshot:\n  mode: no_data\n`,
      });
      workers.push(await runInProcess(config));
    }
    await streaming(url, variants.flatMap((v) => [`${stem}_dbz_${v}`, `${stem}_sl_${v}`]), connect);
    await run(url, CHANGE_SQL);

    const pairs = variants.flatMap((variant) => PARITY_TABLES.map((table) => ({ variant, table, debezium: `${prefix(variant)}.${table}`, slotline: `slotline.${prefix(variant)}.${table}` })));
    const expected = new Map(pairs.flatMap((p) => [[p.debezium, EXPECTED_RECORDS[p.table]], [p.slotline, EXPECTED_RECORDS[p.table]]]));
    const records = await readAll(brokers, expected, connect);
    const seconds = (performance.now() - spawned) / 1000;
    const counts = { identities: 0 };
    const differences = pairs.map((p) => ({ variant: p.variant, table: p.table, differences: compareTopic(records.get(p.debezium)!, records.get(p.slotline)!, counts) }));
    return { differences: differences.filter((d) => d.differences.length > 0), identities: counts.identities, seconds };
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined);
    await connect.stop();
  }
}

export async function run(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Waits until every slot is consistent and a walsender holds it. A slot being
 * created is active already, while it waits for the server's running
 * transactions; what commits before its consistent point is not in its stream.
 */
export async function streaming(url: string, slots: string[], connect: ConnectWorker): Promise<void> {
  const deadline = performance.now() + 180_000;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_replication_slots WHERE active AND confirmed_flush_lsn IS NOT NULL AND slot_name = ANY($1)', [slots]);
      if (rows[0].n === slots.length) return;
      if (!connect.running()) throw new Error(`Kafka Connect exited:\n${await logTail(connect.logFile)}`);
      if (performance.now() > deadline) throw new Error(`slots not all streaming after 3 minutes: ${slots.join(', ')}\n${await logTail(connect.logFile)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}

/** Every record of the topics, once each holds its expected count; fails if Connect dies or no topic grows for 3 minutes. */
async function readAll(brokers: string[], expected: Map<string, number>, connect: ConnectWorker): Promise<Map<string, KafkaText[]>> {
  const topics = [...expected.keys()];
  const client = new Kafka({ brokers, clientId: 'slotline-parity', logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  let lastProgress = performance.now();
  try {
    while (topics.some((t) => (ends.get(t) ?? 0) < expected.get(t)!)) {
      if (!connect.running()) throw new Error(`Kafka Connect exited:\n${await logTail(connect.logFile)}`);
      if (performance.now() - lastProgress > 180_000) {
        throw new Error(`stalled: ${topics.map((t) => `${t} ${ends.get(t) ?? 0}/${expected.get(t)}`).join(', ')}\n${await logTail(connect.logFile)}`);
      }
      for (const t of topics) {
        const end = await admin.fetchTopicOffsets(t).then((o) => o.reduce((sum, p) => sum + Number(p.high), 0), () => 0);
        if (end !== (ends.get(t) ?? 0)) lastProgress = performance.now();
        ends.set(t, end);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await admin.disconnect();
  }
  const consumer = client.consumer({ groupId: `parity-${topics[0]}`, maxBytes: 64 * 1024 * 1024 });
  await consumer.connect();
  const records = new Map<string, KafkaText[]>(topics.map((t) => [t, []]));
  const want = [...expected.values()].reduce((sum, n) => sum + n, 0);
  let seen = 0;
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        records.get(topic)!.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null });
        seen++;
      },
    });
    const deadline = performance.now() + 60_000;
    while (seen < want && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await consumer.disconnect();
  }
  if (seen !== want) throw new Error(`read ${seen} records, expected ${want}`);
  return records;
}
