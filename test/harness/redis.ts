/**
 * A Redis server for tests: Debian's `redis-server` on a reserved loopback port,
 * data in its own temp dir. `stop()`/`kill()` then `start()` bring it back on
 * the same port and dir (with `appendonly`, the data survive); `close()` stops
 * it for good and removes the dir.
 *
 * The machine's own Redis on 6379 is never used: every server here gets a
 * reserved port (./ports.ts).
 */
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startOnFreePorts } from './ports.ts';
import { makeServerDir } from './server-dirs.ts';
import { runTool, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  readonly logFile: string;
  /** Starts again on the same port and dir (after stop or kill). */
  start(): Promise<void>;
  /** SHUTDOWN-like stop (SIGTERM; with appendonly, the AOF is complete). */
  stop(): Promise<void>;
  /** SIGKILL: what a crash looks like. */
  kill(): Promise<void>;
  /** Stops and removes the dir. */
  close(): Promise<void>;
}

export interface StartRedisOptions {
  /** `appendonly yes` with `appendfsync always`: every write is on disk before its reply. */
  appendOnly?: boolean;
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[];
  /**
   * A cluster node. Its bus port gets a reserved port of its own (`cluster-port`):
   * by default it is the port + 10 000, which nobody reserved (and which Redis
   * refuses above 55 535).
   */
  cluster?: boolean;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await makeServerDir('redis');
  const logFile = join(dir, 'redis.log');
  const argsFor = ([port, busPort]: number[]): string[] => [
    '--port', String(port),
    ...(opts.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort)] : []),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'no',
    '--save', '',
    ...(opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(opts.args ?? []),
  ];
  let server: ServerProcess | null = null;
  const launch = async (ports: number[]): Promise<void> => {
    server = await spawnServer({ command: 'redis-server', args: argsFor(ports), logFile, deathSignal: 'SIGKILL' });
    await waitUntilReady(`redis-server on port ${ports[0]}`, server, () => ping(ports[0]), 20_000);
  };
  const started = await startOnFreePorts(opts.cluster ? 2 : 1, launch).catch(async (err) => {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  });
  const [port] = started.ports;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    logFile,
    start: () => launch(started.ports),
    stop: async () => server?.stop('SIGTERM', 10_000),
    kill: async () => server?.stop('SIGKILL', 5_000),
    async close() {
      await server?.stop('SIGTERM', 10_000);
      started.release();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Resolves when the server answers PING with PONG, or NOAUTH (it is up, just password-protected). */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(1_000, () => done(new Error('timeout')));
    socket.on('error', done);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (!reply.includes('\r\n')) return;
      if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) done();
      else done(new Error(`not ready: ${reply.trim()}`));
    });
  });
}

export interface RedisCluster {
  /** `127.0.0.1:<port>` of each node. */
  readonly nodes: string[];
  close(): Promise<void>;
}

/** Three masters, no replicas, all 16384 slots assigned (`redis-cli --cluster create`). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) servers.push(await startRedis({ cluster: true }));
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await runTool('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      while (!(await runTool('redis-cli', ['-p', String(server.port), 'cluster', 'info'])).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`redis cluster not ok after 20 s; log ${server.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return { nodes, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}
