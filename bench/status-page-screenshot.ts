/**
 * Takes docs/status-page.png: the status page of a real pipeline after six
 * minutes of uneven traffic (by then the initial snapshot's burst has left the
 * chart's five-minute window). Private PostgreSQL 17, Kafka and Redis (the test
 * harness's), two sinks (Kafka for every table, a Redis cache for orders), an
 * initial snapshot of preloaded rows, then waves of inserts and updates, still
 * flowing when the picture is taken.
 *
 *   node bench/status-page-screenshot.ts [--minutes 6] [--out docs/status-page.png]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sinkConfigSchemas } from '../connectors/index.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { startWorker } from '../src/runtime/worker.ts';
import { launchChromium } from '../test/harness/browser.ts';
import { startKafka } from '../test/harness/kafka.ts';
import { startPostgres } from '../test/harness/postgres.ts';
import { startRedis } from '../test/harness/redis.ts';
import { openStatusPage } from '../test/e2e/status-page-support.ts';

const { values: args } = parseArgs({ options: { minutes: { type: 'string', default: '6' }, out: { type: 'string', default: 'docs/status-page.png' } } });
const minutes = Number(args.minutes);
const out = resolve(args.out!);
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

log('starting PostgreSQL 17, Kafka and Redis');
const [pg, kafka, redis] = await Promise.all([startPostgres({ major: 17 }), startKafka(), startRedis()]);
const dir = await mkdtemp(join(tmpdir(), 'slotline-screenshot-'));
try {
  await pg.createDatabase('shop');
  const sql = (text: string) => pg.query(text, [], 'shop');
  await sql(`CREATE TABLE public.products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, stock int NOT NULL)`);
  await sql(`CREATE TABLE public.orders (id bigserial PRIMARY KEY, product_id int NOT NULL, quantity int NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  await sql(`INSERT INTO public.products SELECT g, 'product ' || g, (g % 97) + 0.99, 100 FROM generate_series(1, 5000) g`);
  await sql(`INSERT INTO public.orders (product_id, quantity, status) SELECT 1 + g % 5000, 1 + g % 4, 'paid' FROM generate_series(1, 60000) g`);

  await mkdir(join(dir, 'sinks'));
  await writeFile(join(dir, 'slotline.yaml'), `source:
  url: ${JSON.stringify(pg.url('shop'))}
  slot: slotline
  publication: slotline
  tables: [public.products, public.orders]
  status_interval_ms: 1000
  heartbeat_interval_ms: 10000
topic_prefix: shop
sinks: sinks/
http:
  listen: "127.0.0.1:0"
log:
  level: warn
`);
  await writeFile(join(dir, 'sinks', 'kafka.yaml'), `name: kafka
type: kafka
brokers: ${JSON.stringify(kafka.brokers)}
create_topics: { enabled: true }
`);
  await writeFile(join(dir, 'sinks', 'cache.yaml'), `name: cache
type: redis
url: ${JSON.stringify(redis.url)}
tables: [public.orders]
rules:
  - tables: [public.orders]
    refresh: { key: "order:{id}", ttl: 3600 }
`);
  const config = await loadConfig(join(dir, 'slotline.yaml'), { sinkTypes: sinkConfigSchemas() });
  const worker = await startWorker(config, createLogger('warn'));
  worker.run().catch((err: Error) => log(`worker stopped: ${err.message}`));
  const url = worker.operations.http!.url;
  log(`slotline at ${url}; ${minutes} min of traffic`);

  // Uneven traffic: a slow wave of small order transactions, and now and then a
  // bulk price update that makes a short lag peak. It goes on during the screenshot.
  const end = Date.now() + minutes * 60_000;
  let traffic = true;
  const running = (async () => {
    for (let tick = 1; traffic; tick++) {
      const wave = 0.5 + 0.5 * Math.sin(tick / 40);
      const orders = Math.round(100 + 400 * wave);
      await sql(`INSERT INTO public.orders (product_id, quantity, status) SELECT 1 + (random() * 4999)::int, 1 + (random() * 3)::int, 'new' FROM generate_series(1, ${orders})`);
      if (tick % 3 === 0) await sql(`UPDATE public.orders SET status = 'paid' WHERE id IN (SELECT id FROM public.orders WHERE status = 'new' LIMIT ${orders})`);
      if (tick % 150 === 75) await sql(`UPDATE public.products SET price = price * 1.01, stock = stock - 1`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await new Promise((r) => setTimeout(r, end - Date.now()));

  log('taking the screenshot');
  const browser = await launchChromium();
  try {
    const page = await openStatusPage(browser, url, { width: 1400, height: 1000 });
    await page.page.getByTestId('sink-cache-rows').waitFor();
    // One more poll, so the chart has the page's own sample too.
    await page.page.waitForResponse((r) => r.url().endsWith('/status'));
    await page.page.screenshot({ path: out, fullPage: true });
    if (page.problems.length > 0) throw new Error(`the page had problems: ${page.problems.join('; ')}`);
  } finally {
    await browser.close();
    traffic = false;
    await running;
  }
  log(`wrote ${out}`);
  await worker.stop();
} finally {
  await Promise.allSettled([kafka.close(), redis.close(), pg.stop()]);
  await rm(dir, { recursive: true, force: true });
}
