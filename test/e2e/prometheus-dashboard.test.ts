/**
 * The Grafana dashboard's queries and the alert rules, evaluated by a real
 * Prometheus that scrapes a real worker (shared PostgreSQL and Kafka):
 *
 * - every dashboard query evaluates without error, and every query whose
 *   metrics the worker exposes returns series (a renamed metric or a wrong
 *   label would leave a panel empty);
 * - every alert rule evaluates without error, and none is pending or firing
 *   for a healthy pipeline (changes written, slot polled and active).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.ts';
import { metricNames, withGrafanaVariables } from '../packaging/promql-names.ts';
import { scrape } from './operations-support.ts';
import { eventually, REPO, runInProcess, writeConfig } from './support.ts';

const dashboard = JSON.parse(readFileSync(join(REPO, 'config', 'grafana', 'slotline.json'), 'utf8'));
const queries: { panel: string; expr: string }[] = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => ({ panel: p.title, expr: t.expr })));

let prometheus: PrometheusServer;
let metrics: Awaited<ReturnType<typeof scrape>>;
let exposed: Set<string>;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const db = await freshDatabase('prom_dashboard');
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL)');
  const config = await writeConfig({ db, slot: uniqueName('prom'), publication: uniqueName('pub'), topicPrefix: uniqueName('prom'), brokers: kafkaBrokers(), tables: ['public.items'] });
  const worker = await runInProcess(config);
  cleanup.push(() => worker.stop());
  const url = worker.operations.http!.url;
  await db.sql('INSERT INTO public.items SELECT g, 0 FROM generate_series(1, 100) g');
  await db.sql('UPDATE public.items SET n = 1');
  await eventually(async () => (await scrape(url)).value('slotline_events_written_total', { sink: 'kafka', table: 'public.items', op: 'u' }) === 100, 30_000, 'the changes written');
  // Healthy means the slot was polled too (every 10 s by default), and found active.
  await eventually(async () => (await scrape(url)).value('slotline_slot_active') === 1, 30_000, 'the slot polled as active');

  prometheus = await startPrometheus({ jobs: { slotline: [new URL(url).host] }, ruleFiles: [join(REPO, 'config', 'prometheus', 'alerts.yml')] });
  cleanup.push(() => prometheus.close());
  // Enough scrapes for rate() and deriv(), and one rule evaluation after them.
  await eventually(async () => {
    const [scrapes] = (await prometheus.api('query', { query: 'count_over_time(up{job="slotline"}[1m])' })).result;
    return Number(scrapes?.value[1] ?? 0) >= 4;
  }, 60_000, 'four scrapes of the worker');
  const evaluatedAfter = Date.now();
  await eventually(async () => {
    const { groups } = await prometheus.api('rules');
    return groups.length > 0 && groups.every((g: any) => Date.parse(g.lastEvaluation) > evaluatedAfter);
  }, 30_000, 'an evaluation of the alert rules');
  metrics = await scrape(url);
  exposed = new Set([...metrics.text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]));
  exposed.add('up');
}, 180_000);

afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

describe('dashboard and alert rules on a real Prometheus', () => {
  it('every dashboard query evaluates, and returns series when the worker exposes its metrics', async () => {
    const empty: string[] = [];
    let filled = 0;
    for (const { panel, expr } of queries) {
      const result = await prometheus.api('query', { query: withGrafanaVariables(expr) });
      if (!metricNames(expr).every((name) => exposed.has(name))) continue;
      if (result.result.length === 0) empty.push(`${panel}: ${expr}`);
      else filled++;
    }
    expect(empty).toEqual([]);
    expect(filled).toBeGreaterThan(queries.length / 2);
  });

  it('every alert rule evaluates cleanly and none fires for a healthy pipeline', async () => {
    const { groups } = await prometheus.api('rules');
    const rules = groups.flatMap((g: any) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect([rule.name, rule.health, rule.lastError ?? '']).toEqual([rule.name, 'ok', '']);
    // The harness's servers have no max_slot_wal_keep_size: safe_wal_size is NULL, so the
    // series must be absent (a 0 would read "no WAL left" and trip SlotlineSlotNearWalLimit).
    expect(metrics.value('slotline_slot_safe_wal_size_bytes'), 'slotline_slot_safe_wal_size_bytes when safe_wal_size is NULL').toBeUndefined();
    const { alerts } = await prometheus.api('alerts');
    expect(alerts).toEqual([]);
  });
});
