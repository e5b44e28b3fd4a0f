import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidateRanges, ephemeralRange, lockDirPath, reservePort, tryReserve } from './local-ports.ts';
import { testTempDir } from '../../test/harness/temp-dirs.ts';

/** A port reserved and given back, so the test can set up its lock file by hand. */
async function unusedPort(): Promise<number> {
  const reserved = await reservePort();
  reserved.release();
  return reserved.port;
}

describe('local ports', () => {
  it.each([
    [[32768, 60999], [[20000, 32767], [61000, 65535]]],
    [[49152, 65535], [[20000, 49151]]],
    [[1024, 65535], [[20000, 65535]]],
    [[10000, 19999], [[20000, 65535]]],
  ] as Array<[[number, number], Array<[number, number]>]>)('draws from outside the ephemeral range %j: %j', (range, expected) => {
    expect(candidateRanges(range)).toEqual(expected);
  });

  it('reads the ephemeral range from the kernel, and assumes the default when it cannot', async () => {
    const dir = await testTempDir('ports-test');
    await writeFile(join(dir, 'range'), '40000\t50000\n');
    expect(ephemeralRange(join(dir, 'range'))).toEqual([40000, 50000]);
    expect(ephemeralRange(join(dir, 'missing'))).toEqual([32768, 60999]);
  });

  it('reserves distinct ports outside the ephemeral range, each with a lock file holding our pid until released', async () => {
    const [low, high] = ephemeralRange();
    const reserved = await Promise.all(Array.from({ length: 20 }, () => reservePort()));
    const ports = reserved.map((r) => r.port);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port < low || port > high, `${port} outside ${low}-${high}`).toBe(true);
      expect(await readFile(join(lockDirPath(), String(port)), 'utf8')).toBe(`${process.pid}\n`);
    }
    reserved.forEach((r) => r.release());
    for (const port of ports) expect(existsSync(join(lockDirPath(), String(port)))).toBe(false);
  });

  it('leaves a port whose lock a live process holds, and takes over the lock of a process that is gone', async () => {
    const port = await unusedPort();
    const lock = join(lockDirPath(), String(port));
    const live = spawn('sleep', ['30']);
    try {
      await writeFile(lock, `${live.pid}\n`);
      expect(await tryReserve(port)).toBeNull();
      expect(await readFile(lock, 'utf8')).toBe(`${live.pid}\n`);
    } finally {
      live.kill();
    }
    await once(live, 'exit');
    const taken = await tryReserve(port);
    expect(taken?.port).toBe(port);
    expect(await readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
    taken!.release();
  });

  it('leaves a port that another program listens on, without keeping its lock', async () => {
    const port = await unusedPort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await tryReserve(port)).toBeNull();
      expect(existsSync(join(lockDirPath(), String(port)))).toBe(false);
    } finally {
      server.close();
    }
  });
});
