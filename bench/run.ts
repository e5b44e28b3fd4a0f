/**
 * `npm run bench`: how fast slotline drains a slot, against the server's own
 * limit (pg_recvlogical), into a null sink, into a real Kafka broker, into a
 * real Redis (cache invalidation + write-through per row) and into a real
 * Elasticsearch (one document per row, LSN-versioned).
 *
 * Each backlog phase creates one slot per contender at the same LSN, writes
 * the workload into the WAL, then lets each contender drain its own slot in
 * turn. The live phase streams while a paced workload runs, for latency.
 * First, without servers, what an unwrap + mask pair costs per row (./transforms.ts).
 * See docs/benchmark.md for what each figure means.
 *
 *   node bench/run.ts [--quick] [--pg 17] [--runs 3] [--live-rate 920] [--no-kafka] [--no-debezium] [--no-kafka-warmup] [--no-redis] [--no-es] [--no-snapshot] [--only kafka,null] [--phases small,large,live,snapshot]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startElasticsearch, type EsServer } from '../test/harness/elasticsearch.ts';
import { startKafka, type KafkaServer } from '../test/harness/kafka.ts';
import { startPostgres, type PgServer } from '../test/harness/postgres.ts';
import { startRedis, type RedisServer } from '../test/harness/redis.ts';
import { drainWithRecvlogical } from './recvlogical.ts';
import { drainWithDebezium, type DebeziumDrain } from './debezium.ts';
import { warmUpKafka } from './kafka-warmup.ts';
import { formatHttpCost, formatKafkaTargets, formatTable, writeReport, type BenchReport, type ContenderResult, type PhaseResult } from './report.ts';
import { startWorkerProcess, type WorkerResult } from './worker-driver.ts';
import { formatTransformCost, measureTransforms } from './transforms.ts';
import * as workload from './workload.ts';

const SIZES = {
  quick: { seedRows: 20_000, smallTransactions: 5_000, largeRows: 50_000, liveWarmupSeconds: 1, liveSeconds: 5, liveTxPerSec: 200, snapshotRows: 100_000 },
  // Live: ~920 transactions/s of ~5.4 row changes each, about 5 000 row changes/s, after 5 s of the same as warm-up.
  default: { seedRows: 100_000, smallTransactions: 30_000, largeRows: 200_000, liveWarmupSeconds: 5, liveSeconds: 20, liveTxPerSec: 920, snapshotRows: 1_000_000 },
};
const DATABASE = 'bench';
const PUBLICATION = 'bench';
const SNAPSHOT_PUBLICATION = 'bench_snapshot';
const TABLE = `public.${workload.TABLE}`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pg: { type: 'string', default: '17' },
    runs: { type: 'string', default: '1' },
    'live-rate': { type: 'string' },
    'no-kafka': { type: 'boolean', default: false },
    'no-debezium': { type: 'boolean', default: false },
    'no-kafka-warmup': { type: 'boolean', default: false },
    'no-snapshot': { type: 'boolean', default: false },
    only: { type: 'string' },
    phases: { type: 'string', default: 'small,large,live,snapshot' },
    'no-redis': { type: 'boolean', default: false },
    'no-es': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/run.ts [--quick] [--pg <major 14-18>] [--runs <n>] [--live-rate <tx/s>] [--no-kafka] [--no-debezium] [--no-kafka-warmup] [--no-redis] [--no-es] [--no-snapshot] [--only <contender,…>] [--phases <small,large,live,snapshot>]');
  process.exit(0);
}
const sizes = { ...(args.quick ? SIZES.quick : SIZES.default) };
if (args['live-rate'] !== undefined) sizes.liveTxPerSec = Number(args['live-rate']);
const runs = Number(args.runs);
const major = Number(args.pg);
const PHASES = ['small', 'large', 'live', 'snapshot'] as const;
const phases = new Set(args.phases.split(','));
if (args['no-snapshot']) phases.delete('snapshot');
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(major) || !(sizes.liveTxPerSec > 0) || [...phases].some((p) => !(PHASES as readonly string[]).includes(p))) {
  console.error('--runs wants a whole number ≥ 1, --pg a major (14-18), --live-rate transactions per second > 0, --phases some of small,large,live,snapshot');
  process.exit(2);
}
const log = (message: string): void => console.log(`[bench] ${message}`);
const seconds = (from: number): number => (performance.now() - from) / 1000;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const environment = { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: loadavg(), node: process.version };
  log(`PostgreSQL ${major}${args['no-kafka'] ? '' : ' and Kafka'} starting; ${args.quick ? 'quick' : 'default'} sizes, ${runs} run(s)`);
  const [pgStart, kafkaStart] = await Promise.allSettled([startPostgres({ major }), args['no-kafka'] ? Promise.resolve(null) : startKafka()]);
  const server = pgStart.status === 'fulfilled' ? pgStart.value : null;
  const kafka = kafkaStart.status === 'fulfilled' ? kafkaStart.value : null;
  const redis = args['no-redis'] ? null : await startRedis();
  const es = args['no-es'] ? null : await startElasticsearch();
  targets = contenders(kafka, redis, es).filter(([who]) => args.only === undefined || args.only.split(',').includes(who));
  debezium = kafka && !args['no-debezium'] ? { brokers: kafka.brokers, version: kafka.version } : null;
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled([server?.stop(), kafka?.close(), redis?.close(), es?.close()]);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    if (pgStart.status === 'rejected') throw pgStart.reason;
    if (kafkaStart.status === 'rejected') throw kafkaStart.reason;
    const report: BenchReport = {
      startedAt,
      options: { quick: args.quick, pg: major, runs, kafka: kafka !== null, sizes },
      environment: { ...environment, postgres: server!.version, kafka: kafka?.version ?? null },
      phases: [],
      transforms: measureTransforms(args.quick ? 1 : 2),
    };
    log(formatTransformCost(report.transforms!));
    const bench = await prepare(server!);
    if (kafka && !args['no-kafka-warmup']) {
      const warm = await warmUpKafka(kafka.brokers, args.quick ? 100 : 300);
      log(`Kafka broker warmed up: ${warm.requests} produce requests of ~1 MB in ${warm.seconds.toFixed(1)} s (its JIT compiles the produce path before anything is measured)`);
    }
    for (let run = 1; run <= runs; run++) {
      if (phases.has('small')) report.phases.push(await backlogPhase(bench, 'small', run, (url) => workload.runSmallTransactions(url, sizes.smallTransactions)));
      if (phases.has('large')) report.phases.push(await backlogPhase(bench, 'large', run, (url) => workload.runLargeTransaction(url, sizes.largeRows)));
      if (phases.has('live')) report.phases.push(...(await livePhase(bench, run)));
      if (phases.has('snapshot')) report.phases.push(await snapshotPhase(bench, run));
    }
    const file = await writeReport(report, new URL('./results/', import.meta.url).pathname);
    console.log(`\n${formatTable(report)}\n`);
    if (kafka) console.log(`${formatKafkaTargets(report)}\n`);
    const httpCost = formatHttpCost(report);
    if (httpCost !== '') console.log(`${httpCost}\n`);
    log(`figures written to ${file}`);
  } finally {
    await cleanup();
  }
}

/** A contender's slot in a phase run (slot names allow only a-z, 0-9 and _). */
function slotName(phase: PhaseResult['phase'], run: number, who: string): string {
  return `bench_${phase}_${run}_${who.replace(/-/g, '_')}`;
}

