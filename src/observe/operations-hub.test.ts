/**
 * The operations hub serving two sources through one listener, read over
 * real HTTP as Prometheus, a probe or a person would: series per source,
 * /status per source, probes that combine the sources, and a source that
 * detaches leaving every view. Each source's slot monitor reads a real slot
 * on the shared PostgreSQL.
 */
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName, type FreshDatabase } from '../../test/harness/context.ts';
import { promtoolCheckMetrics, scrape } from '../../test/e2e/operations-support.ts';
import { httpSchema } from '../config/http-schema.ts';
import { startOperationsHub, type OperationsHub } from './operations-hub.ts';
import type { StatusIdentity } from './status.ts';
import { createTelemetry, type Telemetry } from './telemetry.ts';

const logger = pino({ level: 'silent' });
const http = httpSchema.parse({ listen: '127.0.0.1:0' });
let db: FreshDatabase;
const slots = { alpha: uniqueName('hub_alpha'), beta: uniqueName('hub_beta') };

beforeAll(async () => {
  db = await freshDatabase('operations_hub');
  for (const slot of Object.values(slots)) await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
});

function telemetryOf(): Telemetry {
  return createTelemetry({ sinks: [{ name: 'kafka', type: 'kafka' }], inFlightCeiling: 1024 });
}

function identityOf(name: 'alpha' | 'beta'): StatusIdentity {
  return {
    version: '9.9.9', config: { main: `${name}.yaml`, sinks: ['kafka.yaml'] },
    source: { server: `127.0.0.1:${db.port}`, database: db.database, serverVersion: '17', slot: slots[name], publication: `pub_${name}`, tables: null },
  };
}

/** A hub with sources alpha and beta attached, each with its own telemetry and slot. */
async function twoSources(options: { sources?: string[] } = {}) {
  const hub = await startOperationsHub({ http, logger, multi: true, ...options });
  const attach = (name: 'alpha' | 'beta', telemetry: Telemetry) =>
    hub.attach({ name, telemetry, logger, connection: { connectionString: db.databaseUrl }, identity: identityOf(name) });
  const telemetry = { alpha: telemetryOf(), beta: telemetryOf() };
  const attached = { alpha: attach('alpha', telemetry.alpha), beta: attach('beta', telemetry.beta) };
  await Promise.all([attached.alpha.slot.poll(), attached.beta.slot.poll()]);
  return { hub, telemetry, attached, url: (path: string) => `${hub.http!.url}${path}` };
}

