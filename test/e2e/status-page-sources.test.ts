/**
 * The status page of a process with several sources, in headless Chromium:
 * `/` opens the first source, the links at the top lead to the others, each
 * page shows its own source's slot and readiness. The sources' figures come
 * from telemetries the test sets (the page against a real pipeline is
 * status-page.test.ts); their slots are real ones on the shared PostgreSQL.
 * A third source, audit, is one the process runs but has not started.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSchema } from '../../src/config/http-schema.ts';
import { startOperationsHub, type OperationsHub } from '../../src/observe/operations-hub.ts';
import { createTelemetry } from '../../src/observe/telemetry.ts';
import { launchChromium, type HeadlessBrowser } from '../harness/browser.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { openStatusPage } from './status-page-support.ts';

let browser: HeadlessBrowser;
let hub: OperationsHub;
const slots = { orders: uniqueName('page_orders'), billing: uniqueName('page_billing') };

beforeAll(async () => {
  const [db, launched] = await Promise.all([freshDatabase('status_page_sources'), launchChromium()]);
  browser = launched;
  for (const slot of Object.values(slots)) await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  const logger = pino({ level: 'silent' });
  hub = await startOperationsHub({ http: httpSchema.parse({ listen: '127.0.0.1:0' }), logger, multi: true, sources: ['orders', 'billing', 'audit'] });
  for (const name of ['orders', 'billing'] as const) {
    const telemetry = createTelemetry({ sinks: [{ name: 'kafka', type: 'kafka' }], inFlightCeiling: 1024 });
    if (name === 'billing') {
      telemetry.state = 'streaming';
      telemetry.streaming = true;
      telemetry.sink('kafka').state = 'ok';
    }
    hub.attach({
      name, telemetry, logger, connection: { connectionString: db.databaseUrl },
      identity: {
        version: '9.9.9', config: { main: 'main.yaml', sinks: ['kafka.yaml'] },
        source: { server: `127.0.0.1:${db.port}`, database: db.database, serverVersion: '17', slot: slots[name], publication: `pub_${name}`, tables: null },
      },
    });
  }
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), hub?.stop()]);
});

describe('status page with several sources', () => {
  it('opens the first source and links to the other', async () => {
    const page = await openStatusPage(browser, hub.http!.url);
    expect(new URL(page.page.url()).search).toBe('?source=orders');
    expect(await page.text('slot')).toBe(slots.orders);
    expect(await page.page.getByTestId('state').getAttribute('data-ready')).toBe('false');
    const links = page.page.getByTestId('sources').getByRole('link');
    expect(await links.allTextContents()).toEqual(['orders', 'billing', 'audit']);
    expect(await page.page.getByTestId('source-orders').getAttribute('aria-current')).toBe('page');
    expect(await page.page.getByTestId('source-billing').getAttribute('class')).toBe('ok');

    await page.page.getByTestId('source-billing').click();
    await page.page.waitForURL((url) => url.search === '?source=billing');
    await page.page.getByTestId('state').and(page.page.locator('[data-ready="true"]')).waitFor({ timeout: 10_000 });
    expect(await page.text('slot')).toBe(slots.billing);
    expect(await page.page.getByTestId('source-billing').getAttribute('aria-current')).toBe('page');
    expect(await page.page.title()).toContain('billing');
    expect(page.problems).toEqual([]);
  });

  it('says why a source that is not running shows nothing, and still links to the others', async () => {
    const page = await openStatusPage(browser, hub.http!.url);
    await page.page.goto(`${hub.http!.url}/?source=audit`);
    await page.page.getByTestId('ready-reasons').getByText('not running: starting, or waiting to start again', { exact: false }).waitFor({ timeout: 10_000 });
    expect(await page.text('state')).toBe('unreachable');
    expect(await page.page.getByTestId('sources').getByRole('link').allTextContents()).toEqual(['orders', 'billing', 'audit']);
    expect(await page.page.getByTestId('source-audit').getAttribute('aria-current')).toBe('page');
  });
});
