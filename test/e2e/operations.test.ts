/**
 * The operations endpoints of a real pipeline (a private PostgreSQL, so no
 * other test's WAL moves the lag; the shared Kafka; a private Kafka for the
 * outage):
 *
 * - after known changes the counters say exactly that, lag returns to 0,
 *   /status agrees, and promtool accepts the exposition;
 * - with Kafka stopped /readyz turns 503 naming the sink and the lag grows;
 *   with Kafka back it turns 200 and the lag falls to 0;
 * - paused at the in-flight ceiling while Kafka is down, the worker is not
 *   reported dead (/healthz), though the paused socket reads no keepalives;
 * - a SIGKILLed worker, restarted, serves fresh metrics of its own;
 * - nothing secret appears on any endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esNode, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { writeEsConfig } from './elasticsearch-support.ts';
import { databaseOn, getJson, promtoolCheckMetrics, scrape } from './operations-support.ts';
import { eventually, httpAddress, runInProcess, spawnWorker, writeConfig } from './support.ts';

let server: PgServer;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  server = await startPostgres({ major: 17 });
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await server?.stop();
});

async function itemsDatabase(name: string) {
  const db = await databaseOn(server, uniqueName(name));
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL)');
  return db;
}

const TABLE = { table: 'public.items' };

describe('operations endpoints', () => {
  it('count exactly what flowed, show lag 0 once caught up, and pass promtool', async () => {
    const db = await itemsDatabase('ops_counts');
    const config = await writeConfig({ db, slot: uniqueName('ops'), publication: uniqueName('pub'), topicPrefix: uniqueName('ops'), brokers: kafkaBrokers(), tables: ['public.items'] });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 30_000, '/readyz 200');

    await db.sql('INSERT INTO public.items SELECT g, 0 FROM generate_series(1, 10) g');
    await db.sql('UPDATE public.items SET n = 1 WHERE id <= 5');
    await db.sql('DELETE FROM public.items WHERE id <= 2');
    const written = (m: Awaited<ReturnType<typeof scrape>>, op: string) => m.value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op });
    await eventually(async () => written(await scrape(url), 'd') === 2, 30_000, 'the deletes written');
    await eventually(async () => {
      const m = await scrape(url);
      return m.value('slotline_lag_bytes') === 0 && m.value('slotline_lag_seconds') === 0;
    }, 30_000, 'lag 0 once caught up');

    const m = await scrape(url);
    for (const [op, n] of [['c', 10], ['u', 5], ['d', 2]] as const) {
      expect([op, m.value('slotline_events_received_total', { ...TABLE, op })]).toEqual([op, n]);
      expect([op, written(m, op)]).toEqual([op, n]);
    }
    expect(m.value('slotline_transactions_received_total')).toBe(3);
    expect(m.value('slotline_transactions_written_total', { sink: 'kafka' })).toBe(3);
    expect(m.value('slotline_ready')).toBe(1);
    expect(m.value('slotline_sink_failing', { sink: 'kafka' })).toBe(0);
    expect(m.value('slotline_slowest_sink', { sink: 'kafka' })).toBe(1);
    expect(m.value('slotline_sink_write_duration_seconds_count', { sink: 'kafka' })).toBeGreaterThanOrEqual(1);
    expect(m.value('slotline_confirmed_lsn')).toBeGreaterThan(0);
    expect(m.value('slotline_in_flight_ceiling_bytes')).toBe(16 * 2 ** 20);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    await eventually(async () => (await scrape(url)).value('slotline_slot_active') === 1, 30_000, 'the slot polled as active');
    const polled = await scrape(url);
    expect(polled.value('slotline_slot_wal_status', { status: 'reserved' })).toBe(1);
    expect(polled.value('slotline_slot_retained_wal_bytes')).toBeGreaterThan(0);
    promtoolCheckMetrics(polled.text);

    const status = (await getJson(`${url}/status`)).body;
    expect(status).toMatchObject({ state: 'streaming', ready: true, lag: { bytes: 0, seconds: 0 }, source: { database: db.database, serverVersion: expect.stringMatching(/^17\./) } });
    expect(status.sinks).toEqual([expect.objectContaining({ name: 'kafka', type: 'kafka', state: 'ok', eventsWritten: 17, transactionsWritten: 3, lastError: null, slowest: true })]);
    expect((await getJson(`${url}/healthz`)).status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('Kafka stopped: /readyz 503 naming the sink while the lag grows; Kafka back: 200 and lag 0', async () => {
    const kafka: KafkaServer = await startKafka();
    cleanup.push(() => kafka.close());
    const db = await itemsDatabase('ops_outage');
    const config = await writeConfig({ db, slot: uniqueName('ops'), publication: uniqueName('pub'), topicPrefix: uniqueName('ops'), brokers: kafka.brokers, tables: ['public.items'] });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 30_000, '/readyz 200');
    await db.sql('INSERT INTO public.items VALUES (1, 0)');
    await eventually(async () => (await scrape(url)).value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op: 'c' }) === 1, 30_000, 'the first row');

    await kafka.stop();
    for (let i = 2; i <= 6; i++) await db.sql('INSERT INTO public.items VALUES ($1, 0)', [i]);
    await eventually(async () => {
      const ready = await getJson(`${url}/readyz`);
      return ready.status === 503 && ready.body.reasons.some((r: string) => r.startsWith('sink "kafka" is retrying'));
    }, 60_000, '/readyz 503 naming the kafka sink');
    const first = await scrape(url);
    expect(first.value('slotline_lag_bytes')).toBeGreaterThan(0);
    expect(first.value('slotline_sink_failing', { sink: 'kafka' })).toBe(1);
    expect(first.value('slotline_sink_retries_total', { sink: 'kafka' })).toBeGreaterThan(0);
    expect(first.value('slotline_ready')).toBe(0);
    const lagBefore = first.value('slotline_lag_seconds')!;
    expect(lagBefore).toBeGreaterThan(0);
    await eventually(async () => (await scrape(url)).value('slotline_lag_seconds')! > lagBefore + 1, 30_000, 'lag seconds growing');
    expect((await getJson(`${url}/healthz`)).status).toBe(200); // failing, not wedged: a restart would not help

    await kafka.start();
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 120_000, '/readyz 200 again');
    await eventually(async () => {
      const m = await scrape(url);
      return m.value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op: 'c' }) === 6 && m.value('slotline_lag_seconds') === 0 && m.value('slotline_lag_bytes') === 0;
    }, 60_000, 'every row written and lag back to 0');
  }, 300_000);

  it('paused at the in-flight ceiling while Kafka is down: /healthz stays 200; Kafka back: every row arrives', async () => {
    const kafka: KafkaServer = await startKafka();
    cleanup.push(() => kafka.close());
    const db = await itemsDatabase('ops_ceiling');
    // The stall timeout is longer than one write's attempt against a stopped broker (kafkajs
    // retries inside it for ~10 s), and heartbeats every second keep a stream that is read from
    // falling silent for that long.
    const config = await writeConfig({
      db, slot: uniqueName('ops'), publication: uniqueName('pub'), topicPrefix: uniqueName('ops'), brokers: kafka.brokers, tables: ['public.items'],
      heartbeatIntervalMs: 1000, runtimeExtra: 'max_in_flight_bytes: 64KiB', httpExtra: 'stall_timeout_ms: 25000',
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 30_000, '/readyz 200');
    await db.sql('INSERT INTO public.items VALUES (1, 0)');
    const created = async () => (await scrape(url)).value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op: 'c' });
    await eventually(async () => (await created()) === 1, 30_000, 'the first row');

    await kafka.stop();
    await db.sql('INSERT INTO public.items SELECT g, 0 FROM generate_series(2, 3000) g'); // far more than 64 KiB of events
    const pausedBy = async (): Promise<string[]> => (await getJson(`${url}/status`)).body.inFlight.pausedBy;
    await eventually(async () => (await pausedBy()).includes('budget'), 60_000, 'reading paused at the ceiling');
    // Longer than the stall timeout without a keepalive read: the socket is paused while the sink
    // retries, which a restart would not help.
    const until = Date.now() + 35_000;
    while (Date.now() < until) {
      const health = await getJson(`${url}/healthz`);
      expect(health.body).toEqual({ status: 'ok' });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await pausedBy()).toContain('budget');

    await kafka.start();
    await eventually(async () => (await created()) === 3000, 120_000, 'every row written');
    await eventually(async () => (await getJson(`${url}/healthz`)).status === 200 && (await pausedBy()).length === 0, 30_000, 'reading again');
  }, 300_000);

  it('a SIGKILLed worker, restarted, serves fresh metrics of its own', async () => {
    const db = await itemsDatabase('ops_kill');
    const config = await writeConfig({ db, slot: uniqueName('ops'), publication: uniqueName('pub'), topicPrefix: uniqueName('ops'), brokers: kafkaBrokers(), tables: ['public.items'], logLevel: 'info' });
    const listening = async (worker: ReturnType<typeof spawnWorker>): Promise<string> => {
      let found: string | undefined;
      await eventually(() => (found = httpAddress(worker.output()) ?? undefined) !== undefined, 30_000, 'the http listening line').catch((err) => {
        throw new Error(`${err.message}; the worker wrote:\n${worker.output()}`);
      });
      return found!;
    };
    const first = spawnWorker(config);
    cleanup.push(async () => first.child.kill('SIGKILL'));
    const firstUrl = await listening(first);
    await eventually(async () => (await getJson(`${firstUrl}/readyz`)).status === 200, 30_000, '/readyz 200');
    await db.sql('INSERT INTO public.items SELECT g, 0 FROM generate_series(1, 5) g');
    await eventually(async () => (await scrape(firstUrl)).value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op: 'c' }) === 5, 30_000, 'five rows');
    const started = (await scrape(firstUrl)).value('process_start_time_seconds');
    first.child.kill('SIGKILL');
    await first.exited;

    await db.sql('INSERT INTO public.items SELECT g, 0 FROM generate_series(6, 8) g');
    const [{ lsn: written }] = await db.sql("SELECT (pg_current_wal_lsn() - '0/0')::float8 AS lsn");
    const second = spawnWorker(config);
    cleanup.push(async () => second.child.kill('SIGKILL'));
    const url = await listening(second);
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 30_000, '/readyz 200');
    await eventually(async () => ((await scrape(url)).value('slotline_confirmed_lsn') ?? 0) >= written, 30_000, 'the new rows confirmed');
    const m = await scrape(url);
    // This process counts from zero: the three new rows, plus any of the five re-sent from the slot.
    const created = m.value('slotline_events_written_total', { sink: 'kafka', ...TABLE, op: 'c' })!;
    expect(created).toBeGreaterThanOrEqual(3);
    expect(created).toBeLessThanOrEqual(8);
    expect(m.value('slotline_reconnects_total')).toBe(0);
    expect(m.value('process_start_time_seconds')).toBeGreaterThan(started!);
    promtoolCheckMetrics(m.text);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('never shows a secret: no password, credentialed URL or API key on any endpoint', async () => {
    const db = await itemsDatabase('ops_secrets');
    const apiKey = Buffer.from('secret-key-id:secret-key-value').toString('base64');
    // The shared node runs without security: it ignores the key, and the sink starts.
    const config = await writeEsConfig({
      db, slot: uniqueName('ops'), publication: uniqueName('pub'), topicPrefix: uniqueName('ops'), node: esNode(), tables: ['public.items'],
      sinkExtra: `auth: { api_key: ${apiKey} }\nindex: "{prefix}.{table}"`,
    });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;
    await db.sql('INSERT INTO public.items VALUES (1, 1)');
    await eventually(async () => (await scrape(url)).value('slotline_events_written_total', { sink: 'search', ...TABLE, op: 'c' }) === 1, 30_000, 'a row indexed');
    const secrets = [server.password, encodeURIComponent(server.password), apiKey, 'secret-key-value', db.databaseUrl];
    for (const path of ['/status', '/metrics', '/', '/healthz', '/readyz', '/nowhere']) {
      const body = await (await fetch(`${url}${path}`)).text();
      for (const secret of secrets) expect(body.includes(secret), `${path} contains ${secret}`).toBe(false);
    }
    const status = (await getJson(`${url}/status`)).body;
    expect(status.source.server).toBe(`${server.host}:${server.port}`);
  });
});
