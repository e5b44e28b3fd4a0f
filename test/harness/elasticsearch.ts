/**
 * A single-node Elasticsearch for tests: the integ-test-zip (./elasticsearch-dist.ts)
 * unpacked into a temp dir, security off, heap capped, on reserved loopback ports (./ports.ts).
 * Options turn security on (`users`) and HTTPS (`tls`, with a CA and node
 * certificate made by ./tls-certs.ts).
 *
 * Elasticsearch refuses to run as root, so as root it runs as the system user
 * `slotline-es` (created if missing), which owns the temp dir. `stop()` +
 * `start()` restart it on the same ports and data; `kill()` is SIGKILL;
 * `close()` stops it for good and removes the temp dir.
 *
 * Readiness is `/_cluster/health?wait_for_status=yellow`: the test distribution
 * may not answer `GET /` the way a full one does.
 */
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultEsVersion, ensureEsZip } from './elasticsearch-dist.ts';
import { javaCommand } from './kafka.ts';
import { startOnFreePorts } from './ports.ts';
import { makeServerDir } from './server-dirs.ts';
import { isRoot, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';
import { makeServerCert, makeTestCa } from './tls-certs.ts';

const execFileAsync = promisify(execFile);

export const ES_OS_USER = 'slotline-es';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 60_000;

export interface EsServer {
  version: string;
  /** `http://127.0.0.1:<port>`, or `https://…` with the `tls` option. */
  node: string;
  /** With the `tls` option: the PEM file of the CA that signed the node's certificate. */
  caFile?: string;
  logFile: string;
  /** SIGTERM (clean shutdown); data and ports are kept for `start()`. */
  stop(): Promise<void>;
  /** Starts again after `stop()` or `kill()`, same port and data; resolves when the cluster is yellow. */
  start(): Promise<void>;
  /** SIGKILL; data and ports are kept for `start()`. */
  kill(): Promise<void>;
  /** Stops the server if running and removes its temp dir. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartEsOptions {
  version?: string;
  /** Extra `-E key=value` settings. */
  settings?: Record<string, string>;
  /**
   * Turn security on (HTTP stays plain) with these file-realm superusers, for
   * authentication tests; `node` then needs their credentials.
   */
  users?: Record<string, string>;
  /**
   * HTTPS (`xpack.security.http.ssl`) with a certificate for 127.0.0.1 signed
   * by a CA made for this node (`caFile`). Needs `users`: Elasticsearch has
   * TLS only with security on.
   */
  tls?: boolean;
}

export async function startElasticsearch(opts: StartEsOptions = {}): Promise<EsServer> {
  const version = opts.version ?? defaultEsVersion();
  const zip = await ensureEsZip(version);
  const root = await makeServerDir(`elasticsearch-${version}`);
  const home = join(root, `elasticsearch-${version}`);
  if (opts.tls && !opts.users) throw new Error('startElasticsearch: `tls` needs `users` (Elasticsearch has TLS only with security on)');
  const logFile = join(root, 'elasticsearch.log');
  let caFile: string | undefined;
  try {
    await execFileAsync('unzip', ['-q', zip, '-d', root], { maxBuffer: 16 * 1024 * 1024 });
    await mkdir(join(root, 'tmp'));
    if (opts.tls) {
      // Elasticsearch reads certificates only from inside its config dir.
      const certs = join(home, 'config', 'certs');
      await mkdir(certs);
      const ca = await makeTestCa(certs, 'test-ca');
      await makeServerCert(ca, certs, 'node', [HOST]);
      caFile = ca.certFile;
    }
    for (const [user, password] of Object.entries(opts.users ?? {})) {
      await execFileAsync(join(home, 'bin', 'elasticsearch-users'), ['useradd', user, '-p', password, '-r', 'superuser'], { env: { PATH: process.env.PATH, ES_JAVA_HOME: esJavaHome() } });
    }
    if (isRoot()) {
      await ensureOsUser(ES_OS_USER);
      await execFileAsync('chown', ['-R', `${ES_OS_USER}:${ES_OS_USER}`, root]);
    }
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const settingsFor = (httpPort: number, transportPort: number): Record<string, string> => ({
    'discovery.type': 'single-node',
    'network.host': HOST,
    'http.port': String(httpPort),
    'transport.port': String(transportPort),
    'path.data': join(root, 'data'),
    'path.logs': join(root, 'logs'),
    'xpack.security.enabled': opts.users ? 'true' : 'false',
    ...(opts.users ? { 'xpack.security.http.ssl.enabled': opts.tls ? 'true' : 'false', 'xpack.security.transport.ssl.enabled': 'false' } : {}),
    ...(opts.tls ? { 'xpack.security.http.ssl.certificate': 'certs/node.crt', 'xpack.security.http.ssl.key': 'certs/node.key' } : {}),
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    'action.destructive_requires_name': 'false',
    ...opts.settings,
  });
  const nodeUrl = (httpPort: number): string => `${opts.tls ? 'https' : 'http'}://${HOST}:${httpPort}`;
  let server: ServerProcess | undefined;
  const launch = async (httpPort: number, transportPort: number): Promise<void> => {
    if (server?.running()) return;
    server = await spawnServer({
      command: join(home, 'bin', 'elasticsearch'),
      args: Object.entries(settingsFor(httpPort, transportPort)).flatMap(([key, value]) => ['-E', `${key}=${value}`]),
      logFile,
      runAs: ES_OS_USER,
      deathSignal: 'SIGTERM',
      cwd: root,
      env: {
        PATH: process.env.PATH,
        ES_JAVA_HOME: esJavaHome(),
        // Two cores shared with Postgres, Kafka and the tests: small heap, few threads.
        ES_JAVA_OPTS: '-Xms512m -Xmx512m -XX:ActiveProcessorCount=2',
        ES_TMPDIR: join(root, 'tmp'),
      },
    });
    await waitUntilReady(`Elasticsearch ${version} on ${nodeUrl(httpPort)}`, server, () => probe(nodeUrl(httpPort), opts.users, caFile), START_TIMEOUT_MS);
  };
  const started = await startOnFreePorts(2, ([httpPort, transportPort]) => launch(httpPort, transportPort)).catch(async (err) => {
    await rm(root, { recursive: true, force: true });
    throw err;
  });
  const [httpPort, transportPort] = started.ports;
  return {
    version,
    node: nodeUrl(httpPort),
    caFile,
    logFile,
    start: () => launch(httpPort, transportPort),
    async stop() {
      await server?.stop('SIGTERM', STOP_TIMEOUT_MS);
    },
    async kill() {
      await server?.stop('SIGKILL', STOP_TIMEOUT_MS);
    },
    async close() {
      await server?.stop('SIGTERM', STOP_TIMEOUT_MS);
      started.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** SLOTLINE_ES_JAVA_HOME, else the home of the harness's `java` (Java 17+ for 8.x, 21+ for 9.x). */
function esJavaHome(): string {
  if (process.env.SLOTLINE_ES_JAVA_HOME) return process.env.SLOTLINE_ES_JAVA_HOME;
  const java = javaCommand();
  const resolved = java.includes('/') ? java : whichSync(java);
  return dirname(dirname(realpathSync(resolved)));
}

function whichSync(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      return realpathSync(join(dir, command));
    } catch {
      // not in this dir
    }
  }
  throw new Error(`"${command}" not found on PATH; set SLOTLINE_ES_JAVA_HOME`);
}

async function ensureOsUser(user: string): Promise<void> {
  try {
    await execFileAsync('id', ['-u', user]);
  } catch {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', user]).catch(async (err) => {
      // Two runs creating the user at once: the loser finds it there.
      await execFileAsync('id', ['-u', user]).catch(() => { throw err; });
    });
  }
}

async function probe(node: string, users?: Record<string, string>, caFile?: string): Promise<void> {
  const [user] = Object.entries(users ?? {});
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user[0]}:${user[1]}`).toString('base64')}` } : {};
  const url = `${node}/_cluster/health?wait_for_status=yellow&timeout=2s`;
  const status = caFile ? await httpsStatus(url, headers, readFileSync(caFile)) : (await fetch(url, { signal: AbortSignal.timeout(5_000), headers })).status;
  if (status !== 200) throw new Error(`/_cluster/health: HTTP ${status}`);
}

/** Global fetch cannot be given a CA; node:https can. */
function httpsStatus(url: string, headers: Record<string, string>, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

if (import.meta.main) {
  const es = await startElasticsearch();
  console.log(`Elasticsearch ${es.version} on ${es.node}, log ${es.logFile}`);
  await es.close();
}
