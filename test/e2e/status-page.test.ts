/**
 * The status page in headless Chromium, against a real pipeline: a private
 * PostgreSQL (so no other test's WAL moves the lag), a private Kafka (so it
 * can be stopped), and two sinks, Kafka and a console file. The test reads the
 * figures off the rendered page and watches them move:
 *
 * - green and streaming at the start; rows/s, events and checkpoints move
 *   while changes flow; lag comes back to 0 and rows/s to 0 when they stop;
 * - with Kafka stopped the page turns red and names the sink, its row says
 *   retrying with the error, lag grows while the console sink goes on;
 * - with Kafka back it turns green and lag returns to 0.
 *
 * Screenshots of both states are saved beside the test's config.
 */
import { writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type HeadlessBrowser } from '../harness/browser.ts';
import { uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { databaseOn } from './operations-support.ts';
import { lsnOf, openStatusPage, type StatusPage } from './status-page-support.ts';
import { eventually, runInProcess, writeConfig } from './support.ts';

let pg: PgServer;
let kafka: KafkaServer;
let browser: HeadlessBrowser;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [pg, kafka, browser] = await Promise.all([startPostgres({ major: 17 }), startKafka(), launchChromium()]);
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await Promise.allSettled([browser?.close(), kafka?.close(), pg?.stop()]);
});

