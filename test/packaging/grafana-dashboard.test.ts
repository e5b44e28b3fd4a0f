/**
 * The Grafana dashboard (config/grafana/slotline.json) and the alert rules read
 * only metrics slotline exposes (KNOWN_METRICS), every dashboard query is
 * PromQL that the real promtool accepts, and the dashboard works both imported
 * by hand and provisioned (a data source variable, no fixed data source).
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO } from '../e2e/support.ts';
import { KNOWN_METRICS, seriesNames } from './known-metrics.ts';
import { metricNames, withGrafanaVariables } from './promql-names.ts';
import { promtool } from './promtool.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

const dashboard = JSON.parse(readFileSync(join(REPO, 'config', 'grafana', 'slotline.json'), 'utf8'));
const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
const queries: { panel: string; expr: string }[] = panels.flatMap((p) => (p.targets ?? []).map((t: any) => ({ panel: p.title, expr: t.expr })));
const alertExprs: { alert: string; expr: string }[] = parse(readFileSync(join(REPO, 'config', 'prometheus', 'alerts.yml'), 'utf8'))
  .groups.flatMap((g: any) => g.rules.map((r: any) => ({ alert: r.alert, expr: r.expr })));
const known = new Set(KNOWN_METRICS.flatMap(seriesNames));

describe('metricNames', () => {
  it.each([
    ['up{job="slotline"} == 0', ['up']],
    ['sum by (sink, kind) (rate(slotline_sink_errors_total[5m])) > 0.05', ['slotline_sink_errors_total']],
    ['histogram_quantile(0.99, sum by (sink, le) (rate(a_bucket{instance=~"$instance"}[$__rate_interval])))', ['a_bucket']],
    ['x > 10 * 1024 * 1e3 and on (instance) y{status=~"lost|unreserved"} offset 5m', ['x', 'y']],
    ['time() - process_start_time_seconds', ['process_start_time_seconds']],
    ['{__name__="named", job="by"}', ['named']],
    ['sum without (le) (m) / ignoring (op) group_left (sink) n', ['m', 'n']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr).sort()).toEqual([...names].sort());
  });
});

describe('config/grafana/slotline.json', () => {
  it('has queries in every panel but rows, on the data source variable', () => {
    expect(queries.length).toBeGreaterThan(30);
    const variable = dashboard.templating.list.find((v: any) => v.type === 'datasource');
    expect(variable).toMatchObject({ name: 'DS_PROMETHEUS', query: 'prometheus' });
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const source of [panel.datasource, ...panel.targets.map((t: any) => t.datasource)]) {
        expect(source, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      }
    }
  });

  it('has unique panel ids and panels that do not overlap on the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { title, gridPos: g } of panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('shows what an operator needs', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const name of [
      'slotline_lag_bytes', 'slotline_lag_seconds', 'slotline_slot_retained_wal_bytes', 'slotline_events_written_total',
      'slotline_sink_lag_bytes', 'slotline_slowest_sink', 'slotline_in_flight_bytes', 'slotline_in_flight_ceiling_bytes',
      'slotline_sink_errors_total', 'slotline_sink_retries_total', 'slotline_sink_write_duration_seconds_bucket',
      'slotline_snapshot_rows_read_total', 'slotline_reconnects_total', 'slotline_heartbeats_total',
      'process_cpu_seconds_total', 'process_resident_memory_bytes',
    ]) expect(all, name).toContain(name);
    expect(all).toMatch(/histogram_quantile\(0\.5,/);
    expect(all).toMatch(/histogram_quantile\(0\.99,/);
  });

  it('reads only metrics slotline exposes, in the dashboard and in the alert rules', () => {
    const unknown: string[] = [];
    for (const { panel, expr } of queries) for (const name of metricNames(expr)) if (!known.has(name)) unknown.push(`panel "${panel}": ${name}`);
    for (const { alert, expr } of alertExprs) for (const name of metricNames(expr)) if (!known.has(name)) unknown.push(`alert ${alert}: ${name}`);
    for (const variable of dashboard.templating.list.filter((v: any) => v.type === 'query')) {
      const metric = /label_values\((\w+),/.exec(variable.query.query)?.[1];
      if (!metric || !known.has(metric)) unknown.push(`variable ${variable.name}: ${variable.query.query}`);
    }
    expect(unknown).toEqual([]);
  });

  describe('every query is PromQL that promtool accepts', () => {
    let dir: string;

    it('promtool check rules on the queries as recording rules', async () => {
      // promtool has no "parse this expression" command; a recording rule per query is the same parser.
      dir = await testTempDir('dashboard');
      const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: withGrafanaVariables(q.expr) }));
      await writeFile(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const { status, output } = promtool(['check', 'rules', 'queries.yml'], dir);
      expect(status, output).toBe(0);
      expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
    });
  });
});
