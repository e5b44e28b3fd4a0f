/**
 * Redis Sentinel for tests: a master, one replica of it, and sentinels
 * (`redis-server <conf> --sentinel`, each with a generated config in its own
 * dir: Sentinel rewrites that file), all on reserved loopback ports (./ports.ts).
 *
 * Resolves once every sentinel knows the master and sees the replica with its
 * link up, so `failover()` (SENTINEL FAILOVER) has a replica to promote.
 */
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startOnFreePorts } from './ports.ts';
import { startRedis, type RedisServer } from './redis.ts';
import { makeServerDir } from './server-dirs.ts';
import { runTool, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';

export interface RedisSentinelSetup {
  /** The master group name. */
  readonly name: string;
  /** `127.0.0.1:<port>` of each sentinel. */
  readonly sentinels: string[];
  /** The servers: [initial master, initial replica]. */
  readonly servers: RedisServer[];
  /** `host:port` of the master the sentinels report now. */
  master(): Promise<string>;
  /**
   * SENTINEL FAILOVER, then waits until the replica is master, the sentinels
   * say so, and the old master replicates from it (Sentinel demotes it on its
   * next look, up to ~10 s later). Resolves with the new master.
   */
  failover(): Promise<string>;
  close(): Promise<void>;
}

export interface StartRedisSentinelOptions {
  /** Number of sentinels (quorum 1, so one is enough to act). Default 1. */
  sentinels?: number;
  name?: string;
}

export async function startRedisSentinel(opts: StartRedisSentinelOptions = {}): Promise<RedisSentinelSetup> {
  const name = opts.name ?? 'slotline';
  const servers: RedisServer[] = [];
  const sentinelProcs: Array<{ port: number; proc: ServerProcess; dir: string; release: () => void }> = [];
  const close = async () => {
    await Promise.all(sentinelProcs.map(async (s) => {
      await s.proc.stop('SIGTERM', 5_000);
      s.release();
      await rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
    }));
    await Promise.all(servers.map((s) => s.close()));
  };
  const cli = (port: number, ...args: string[]) => runTool('redis-cli', ['-p', String(port), ...args]);
  try {
    servers.push(await startRedis());
    servers.push(await startRedis({ args: ['--replicaof', '127.0.0.1', String(servers[0].port)] }));
    await until(async () => (await cli(servers[1].port, 'info', 'replication')).includes('master_link_status:up'), 'the replica to sync');

    for (let i = 0; i < (opts.sentinels ?? 1); i++) {
      const dir = await makeServerDir('redis-sentinel');
      const conf = join(dir, 'sentinel.conf');
      const logFile = join(dir, 'sentinel.log');
      const launch = async (port: number): Promise<ServerProcess> => {
        await writeFile(conf, sentinelConf(port, dir, name, servers[0].port));
        const proc = await spawnServer({ command: 'redis-server', args: [conf, '--sentinel'], logFile, deathSignal: 'SIGKILL' });
        await waitUntilReady(`redis sentinel on port ${port}`, proc, async () => {
          if (!(await cli(port, 'ping')).includes('PONG')) throw new Error('no PONG');
        }, 20_000);
        return proc;
      };
      const started = await startOnFreePorts(1, ([port]) => launch(port)).catch(async (err) => {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      });
      sentinelProcs.push({ port: started.ports[0], proc: started.value, dir, release: started.release });
    }
    const master = async (): Promise<string> => {
      const [host, port] = (await cli(sentinelProcs[0].port, 'sentinel', 'get-master-addr-by-name', name)).trim().split('\n');
      return `${host}:${port}`;
    };
    const replicaSeen = async (replicaPort: number): Promise<boolean> => {
      for (const s of sentinelProcs) {
        const text = await cli(s.port, 'sentinel', 'replicas', name);
        // Flat key/value lines; the replica's entry lists its port and flags "slave" without down states.
        const lines = text.split('\n').map((l) => l.trim());
        const at = lines.findIndex((l, k) => l === 'port' && lines[k + 1] === String(replicaPort));
        if (at < 0) return false;
        const flags = lines[lines.indexOf('flags', at) + 1];
        const link = lines[lines.indexOf('master-link-status', at) + 1];
        if (flags !== 'slave' || link !== 'ok') return false;
      }
      return true;
    };
    await until(() => replicaSeen(servers[1].port), 'the sentinels to see the replica');
    return {
      name,
      sentinels: sentinelProcs.map((s) => `127.0.0.1:${s.port}`),
      servers,
      master,
      async failover() {
        const before = await master();
        const reply = await cli(sentinelProcs[0].port, 'sentinel', 'failover', name);
        if (!reply.includes('OK')) throw new Error(`SENTINEL FAILOVER: ${reply.trim()}`);
        await until(async () => (await master()) !== before, 'the sentinels to switch master', 30_000);
        const now = await master();
        const oldPort = Number(before.split(':')[1]);
        const newPort = Number(now.split(':')[1]);
        await until(async () => (await cli(newPort, 'role')).startsWith('master'), 'the new master to take the role');
        await until(async () => (await cli(oldPort, 'info', 'replication')).includes(`master_port:${newPort}`) && (await cli(oldPort, 'info', 'replication')).includes('master_link_status:up'), 'the old master to replicate from the new one', 30_000);
        return now;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function sentinelConf(port: number, dir: string, name: string, masterPort: number): string {
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode no',
    'daemonize no',
    `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
    `sentinel down-after-milliseconds ${name} 2000`,
    `sentinel failover-timeout ${name} 10000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis sentinel: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
