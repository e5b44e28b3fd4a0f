/**
 * A private Prometheus server (Debian's `prometheus`, which .ci/run installs)
 * scraping given targets every second, with given rule files: for tests that
 * evaluate the dashboard's queries and the alert rules against a real worker's
 * metrics. Data in a temp dir, on a free loopback port.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';
import { spawnServer, waitUntilReady } from './server-process.ts';

export const PROMETHEUS = process.env.SLOTLINE_PROMETHEUS ?? '/usr/bin/prometheus';

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly logFile: string;
  /** GET /api/v1/<path>: the `data` of a success answer; throws with Prometheus's error otherwise. */
  api<T = any>(path: string, params?: Record<string, string>): Promise<T>;
  close(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** Scrape jobs: job name → `host:port` targets. */
  jobs: Record<string, string[]>;
  /** Absolute paths of rule files to load. */
  ruleFiles?: string[];
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`Prometheus is missing at ${PROMETHEUS}: apt-get install prometheus (the Debian package; .ci/run installs it) or set SLOTLINE_PROMETHEUS`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'slotline-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: Object.entries(opts.jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'prometheus.log');
  const server = await spawnServer({
    command: PROMETHEUS,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    logFile,
    deathSignal: 'SIGKILL',
    cwd: dir,
  });
  const close = async (): Promise<void> => {
    await server.stop('SIGTERM', 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(`prometheus on port ${port}`, server, async () => {
      const response = await fetch(`${url}/-/ready`);
      if (!response.ok) throw new Error(`/-/ready answered ${response.status}`);
    }, 30_000);
  } catch (err) {
    await server.stop('SIGKILL', 5_000);
    throw err;
  }
  return {
    url,
    logFile,
    async api(path, params = {}) {
      const response = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`);
      const body = (await response.json()) as { status: string; data?: any; error?: string };
      if (body.status !== 'success') throw new Error(`Prometheus /api/v1/${path} ${JSON.stringify(params)}: ${body.error}`);
      return body.data;
    },
    close,
  };
}
