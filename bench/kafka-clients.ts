/**
 * `npm run bench:kafka-clients`: kafkajs, kafkajs with the sink's own Produce
 * encoding (`slotline`) and @platformatic/kafka on the same broker with the
 * same records (issue 11: is the client what keeps the Kafka sink from its
 * targets?). The records are the sink's own bytes for the
 * benchmark's table (kafka-clients-records.ts), schemas on and off, no
 * compression and lz4; each client runs in a process of its own
 * (kafka-clients-process.ts), in alternating order, `--runs` times; the table
 * shows medians and each client's per-run ratio to stock kafkajs.
 * Then @platformatic/kafka's compatibilityPartitioner is checked against the
 * sink's murmur2 partitioner on a topic of 7 partitions, and the records it
 * wrote are read back and compared byte for byte with the sink's.
 *
 *   node bench/kafka-clients.ts [--runs 3] [--events 4000] [--passes 10]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { compatibilityPartitioner, Producer, stringSerializer } from '@platformatic/kafka';
import { Kafka, logLevel } from '../connectors/kafka/kafkajs.ts';
import { murmur2 } from '../connectors/kafka/kafka-partitioner.ts';
import { startKafka } from '../test/harness/kafka.ts';
import type { ClientResult, ClientSpec } from './kafka-clients-process.ts';
import { CLIENTS, benchEvents, sinkRequests, type ClientName } from './kafka-clients-records.ts';
import { median } from './report.ts';
import { workerNodeOptions } from './worker-driver.ts';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, events: { type: 'string', default: '4000' }, passes: { type: 'string', default: '10' } },
});
const [runs, events, passes] = [Number(args.runs), Number(args.events), Number(args.passes)];
const log = (message: string): void => console.log(`[kafka-clients] ${message}`);
const CASES = [
  { schemasEnable: true, compression: 'none' },
  { schemasEnable: false, compression: 'none' },
  { schemasEnable: true, compression: 'lz4' },
  { schemasEnable: false, compression: 'lz4' },
] as const;
const PARTITIONS = 7;

function runClient(spec: ClientSpec): Promise<ClientResult> {
  const child = fork(new URL('./kafka-clients-process.ts', import.meta.url), [JSON.stringify(spec)], { execArgv: workerNodeOptions(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (result: ClientResult) => resolve(result));
    child.once('exit', (code) => reject(new Error(`${spec.client} exited with code ${code} before reporting`)));
  });
}

/** Where @platformatic/kafka puts keys on a 7-partition topic, read back, against the sink's murmur2. */
async function checkPartitioner(brokers: string[], kafka: Kafka): Promise<string> {
  const topic = `clients_partitions_${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  await admin.disconnect();
  // The sink's keys of the benchmark table, schemas on and off, and random bytes of every length up to 40.
  // Each with the sink's value and headers (tombstones included), read back byte for byte; the header `i` numbers them.
  const records = [...sinkRequests(benchEvents(1000), true), ...sinkRequests(benchEvents(1000), false)].flat();
  for (let i = 0; i < 2000; i++) records.push({ key: randomBytes(i % 41), value: null, headers: {} });
  const producer = new Producer({
    clientId: 'bench-partitions', bootstrapBrokers: brokers, idempotent: true, partitioner: compatibilityPartitioner,
    serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
  });
  await producer.send({
    messages: records.map((m, i) => ({ topic, key: m.key as Buffer, value: m.value as Buffer, headers: { ...(m.headers as Record<string, string>), i: String(i) } })),
  });
  await producer.close();
  const consumer = kafka.consumer({ groupId: `${topic}_check` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let differ = 0;
  let changed = 0;
  const used = new Set<number>();
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const { i, ...headers } = message.headers!;
        const sent = records[Number(i!.toString())];
        const key = sent.key as Buffer;
        if (((murmur2(key) & 0x7fffffff) % PARTITIONS) !== partition) differ++;
        const sameHeaders = Object.entries(sent.headers!).every(([k, v]) => headers[k]?.toString() === v) && Object.keys(headers).length === Object.keys(sent.headers!).length;
        if (!key.equals(message.key!) || !(sent.value === null ? message.value === null : (sent.value as Buffer).equals(message.value!)) || !sameHeaders) changed++;
        used.add(partition);
        if (++seen === records.length) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return `${records.length} records on ${PARTITIONS} partitions (${used.size} used): ${differ} placed differently from the sink's murmur2 partitioner, ${changed} read back with other key, value or header bytes`;
}