interface Bench {
  server: PgServer;
  url: string;
}

async function prepare(server: PgServer): Promise<Bench> {
  await server.createDatabase(DATABASE);
  const url = server.url(DATABASE);
  await workload.setupWorkload(url, PUBLICATION, sizes.seedRows);
  const snapshotRows = phases.has('snapshot') ? sizes.snapshotRows : 0;
  if (snapshotRows > 0) await workload.setupSnapshotTable(url, SNAPSHOT_PUBLICATION, snapshotRows);
  log(`PostgreSQL ${server.version} ready; ${sizes.seedRows} seed rows in ${TABLE}, ${snapshotRows} in public.${workload.SNAPSHOT_TABLE}`);
  return { server, url };
}

async function backlogPhase(
  bench: Bench,
  phase: 'small' | 'large',
  run: number,
  generate: (url: string) => Promise<workload.WorkloadCounts>,
): Promise<PhaseResult> {
  const slotOf = (who: string): string => slotName(phase, run, who);
  const debeziums = debezium ? DEBEZIUM_VARIANTS : [];
  await workload.createSlots(bench.url, [slotOf('recv'), ...targets.map(([who]) => slotOf(who)), ...debeziums.map(([who]) => slotOf(who))]);
  const startLsn = await workload.currentWalLsn(bench.url);
  const generating = performance.now();
  const counts = await generate(bench.url);
  const generateSeconds = seconds(generating);
  const endLsn = await workload.currentWalLsn(bench.url);
  const walBytes = await workload.walBytesBetween(bench.url, startLsn, endLsn);
  const rowChanges = workload.rowChanges(counts);
  log(`${phase} run ${run}: ${rowChanges} row changes in ${counts.transactions} tx, ${(walBytes / 2 ** 20).toFixed(0)} MiB WAL, written in ${generateSeconds.toFixed(1)} s`);

  const contenders: ContenderResult[] = [];
  const recv = await drainWithRecvlogical({ server: bench.server, database: DATABASE, slot: slotOf('recv'), publication: PUBLICATION, endLsn });
  await workload.dropSlot(bench.url, slotOf('recv'));
  contenders.push({ contender: 'pg_recvlogical', rowChanges, seconds: recv.seconds, rowsPerSec: rowChanges / recv.seconds });
  log(`  pg_recvlogical (client ${recv.clientMajor}): ${recv.seconds.toFixed(2)} s`);

  for (const [who, sinkFile] of targets) {
    const handle = startWorkerProcess({ url: bench.url, slot: slotOf(who), publication: PUBLICATION, table: TABLE, sinkFile: sinkFile?.(slotOf(who)) ?? null, expectedEvents: rowChanges, http: who === 'null-http' });
    const worker = await handle.result.catch((err: unknown) => {
      handle.kill();
      throw err;
    });
    await workload.dropSlot(bench.url, slotOf(who));
    contenders.push(slotlineResult(who, worker, worker.seconds));
    log(`  slotline→${who}: ${worker.seconds.toFixed(2)} s (steady ${(worker.events / worker.steadySeconds).toFixed(0)} rows/s), peak RSS ${(worker.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }

  for (const [who, producer] of debeziums) {
    const drain = await drainWithDebezium({
      server: bench.server, database: DATABASE, slot: slotOf(who), publication: PUBLICATION, table: TABLE, brokers: debezium!.brokers,
      kafkaVersion: debezium!.version, topicPrefix: `${slotOf(who)}_${Date.now()}`, schemasEnable: true, producer,
      // One record per row change and a tombstone after each delete, as slotline's Kafka sink writes.
      expectedRecords: rowChanges + counts.deleted,
    });
    await workload.dropSlot(bench.url, slotOf(who));
    contenders.push(debeziumResult(who, drain, rowChanges));
    log(`  ${who}: ${drain.seconds.toFixed(2)} s from JVM start, steady ${(rowChanges / drain.steadySeconds).toFixed(0)} rows/s, ${drain.records} records, peak RSS ${(drain.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  return { phase, run, workload: counts, walBytes, generateSeconds, contenders };
}

/** Per sink: a fresh slot, the worker streaming, then a paced workload; latency is commit → ack without a backlog. */
async function livePhase(bench: Bench, run: number): Promise<PhaseResult[]> {
  const results: PhaseResult[] = [];
  for (const [who, sinkFile] of targets) {
    const slot = slotName('live', run, who);
    await workload.createSlots(bench.url, [slot]);
    const handle = startWorkerProcess({ url: bench.url, slot, publication: PUBLICATION, table: TABLE, sinkFile: sinkFile?.(slot) ?? null, expectedEvents: null, warmup: true });
    try {
      await handle.started;
      while (!(await workload.slotActive(bench.url, slot))) await new Promise((resolve) => setTimeout(resolve, 50));
      // The worker's first seconds (cold code, the sink's first metadata and topic checks) at the same
      // rate, their latencies reported apart: the live figures are those of a running worker.
      const generating = performance.now();
      const warm = await workload.runSmallTransactions(bench.url, sizes.liveWarmupSeconds * sizes.liveTxPerSec, sizes.liveTxPerSec, 0.17);
      handle.measureFromNow();
      const counts = await workload.runSmallTransactions(bench.url, sizes.liveSeconds * sizes.liveTxPerSec, sizes.liveTxPerSec);
      const generateSeconds = seconds(generating);
      const both = { transactions: warm.transactions + counts.transactions, inserted: warm.inserted + counts.inserted, updated: warm.updated + counts.updated, deleted: warm.deleted + counts.deleted };
      handle.expect(workload.rowChanges(both));
      const worker = await handle.result;
      await workload.dropSlot(bench.url, slot);
      // Offered load: the rate the workload was written at, which the worker kept up with.
      results.push({ phase: 'live', run, workload: both, generateSeconds, contenders: [slotlineResult(who, worker, generateSeconds)] });
      const warmup = worker.warmupLatency;
      const handed = worker.handedLatency;
      log(`live run ${run} slotline→${who}: ${worker.events} row changes over ${generateSeconds.toFixed(1)} s, p50 ${worker.latency?.p50Ms} ms, p99 ${worker.latency?.p99Ms} ms, max ${worker.latency?.maxMs} ms; handed to the sink p50 ${handed?.p50Ms} ms, p99 ${handed?.p99Ms} ms (first ${sizes.liveWarmupSeconds} s, apart: p99 ${warmup?.p99Ms} ms, max ${warmup?.maxMs} ms)`);
    } catch (err) {
      handle.kill();
      throw err;
    }
  }
  return results;
}

/** Initial snapshot of a table (rows/s into the null sink and Kafka): each contender creates its slot with an exported snapshot, reads, exits. */
async function snapshotPhase(bench: Bench, run: number): Promise<PhaseResult> {
  const contenders: ContenderResult[] = [];
  for (const [who, sinkFile] of targets.filter(([who]) => who === 'null' || who === 'kafka')) {
    const slot = slotName('snapshot', run, who);
    const table = `public.${workload.SNAPSHOT_TABLE}`;
    const handle = startWorkerProcess({
      url: bench.url, slot, publication: SNAPSHOT_PUBLICATION, table, sinkFile: sinkFile?.(slot) ?? null, expectedEvents: sizes.snapshotRows, snapshot: true,
    });
    const worker = await handle.result.catch((err: unknown) => {
      handle.kill();
      throw err;
    });
    await workload.dropSlot(bench.url, slot);
    contenders.push(slotlineResult(who, worker, worker.seconds));
    log(`snapshot run ${run} slotline→${who}: ${worker.events} rows in ${worker.seconds.toFixed(2)} s, peak RSS ${(worker.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  return { phase: 'snapshot', run, workload: { transactions: 0, inserted: sizes.snapshotRows, updated: 0, deleted: 0 }, generateSeconds: 0, contenders };
}

/** The Kafka sink's compression in the bench, which the tuned Debezium producer uses too. */
const KAFKA_COMPRESSION = 'none';

/** Debezium on Kafka Connect: defaults, and the producer tuned the way Debezium users tune it. */
const DEBEZIUM_VARIANTS: ReadonlyArray<[who: 'debezium' | 'debezium-tuned', producer: Record<string, string>]> = [
  ['debezium', {}],
  ['debezium-tuned', { 'linger.ms': '20', 'batch.size': '1048576', 'compression.type': KAFKA_COMPRESSION }],
];
let debezium: { brokers: string[]; version: string } | null = null;

/** A slotline contender: its name, and its sink file for a slot (null: the null sink). */
type Contender = [who: string, sinkFile: ((slot: string) => string) | null];
let targets: Contender[] = [];

/** The slotline contenders: a null sink always; Kafka, Redis and Elasticsearch when their servers run. */
function contenders(kafka: KafkaServer | null, redis: RedisServer | null, es: EsServer | null): Contender[] {
  const list: Contender[] = [['null', null], ['null-http', null]];
  if (kafka) {
    const sinkFile = (extra: string) => () =>
      `name: kafka\ntype: kafka\nbrokers: ${JSON.stringify(kafka.brokers)}\ncompression: ${KAFKA_COMPRESSION}\ncreate_topics: { enabled: true, partitions: 1, replication_factor: 1 }\n${extra}`;
    list.push(['kafka', sinkFile('')]);
    list.push(['kafka-noschema', sinkFile('schemas_enable: false\n')]);
    // Its own transactional id per slot: each drain starts without a checkpoint. The large
    // transaction is one Kafka transaction: give it the broker's maximum time (15 min).
    list.push(['kafka-eos', (slot) => sinkFile(`exactly_once: true\ntransactional_id: ${slot}\ntransaction_timeout_ms: 900000\n`)()]);
  }
  if (redis) {
    // A cache in front of the workload table: one key deleted and one row written through per change.
    list.push(['redis', () => `name: redis\ntype: redis\nurl: ${JSON.stringify(redis.url)}\nrules:\n  - tables: [${JSON.stringify(TABLE)}]\n    invalidate: ["bench:row:{id}:page"]\n    refresh: { key: "bench:row:{id}", ttl: 3600 }\n`]);
  }
  if (es) {
    // One index per slot: a contender replaying the same WAL into another's index would only meet 409s.
    list.push(['elasticsearch', (slot) => `name: search\ntype: elasticsearch\nnode: ${JSON.stringify(es.node)}\nindex: "${slot}"\ncreate_index: true\nindex_settings: { number_of_replicas: 0 }\n`]);
  }
  return list;
}

function slotlineResult(who: string, worker: WorkerResult, overSeconds: number): ContenderResult {
  return {
    contender: `slotline→${who}`,
    rowChanges: worker.events,
    seconds: overSeconds,
    rowsPerSec: worker.events / overSeconds,
    steadyRowsPerSec: worker.events / worker.steadySeconds,
    worker,
  };
}

function debeziumResult(who: 'debezium' | 'debezium-tuned', drain: DebeziumDrain, rowChanges: number): ContenderResult {
  return {
    contender: who,
    rowChanges,
    seconds: drain.seconds,
    rowsPerSec: rowChanges / drain.seconds,
    steadyRowsPerSec: rowChanges / drain.steadySeconds,
    process: { peakRssBytes: drain.peakRssBytes, cpuSeconds: drain.cpuSeconds },
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
