/**
 * Loopback ports for the servers slotline starts itself (the demo's PostgreSQL)
 * and for the test harness's servers.
 *
 * A port from `listen(0)` comes from the kernel's ephemeral range: between the
 * pick and the server's bind, any other `listen(0)` may be handed it again, and
 * any outgoing connection of any process may take it as its source port. So:
 * - ports are drawn outside the ephemeral range (`ip_local_port_range`), from
 *   20000 up, where the kernel never hands out ports on its own;
 * - each is reserved by a lock file `<tmp>/slotline-ports/<port>` holding our
 *   pid, which every process using this module respects (parallel test files,
 *   a demo), also while a test server is stopped for a restart on its port; a
 *   lock whose process is gone is taken over;
 * - it must be free at the pick (a test bind), so a port that another program
 *   listens on is skipped.
 * A program that does not use this module can still bind the port first: who
 * starts a server detects the bind failure and starts again on a new port.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReservedPort {
  readonly port: number;
  /** Frees the reservation (idempotent); a process's reservations also end when it exits. */
  release(): void;
}

const LOWEST = 20_000;
const HIGHEST = 65_535;
const MAX_TRIES = 500;
/** Lock files this process holds, removed when it exits. */
const held = new Set<string>();
let exitHook = false;

/** Reserves a loopback port that no process using this module holds and nothing listens on now. */
export async function reservePort(): Promise<ReservedPort> {
  const dir = await lockDir();
  const ranges = candidateRanges(ephemeralRange());
  for (let i = 0; i < MAX_TRIES; i++) {
    const reserved = await tryReserve(randomPort(ranges), dir);
    if (reserved) return reserved;
  }
  throw new Error(`no free loopback port found in ${MAX_TRIES} tries (ranges ${ranges.map(([a, b]) => `${a}-${b}`).join(', ')}; locks in ${dir})`);
}

/** Reserves `port` if no live process holds its lock and nothing listens on it; null otherwise. */
export async function tryReserve(port: number, dir?: string): Promise<ReservedPort | null> {
  const lock = join(dir ?? (await lockDir()), String(port));
  if (!(await takeLock(lock))) return null;
  if (await canListen(port)) return { port, release: () => forget(lock) };
  forget(lock);
  return null;
}

/**
 * Where the lock files are: one folder for every process on the machine.
 * SLOTLINE_PORTS_DIR moves it (a test run gives its processes a TMPDIR of their own
 * and keeps the reservations shared with other runs through it).
 */
export function lockDirPath(): string {
  return process.env.SLOTLINE_PORTS_DIR || join(tmpdir(), 'slotline-ports');
}

/** The kernel's ephemeral port range, [low, high]; Linux's default where it cannot be read. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low <= high) return [low, high];
  } catch {
    // not Linux, or no /proc: assume the default
  }
  return [32_768, 60_999];
}

/**
 * The ranges to draw from: [20000, 65535] less the ephemeral range. Should the
 * ephemeral range cover all of it, draw from all of it (a bind failure is still
 * retried by the server's starter).
 */
export function candidateRanges([low, high]: [number, number]): Array<[number, number]> {
  const outside: Array<[number, number]> = [
    [LOWEST, Math.min(low - 1, HIGHEST)],
    [Math.max(high + 1, LOWEST), HIGHEST],
  ];
  const ranges = outside.filter(([a, b]) => a <= b);
  return ranges.length > 0 ? ranges : [[LOWEST, HIGHEST]];
}

function randomPort(ranges: Array<[number, number]>): number {
  const total = ranges.reduce((sum, [a, b]) => sum + b - a + 1, 0);
  let n = Math.floor(Math.random() * total);
  for (const [a, b] of ranges) {
    if (n <= b - a) return a + n;
    n -= b - a + 1;
  }
  return ranges[0][0];
}

async function lockDir(): Promise<string> {
  const dir = lockDirPath();
  await mkdir(dir, { recursive: true });
  // Shared by every user on the machine, like /tmp itself.
  await chmod(dir, 0o1777).catch(() => undefined);
  return dir;
}

/** Creates the lock file, or takes it over from a process that is gone; false if a live process holds it. */
async function takeLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      held.add(lock);
      if (!exitHook) process.once('exit', releaseAll);
      exitHook = true;
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
      if (processAlive(owner)) return false;
      await unlink(lock).catch(() => undefined);
    }
  }
  return false;
}

function processAlive(pid: number): boolean {
  // A lock file being written right now reads empty: treat it as held.
  if (!Number.isInteger(pid)) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function forget(lock: string): void {
  if (!held.delete(lock)) return;
  try {
    unlinkSync(lock);
  } catch {
    // already gone
  }
}

function releaseAll(): void {
  for (const lock of [...held]) forget(lock);
}