async function main(): Promise<void> {
  const load = [loadavg()[0]];
  const kafkaServer = await startKafka();
  const kafka = new Kafka({ clientId: 'bench-clients-admin', brokers: kafkaServer.brokers, logLevel: logLevel.ERROR });
  const results: Array<{ key: string; run: number; client: ClientName; result: ClientResult }> = [];
  try {
    log(`Kafka ${kafkaServer.version}; ${runs} run(s) of ${passes} passes over ${events} row changes per client and case; load ${load[0].toFixed(1)}`);
    const admin = kafka.admin();
    await admin.connect();
    const topicOf = (client: ClientName, c: (typeof CASES)[number], run: number | 'alloc') => `clients_${client}_${c.schemasEnable ? 'schema' : 'noschema'}_${c.compression}_${run}`;
    const topics = [...CASES.flatMap((c) => [1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, runs).flatMap((run) => CLIENTS.map((client) => topicOf(client, c, run)))),
      ...CLIENTS.flatMap((client) => CASES.slice(0, 2).map((c) => topicOf(client, c, 'alloc')))];
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) });
    await admin.disconnect();
    for (let run = 1; run <= runs; run++) {
      for (const c of CASES) {
        const order: ClientName[] = run % 2 === 1 ? [...CLIENTS] : [...CLIENTS].reverse();
        for (const client of order) {
          const result = await runClient({ client, brokers: kafkaServer.brokers, topic: topicOf(client, c, run), ...c, events, passes, countAlloc: false });
          results.push({ key: `${c.schemasEnable ? 'schemas on ' : 'schemas off'}, ${c.compression.padEnd(4)}`, run, client, result });
          log(`run ${run} ${client} schemas ${c.schemasEnable ? 'on' : 'off'} ${c.compression}: ${(result.records / result.seconds).toFixed(0)} records/s, ${((result.cpuSeconds * 1e6) / result.records).toFixed(1)} µs CPU/record, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
        }
      }
      load.push(loadavg()[0]);
    }
    const alloc = new Map<string, number>();
    for (const client of CLIENTS) {
      for (const c of CASES.slice(0, 2)) {
        const result = await runClient({ client, brokers: kafkaServer.brokers, topic: topicOf(client, c, 'alloc'), ...c, events, passes: 1, countAlloc: true });
        alloc.set(`${client} ${c.schemasEnable}`, result.allocBytesPerRecord!);
      }
    }
    console.log(`\n${table(results, alloc)}\n`);
    log(await checkPartitioner(kafkaServer.brokers, kafka));
    log(`load average (1 min) at start and after each run: ${load.map((l) => l.toFixed(1)).join(', ')}`);
  } finally {
    await kafkaServer.close();
  }
}

function table(results: Array<{ key: string; run: number; client: ClientName; result: ClientResult }>, alloc: Map<string, number>): string {
  const header = ['case', 'client', 'B/record', 'records/s', 'CPU µs/record', 'GC ms/1k rec', 'RSS after warm-up MiB', 'RSS peak MiB', 'Buffer KiB/record', '÷ kafkajs: records/s, CPU/record (per run)'];
  const rows = [header];
  for (const key of [...new Set(results.map((r) => r.key))]) {
    for (const client of CLIENTS) {
      const mine = results.filter((r) => r.key === key && r.client === client).map((r) => r.result);
      const m = (pick: (r: ClientResult) => number, digits: number) => median(mine.map(pick)).toFixed(digits);
      const a = alloc.get(`${client} ${key.startsWith('schemas on')}`);
      let ratios = '';
      if (client !== 'kafkajs') {
        const per = (pick: (r: ClientResult) => number) => results.filter((r) => r.key === key && r.client === client).map((p) => {
          const k = results.find((r) => r.key === key && r.client === 'kafkajs' && r.run === p.run)!;
          return pick(p.result) / pick(k.result);
        });
        const show = (v: number[]) => `${median(v).toFixed(2)}× (${v.map((x) => x.toFixed(2)).join(', ')})`;
        ratios = `${show(per((r) => r.records / r.seconds))}; ${show(per((r) => r.cpuSeconds / r.records))}`;
      }
      rows.push([
        key, client, m((r) => r.recordBytes, 0), m((r) => r.records / r.seconds, 0), m((r) => (r.cpuSeconds * 1e6) / r.records, 1), m((r) => (r.gcSeconds * 1e6) / r.records, 0),
        m((r) => r.rssAfterWarmupBytes / 2 ** 20, 0), m((r) => r.peakRssBytes / 2 ** 20, 0), key.endsWith('none') && a !== undefined ? (a / 1024).toFixed(1) : '', ratios,
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 || i === 9 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
