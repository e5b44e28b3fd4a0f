/**
 * A server whose port is taken at bind time (by a program that does not use
 * the reservations) is started again on a new port; any other start-up
 * failure is not retried. Real servers, real bind failures.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDirPath } from '../../src/cli/local-ports.ts';
import { pgServers } from './context.ts';
import { PortTakenError, freePort, startOnFreePorts } from './ports.ts';
import { testTempDir } from './temp-dirs.ts';
import { runTool, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';
import { startPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';

/** A listener on a port outside the reservations, as another program would hold it. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  // It hangs up on every connection, so that a probe sent to it fails at once.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, server };
}

describe('servers on reserved ports', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('redis-server on a taken port fails with PortTakenError, and starts again on a new one', async () => {
    const held = await holdPort();
    cleanup.push(() => void held.server.close());
    const dir = await testTempDir('ports-test');
    const servers: ServerProcess[] = [];
    cleanup.push(() => Promise.all(servers.map((s) => s.stop('SIGKILL', 5_000))));
    const tried: number[] = [];
    const started = await startOnFreePorts(1, async ([port]) => {
      // The first start goes to the held port, as if another program had bound ours first.
      const use = tried.length === 0 ? held.port : port;
      tried.push(use);
      const server = await spawnServer({ command: 'redis-server', args: ['--port', String(use), '--bind', '127.0.0.1', '--save', ''], logFile: join(dir, 'redis.log'), deathSignal: 'SIGKILL' });
      servers.push(server);
      await waitUntilReady(`redis-server on port ${use}`, server, async () => {
        if (!(await runTool('redis-cli', ['-p', String(use), 'ping'])).includes('PONG')) throw new Error('no PONG');
      }, 20_000);
      return use;
    });
    expect(tried).toEqual([held.port, started.ports[0]]);
    expect(await runTool('redis-cli', ['-p', String(started.ports[0]), 'ping'])).toContain('PONG');
    started.release();
  });

  it('does not retry a start-up failure that is not a taken port', async () => {
    let starts = 0;
    const failure = await startOnFreePorts(1, async () => {
      starts++;
      throw new Error('initdb failed');
    }).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(PortTakenError);
    expect(starts).toBe(1);
  });

  it('Redis and PostgreSQL keep their reserved ports across a restart, and give them back when closed', async () => {
    const locked = (port: number) => existsSync(join(lockDirPath(), String(port)));
    const redis = await startRedis();
    const pg = await startPostgres({ major: pgServers()[0].major });
    cleanup.push(() => redis.close(), () => pg.stop());
    await redis.stop();
    await pg.restart();
    await redis.start();
    expect(await runTool('redis-cli', ['-p', String(redis.port), 'ping'])).toContain('PONG');
    expect(await pg.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect([locked(redis.port), locked(pg.port)]).toEqual([true, true]);
    await redis.close();
    await pg.stop();
    expect([locked(redis.port), locked(pg.port)]).toEqual([false, false]);
  });
});
