/**
 * What the operations tests share: reading a running worker's endpoints, and
 * one value out of Prometheus text by name and labels.
 */
import { spawnSync } from 'node:child_process';
import type { FreshDatabase } from '../harness/context.ts';
import type { PgServer } from '../harness/postgres.ts';

export interface Scrape {
  text: string;
  /** The sample's value, or undefined when no sample has exactly these labels. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = match[2] ? [...match[2].slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]] as const) : [];
    samples.set(key(match[1], Object.fromEntries(labels)), Number(match[3]));
  }
  return { text, value: (name, labels = {}) => samples.get(key(name, labels)) };
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/**
 * prom-client's own default gauges are named `nodejs_active_*_total`, which
 * promtool's linter dislikes; those are not ours to rename. Any other finding fails.
 */
const PROM_CLIENT_DEFAULTS = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** `promtool check metrics` on an exposition: it must parse, and lint clean apart from prom-client's defaults. */
export function promtoolCheckMetrics(text: string): void {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool is needed (Debian package prometheus; .ci/run installs it): ${result.error.message}`);
  const findings = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '' && !PROM_CLIENT_DEFAULTS.test(line.trim()));
  if (result.status !== 0 && (result.status !== 3 || findings.length > 0)) {
    throw new Error(`promtool check metrics failed (${result.status}):\n${findings.join('\n')}`);
  }
}

/** A database on a private server, shaped like the harness's fresh databases. */
export async function databaseOn(server: PgServer, name: string): Promise<FreshDatabase> {
  await server.createDatabase(name);
  return { ...server, database: name, databaseUrl: server.url(name), sql: (sql, params) => server.query(sql, params, name) };
}
