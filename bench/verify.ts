/**
 * `npm run bench:verify`: how fast `slotline verify` reconciles a table with
 * an Elasticsearch index. One PostgreSQL and one Elasticsearch node as local
 * processes; a table of the benchmark's typical width (bench/workload.ts)
 * with 1 000 000 rows, indexed by slotline's own initial snapshot; then
 * verify runs on it (each run a process of its own), in sync, and once more
 * with 1% of the documents deleted (the re-check path). Prints medians and
 * writes bench/results/verify-<timestamp>.json.
 *
 *   node bench/verify.ts [--rows 1000000] [--runs 3] [--pg 17] [--heap <MiB>]
 *
 * `--heap` caps verify's V8 heap (--max-old-space-size): memory does not grow with the table.
 */
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { startElasticsearch } from '../test/harness/elasticsearch.ts';
import { startPostgres } from '../test/harness/postgres.ts';
import type { VerifyRunResult } from './verify-process.ts';
import { startWorkerProcess } from './worker-driver.ts';
import * as workload from './workload.ts';

const { values: args } = parseArgs({
  options: { heap: { type: 'string' }, rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, pg: { type: 'string', default: '17' } },
});
const rows = Number(args.rows);
const runs = Number(args.runs);
const INDEX = 'bench-verify';
const PUBLICATION = 'bench_snapshot';
const TABLE = `public.${workload.SNAPSHOT_TABLE}`;
const log = (message: string): void => console.log(`[bench:verify] ${message}`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function verifyOnce(configFile: string, url: string): Promise<VerifyRunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./verify-process.ts', import.meta.url), [configFile, url], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [
        ...(args.heap ? [`--max-old-space-size=${args.heap}`] : []),
        ...(process.env.SLOTLINE_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SLOTLINE_BENCH_PROF}`] : []),
      ],
    });
    child.once('message', (m) => resolve(m as VerifyRunResult));
    child.once('exit', (code) => reject(new Error(`verify process exited with code ${code}`)));
  });
}

async function main(): Promise<void> {
  const environment = { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: loadavg(), node: process.version };
  const [server, es] = await Promise.all([startPostgres({ major: Number(args.pg) }), startElasticsearch()]);
  const dir = await mkdtemp(join(tmpdir(), 'slotline-bench-verify-'));
  const client = new Client({ node: es.node, requestTimeout: 600_000 });
  try {
    await server.createDatabase('bench');
    const url = server.url('bench');
    await workload.setupWorkload(url, 'bench', 1000);
    await workload.setupSnapshotTable(url, PUBLICATION, rows);
    const sinkFile = `name: search\ntype: elasticsearch\nnode: ${JSON.stringify(es.node)}\nindex: ${INDEX}\ncreate_index: true\nindex_settings: { number_of_replicas: 0 }\n`;
    let started = performance.now();
    const snapshot = await startWorkerProcess({ url, slot: 'bench_verify', publication: PUBLICATION, table: TABLE, sinkFile, expectedEvents: rows, snapshot: true }).result;
    log(`${rows} rows indexed by slotline's initial snapshot in ${((performance.now() - started) / 1000).toFixed(1)} s (${snapshot.events} reads)`);
    await client.indices.refresh({ index: INDEX });

    await mkdir(join(dir, 'sinks'));
    const configFile = join(dir, 'slotline.yaml');
    await writeFile(configFile, `source:\n  url: \${BENCH_DATABASE_URL}\n  slot: bench_verify\n  publication: ${PUBLICATION}\n  tables: [${TABLE}]\ntopic_prefix: bench\nsinks: [sinks/search.yaml]\nlog: { level: warn }\n`);
    await writeFile(join(dir, 'sinks', 'search.yaml'), sinkFile);

    const clean: VerifyRunResult[] = [];
    for (let run = 1; run <= runs; run++) {
      const result = await verifyOnce(configFile, url);
      if (result.drift || result.matched !== rows) throw new Error(`run ${run}: expected ${rows} matched rows and no drift, got ${JSON.stringify(result)}`);
      clean.push(result);
      log(`in sync, run ${run}: ${result.rows} rows in ${result.seconds.toFixed(1)} s = ${Math.round(result.rowsPerSecond)} rows/s, CPU ${result.cpuSeconds.toFixed(1)} s, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }

    started = performance.now();
    const deleted = await client.deleteByQuery({ index: INDEX, refresh: true, query: { script: { script: "doc['id'].value % 100 == 0" } } }).catch(async () => {
      // The test distribution has no Painless: delete by ids instead.
      const ids = Array.from({ length: Math.floor(rows / 100) }, (_, i) => String((i + 1) * 100));
      const operations = ids.flatMap((id) => [{ delete: { _index: INDEX, _id: id } }]);
      await client.bulk({ operations, refresh: true });
      return { deleted: ids.length };
    });
    log(`${deleted.deleted} documents deleted (1%) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const damaged = await verifyOnce(configFile, url);
    if (damaged.missing !== deleted.deleted) throw new Error(`expected ${deleted.deleted} missing, got ${JSON.stringify(damaged)}`);
    log(`1% missing: ${damaged.rows} rows in ${damaged.seconds.toFixed(1)} s = ${Math.round(damaged.rowsPerSecond)} rows/s, ${damaged.missing} missing found, peak RSS ${(damaged.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);

    const summary = {
      rows,
      runs,
      inSync: { medianRowsPerSecond: Math.round(median(clean.map((r) => r.rowsPerSecond))), medianSeconds: median(clean.map((r) => r.seconds)), medianPeakRssMiB: Math.round(median(clean.map((r) => r.peakRssBytes)) / 2 ** 20) },
      onePercentMissing: { rowsPerSecond: Math.round(damaged.rowsPerSecond), seconds: damaged.seconds, missing: damaged.missing },
    };
    console.log(`\nverify ${rows} rows against Elasticsearch ${es.version ?? ''}, PostgreSQL ${server.version}, ${environment.cpus} CPUs`);
    console.log(`  in sync (median of ${runs}): ${summary.inSync.medianRowsPerSecond} rows/s, ${summary.inSync.medianSeconds.toFixed(1)} s, peak RSS ${summary.inSync.medianPeakRssMiB} MiB`);
    console.log(`  1% of documents missing:   ${summary.onePercentMissing.rowsPerSecond} rows/s, ${summary.onePercentMissing.seconds.toFixed(1)} s\n`);
    const results = new URL('./results/', import.meta.url).pathname;
    const file = join(results, `verify-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify({ environment, summary, clean, damaged }, null, 2)}\n`);
    log(`figures written to ${file}`);
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
    await Promise.allSettled([server.stop(), es.close()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