function streaming(telemetry: Telemetry): void {
  telemetry.state = 'streaming';
  telemetry.streaming = true;
  telemetry.sink('kafka').state = 'ok';
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function using<T>(hub: OperationsHub, test: () => Promise<T>): Promise<T> {
  try {
    return await test();
  } finally {
    await hub.stop();
  }
}

describe('operations hub with two sources', () => {
  it('exports every slotline series once per source, told apart by a source label', async () => {
    const { hub, telemetry, url } = await twoSources();
    await using(hub, async () => {
      streaming(telemetry.alpha);
      telemetry.alpha.writeSucceeded(telemetry.alpha.sink('kafka'), [{ op: 'c', schema: 'public', table: 'orders' } as never], 100, Date.now());
      const metrics = await scrape(url(''));
      expect(metrics.value('slotline_info', { source: 'alpha', version: '9.9.9', slot: slots.alpha, publication: 'pub_alpha', database: db.database })).toBe(1);
      expect(metrics.value('slotline_info', { source: 'beta', version: '9.9.9', slot: slots.beta, publication: 'pub_beta', database: db.database })).toBe(1);
      expect(metrics.value('slotline_ready', { source: 'alpha' })).toBe(1);
      expect(metrics.value('slotline_ready', { source: 'beta' })).toBe(0);
      expect(metrics.value('slotline_events_written_total', { source: 'alpha', sink: 'kafka', table: 'public.orders', op: 'c' })).toBe(1);
      expect(metrics.value('slotline_sink_write_duration_seconds_count', { source: 'alpha', sink: 'kafka' })).toBe(1);
      expect(metrics.value('slotline_sink_batch_events_sum', { source: 'alpha', sink: 'kafka' })).toBe(1);
      // Each slot is read on its own: neither is streamed, both exist.
      expect(metrics.value('slotline_slot_active', { source: 'alpha' })).toBe(0);
      expect(metrics.value('slotline_slot_active', { source: 'beta' })).toBe(0);
      const unlabelled = metrics.text.split('\n').filter((line) => line.startsWith('slotline_') && !/[{,]source="/.test(line));
      expect(unlabelled).toEqual([]);
      // Default process metrics once, and an exposition Prometheus accepts.
      expect(metrics.text.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
      promtoolCheckMetrics(metrics.text);
    });
  });

  it('answers /status with every source, and ?source= with one (404 for a name it does not run)', async () => {
    const { hub, telemetry, url } = await twoSources();
    await using(hub, async () => {
      streaming(telemetry.beta);
      const all = await get(url('/status'));
      expect(all.status).toBe(200);
      expect(all.body.sources.map((s: any) => [s.name, s.source.slot, s.ready])).toEqual([['alpha', slots.alpha, false], ['beta', slots.beta, true]]);
      const beta = await get(url('/status?source=beta'));
      expect(beta.status).toBe(200);
      expect(beta.body).toMatchObject({ name: 'beta', state: 'streaming', ready: true, source: { slot: slots.beta, publication: 'pub_beta' }, slot: { active: false } });
      expect(beta.body.sources).toEqual([{ name: 'alpha', state: 'starting', ready: false }, { name: 'beta', state: 'streaming', ready: true }]);
      expect(hub.status('alpha')).toMatchObject({ name: 'alpha', source: { slot: slots.alpha } });
      const unknown = await get(url('/status?source=gamma'));
      expect(unknown).toEqual({ status: 404, body: { error: 'no source "gamma" in this process', sources: ['alpha', 'beta'] } });
    });
  });

  it('is ready only when every source is, and says which one is not', async () => {
    const { hub, telemetry, url } = await twoSources();
    await using(hub, async () => {
      streaming(telemetry.alpha);
      telemetry.beta.state = 'standby';
      telemetry.beta.standbyFor = 'pid 42';
      const ready = await get(url('/readyz'));
      expect(ready.status).toBe(503);
      expect(ready.body.reasons).toEqual([
        'source "beta": standby: the slot is streamed by another process (pid 42); this worker takes over when it is released',
        'source "beta": sink "kafka" has not started',
      ]);
      expect(await get(url('/readyz?source=alpha'))).toEqual({ status: 200, body: { ready: true, reasons: [] } });
      expect((await get(url('/readyz?source=beta'))).status).toBe(503);
      expect(await get(url('/readyz?exclude=standby'))).toEqual({ status: 200, body: { ready: true, reasons: [] } });
      expect(await get(url('/readyz?source=beta&exclude=standby'))).toEqual({ status: 200, body: { ready: true, reasons: [] } });
      expect((await get(url('/readyz?source=gamma'))).status).toBe(404);
    });
  });

  it('is wedged when one source is, naming it', async () => {
    const { hub, telemetry, url } = await twoSources();
    await using(hub, async () => {
      streaming(telemetry.alpha);
      streaming(telemetry.beta);
      expect(await get(url('/healthz'))).toEqual({ status: 200, body: { status: 'ok' } });
      telemetry.alpha.sink('kafka').writeStartedAt = Date.now() - http.stall_timeout_ms - 5_000;
      const wedged = await get(url('/healthz'));
      expect(wedged.status).toBe(503);
      expect(wedged.body.reasons).toHaveLength(1);
      expect(wedged.body.reasons[0]).toMatch(/^source "alpha": sink "kafka" has a write in flight for \d+ s$/);
      expect((await get(url('/healthz?source=beta'))).status).toBe(200);
    });
  });

  it('sends / to the first source and serves the page for each one', async () => {
    const { hub, url } = await twoSources();
    await using(hub, async () => {
      const root = await fetch(url('/'), { redirect: 'manual' });
      expect(root.status).toBe(302);
      expect(root.headers.get('location')).toBe('?source=alpha');
      const page = await fetch(url('/?source=beta'));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<nav id="sources"');
      expect((await fetch(url('/?source=gamma'))).status).toBe(404);
    });
  });

  it('forgets a detached source everywhere, but keeps a source the process runs as not ready', async () => {
    const { hub, telemetry, attached, url } = await twoSources({ sources: ['beta', 'alpha'] });
    await using(hub, async () => {
      streaming(telemetry.alpha);
      streaming(telemetry.beta);
      telemetry.beta.writeSucceeded(telemetry.beta.sink('kafka'), [{ op: 'u', schema: 'public', table: 'orders' } as never], 100, Date.now());
      expect((await get(url('/readyz'))).status).toBe(200);
      await attached.beta.detach();
      const metrics = await scrape(url(''));
      const betaLines = metrics.text.split('\n').filter((line) => line.includes('source="beta"'));
      expect(betaLines).toEqual(['slotline_ready{source="beta"} 0']);
      expect(metrics.value('slotline_ready', { source: 'alpha' })).toBe(1);
      expect(await get(url('/readyz'))).toEqual({ status: 503, body: { ready: false, reasons: ['source "beta": not running: starting, or waiting to start again'] } });
      expect((await get(url('/readyz?source=alpha'))).status).toBe(200);
      expect((await get(url('/healthz'))).status).toBe(200);
      const beta = await get(url('/status?source=beta'));
      expect(beta.status).toBe(503);
      expect(beta.body).toMatchObject({ name: 'beta', state: 'not running', ready: false, sources: [{ name: 'beta', ready: false }, { name: 'alpha', ready: true }] });
      // The order given, not the order attached: / goes to beta.
      expect((await fetch(url('/'), { redirect: 'manual' })).headers.get('location')).toBe('?source=beta');
      // beta comes back (its worker started again): the same name attaches anew.
      const again = telemetryOf();
      streaming(again);
      hub.attach({ name: 'beta', telemetry: again, logger, connection: { connectionString: db.databaseUrl }, identity: identityOf('beta') });
      expect((await get(url('/readyz'))).status).toBe(200);
      await attached.alpha.detach();
      await attached.alpha.detach(); // twice is harmless
      expect((await get(url('/status'))).body.sources.map((s: any) => s.name)).toEqual(['beta', 'alpha']);
    });
  });

  it('without a list of sources, a detached one is unknown', async () => {
    const { hub, attached, url } = await twoSources();
    await using(hub, async () => {
      await attached.beta.detach();
      expect((await scrape(url(''))).text).not.toContain('source="beta"');
      expect((await get(url('/status?source=beta'))).status).toBe(404);
      expect((await get(url('/status'))).body.sources.map((s: any) => s.name)).toEqual(['alpha']);
    });
  });

  it('refuses a source without a name, or a name attached already', async () => {
    const { hub, telemetry } = await twoSources();
    await using(hub, async () => {
      const source = { telemetry: telemetry.alpha, logger, connection: {}, identity: identityOf('alpha') };
      expect(() => hub.attach({ ...source, name: null })).toThrow('each needs its name');
      expect(() => hub.attach({ ...source, name: 'alpha' })).toThrow('source "alpha" is attached already');
    });
  });
});

describe('operations hub with one source', () => {
  it('keeps the one-source endpoints: no source label, ?source= ignored, / is the page', async () => {
    const hub = await startOperationsHub({ http, logger, multi: false });
    await using(hub, async () => {
      const telemetry = telemetryOf();
      streaming(telemetry);
      const identity = identityOf('alpha');
      hub.attach({ name: null, telemetry, identity, logger, connection: { connectionString: db.databaseUrl } });
      expect(() => hub.attach({ name: null, telemetry, identity, logger, connection: {} })).toThrow('a source is attached already');
      const metrics = await scrape(hub.http!.url);
      expect(metrics.value('slotline_ready')).toBe(1);
      expect(metrics.text).not.toContain('source=');
      const status = await get(`${hub.http!.url}/status?source=whatever`);
      expect(status.status).toBe(200);
      expect(status.body.name).toBeUndefined();
      expect(status.body.sources).toBeUndefined();
      expect(status.body.source.slot).toBe(slots.alpha);
      expect((await get(`${hub.http!.url}/readyz?source=whatever`)).status).toBe(200);
      const page = await fetch(`${hub.http!.url}/`, { redirect: 'manual' });
      expect(page.status).toBe(200);
    });
  });
});
