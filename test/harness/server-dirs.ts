/**
 * Temp dirs for test servers: `<tmp>/slotline-<name>-XXXXXX`, tagged with the pid
 * of the Node process that owns the server. Servers die with their owner (see
 * server-process.ts), but a killed owner cannot remove its dirs; the next run
 * removes every such dir whose owner is gone, so /tmp does not fill up.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'slotline-';
export const OWNER_FILE = 'owner.pid';
/** Dirs without an owner file (a run killed between mkdtemp and the write) are swept after this. */
const UNOWNED_MAX_AGE_MS = 60 * 60_000;

export function serverTmpBase(): string {
  return process.env.SLOTLINE_TMP ?? tmpdir();
}

/** A new dir for one server, e.g. `slotline-pg17-Ab12Cd`; `kind` is `pg17`, `kafka-4.3.1`, … */
export async function makeServerDir(kind: string): Promise<string> {
  await sweepStaleServerDirs();
  const dir = await mkdtemp(join(serverTmpBase(), `${PREFIX}${kind}-`));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

/** Removes server dirs and test runs' temp dirs (test/harness/temp-dirs.ts) whose owning process has exited. Never throws. */
export async function sweepStaleServerDirs(base = serverTmpBase()): Promise<void> {
  const names = await readdir(base).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => /^slotline-(pg\d+|kafka-[\d.]+|elasticsearch-[\d.]+|redis|pgbouncer|run)-/.test(name))
      .map(async (name) => {
        const dir = join(base, name);
        if (await isStale(dir)) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }),
  );
}

async function isStale(dir: string): Promise<boolean> {
  const owner = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => undefined);
  if (owner === undefined) {
    const info = await stat(dir).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > UNOWNED_MAX_AGE_MS;
  }
  return !processAlive(Number.parseInt(owner, 10));
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