/** Inserts `rows` rows per transaction, one transaction every 100 ms, until stopped; resolves with the rows inserted. */
function keepInserting(db: FreshDatabase, rows: number): { stop(): Promise<number> } {
  let running = true;
  let inserted = 0;
  const loop = (async () => {
    const deadline = Date.now() + 60_000; // bounded, whatever the test does
    while (running && Date.now() < deadline) {
      await db.sql(`INSERT INTO public.orders (note) SELECT 'order ' || g FROM generate_series(1, ${rows}) g`);
      inserted += rows;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return inserted;
    },
  };
}

async function sinkFigures(page: StatusPage, sink: string) {
  return {
    rows: await page.figure(`sink-${sink}-rows`),
    events: await page.figure(`sink-${sink}-events`),
    checkpoint: lsnOf(await page.text(`sink-${sink}-checkpoint`)),
    state: await page.text(`sink-${sink}-state`),
  };
}

async function isReady(page: StatusPage): Promise<boolean> {
  return (await page.page.getByTestId('state').getAttribute('data-ready')) === 'true';
}

describe('status page', () => {
  it('shows a real pipeline as it runs, stalls on a Kafka outage and recovers', { timeout: 240_000 }, async () => {
    const db = await databaseOn(pg, uniqueName('status_page'));
    await db.sql('CREATE TABLE public.orders (id serial PRIMARY KEY, note text NOT NULL)');
    const slot = uniqueName('page');
    const config = await writeConfig({ db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('page'), brokers: kafka.brokers, tables: ['public.orders'] });
    const dir = dirname(config);
    await writeFile(join(dir, 'sinks', 'console.yaml'), `name: console\ntype: console\noutput: ${JSON.stringify(join(dir, 'console.jsonl'))}\n`);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;

    const page = await openStatusPage(browser, url, { width: 1400, height: 1100 });
    await eventually(() => isReady(page), 30_000, 'the page to say ready');
    expect(await page.text('state')).toBe('ready');
    expect(await page.text('pipeline-state')).toBe('streaming');
    expect(await page.text('slot')).toBe(slot);
    expect(await page.text('server')).toBe(`127.0.0.1:${pg.port}`);
    const before = { kafka: await sinkFigures(page, 'kafka'), console: await sinkFigures(page, 'console') };
    expect(before.kafka.events).toEqual({ text: '0', value: 0 });

    // Changes flow: the page shows rows/s above 0 for both sinks, and the checkpoints move.
    const writer = keepInserting(db, 50);
    let inserted: number;
    try {
      await eventually(async () => {
        const [k, c] = [await sinkFigures(page, 'kafka'), await sinkFigures(page, 'console')];
        return k.rows.value > 0 && c.rows.value > 0 && k.checkpoint > before.kafka.checkpoint && c.checkpoint > before.console.checkpoint;
      }, 60_000, 'rows/s above 0 and checkpoints moving on the page');
    } finally {
      inserted = await writer.stop();
    }
    const flowing = await sinkFigures(page, 'kafka');
    expect(flowing.rows.text).toMatch(/^[\d,.]+ rows\/s$/);

    // Caught up: every row counted on both sinks, lag 0 in bytes and seconds, rows/s back to 0.
    await eventually(async () => {
      const [k, c] = [await sinkFigures(page, 'kafka'), await sinkFigures(page, 'console')];
      const [bytes, seconds] = [await page.figure('lag-bytes'), await page.figure('lag-seconds')];
      return k.events.value === inserted && c.events.value === inserted && bytes.value === 0 && seconds.value === 0 && k.rows.value === 0 && c.rows.value === 0;
    }, 60_000, `both sinks at ${inserted} events, lag 0 and rows/s 0 on the page`);
    expect(await page.figure('lag-bytes')).toEqual({ text: '0 B', value: 0 });
    expect(await page.figure('lag-seconds')).toEqual({ text: '0 s', value: 0 });
    expect((await sinkFigures(page, 'kafka')).events.text).toBe(inserted.toLocaleString('en-US'));
    expect(await page.text('sink-kafka-error')).toBe('none');
    // The charts drew a line per sink and the lag.
    const lines = await page.page.locator('[data-testid="chart-rows"] polyline').evaluateAll((els: { getAttribute(n: string): string | null }[]) => els.map((l) => l.getAttribute('data-series')));
    expect(lines.sort()).toEqual(['console', 'kafka']);
    expect(await page.page.locator('[data-testid="chart-lag-bytes"] polyline').count()).toBe(1);
    await page.page.screenshot({ path: join(dir, 'status-page-green.png'), fullPage: true });

    // Kafka stops: red, the reason names the sink, its row says retrying, lag grows; the console sink goes on.
    await kafka.stop();
    await db.sql(`INSERT INTO public.orders (note) SELECT 'during the outage ' || g FROM generate_series(1, 10) g`);
    await eventually(async () => !(await isReady(page)) && (await page.text('sink-kafka-state')) === 'retrying', 90_000, 'the page to turn red with kafka retrying');
    expect(await page.text('state')).toBe('not ready');
    expect(await page.text('ready-reasons')).toContain('"kafka"');
    expect(await page.text('sink-kafka-error')).toMatch(/^retryable\s+\S/);
    await eventually(async () => (await page.figure('sink-console-events')).value === inserted + 10, 30_000, 'the console sink to go on');
    await eventually(async () => (await page.figure('lag-seconds')).value > 1 && (await page.figure('lag-bytes')).value > 0, 30_000, 'lag to grow on the page');
    const lag = await page.figure('lag-bytes');
    expect(lag.text).toMatch(/^\d+(\.\d+)? (B|KiB|MiB)$/);
    // Kafka's checkpoint stays behind the console sink's, which has the outage's rows.
    const held = { kafka: lsnOf(await page.text('sink-kafka-checkpoint')), console: lsnOf(await page.text('sink-console-checkpoint')) };
    expect(held.kafka).toBeLessThan(held.console);
    expect(await page.page.getByTestId('sink-kafka').locator('.tag').textContent()).toBe('slowest');
    await page.page.screenshot({ path: join(dir, 'status-page-red.png'), fullPage: true });

    // Kafka back: green again, the outage's rows written, lag 0.
    await kafka.start();
    await eventually(async () => {
      const k = await sinkFigures(page, 'kafka');
      return (await isReady(page)) && k.events.value === inserted + 10 && (await page.figure('lag-bytes')).value === 0 && (await page.figure('lag-seconds')).value === 0;
    }, 120_000, 'the page to turn green with lag 0 after Kafka is back');
    expect(await page.text('sink-kafka-state')).toBe('ok');
    expect(await page.text('ready-reasons')).toBe('');
    const screenshot = join(dir, 'status-page.png');
    await page.page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    console.log(`status page screenshots: ${dir}/status-page{,-green,-red}.png`);
    expect(page.problems).toEqual([]);
  });
});
