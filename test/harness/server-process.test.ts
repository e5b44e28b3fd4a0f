/**
 * Start-up waits: a server that keeps logging may take longer than the limit
 * (a loaded machine), one that logs nothing for the limit fails with its log.
 * The "servers" are shell scripts that log, then become ready by creating a file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer, waitUntilReady } from './server-process.ts';
import { testTempDir } from './temp-dirs.ts';

async function fakeServer(script: string) {
  const dir = await testTempDir('fake-server');
  const server = await spawnServer({ command: 'sh', args: ['-c', script], logFile: join(dir, 'server.log'), deathSignal: 'SIGKILL', cwd: dir });
  const ready = async () => {
    if (!existsSync(join(dir, 'ready'))) throw new Error('not ready yet');
  };
  return { server, ready };
}

describe('waiting for a server to start', () => {
  it('waits past the limit while the server keeps logging', async () => {
    const { server, ready } = await fakeServer('for i in 1 2 3 4 5 6 7 8; do echo "starting $i"; sleep 0.5; done; touch ready; exec sleep 60');
    const started = Date.now();
    await waitUntilReady('the fake server', server, ready, 3_000);
    expect(Date.now() - started).toBeGreaterThan(3_000);
    await server.stop('SIGKILL', 5_000);
  });

  it('gives up after the limit without a new log line, with the log in the error', async () => {
    const { server, ready } = await fakeServer('echo "loading"; exec sleep 60');
    const failure = await waitUntilReady('the fake server', server, ready, 1_000).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^the fake server not ready after \d+ ms, the last \d+ ms without a new log line \(last probe error: not ready yet\); log .*server\.log:\nloading$/);
    expect(server.running()).toBe(false);
  });

  it('gives up after three times the limit even while the server keeps logging', async () => {
    const { server, ready } = await fakeServer('while true; do echo "still starting"; sleep 0.2; done');
    const started = Date.now();
    const failure = await waitUntilReady('the fake server', server, ready, 500).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(server.running()).toBe(false);
  });
});
