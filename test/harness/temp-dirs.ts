/**
 * Temp dirs for tests, and the run's own temp dir.
 *
 * Every test makes its dirs with `testTempDir()`: they are removed when the
 * test file ends (`temp-dirs-setup.ts`, a vitest setup file, runs
 * `removeTestTempDirs()` after the file's own `afterAll` hooks).
 *
 * The global setup gives each `vitest` run a dir of its own, `<tmp>/slotline-run-*`,
 * and points TMPDIR at it, so the test files and every process they start (slotline,
 * the demo, the servers) make their temp files there. The global teardown removes
 * it, and fails the run naming the `slotline-*` entries the tests left in it; a run that was killed
 * before its teardown leaves it behind, and the next run removes it.
 */
import { mkdtemp, readdir, rm, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDirPath } from '../../src/cli/local-ports.ts';
import { OWNER_FILE, sweepStaleServerDirs } from './server-dirs.ts';

const made: string[] = [];

/** A new dir `<tmp>/slotline-<name>-XXXXXX`, removed when the test file ends. */
export async function testTempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `slotline-${name}-`));
  made.push(dir);
  return dir;
}

/** Removes every dir `testTempDir()` made in this test file. */
export async function removeTestTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface RunTempDir {
  dir: string;
  /** Removes the run's dir; throws naming what the tests left in it (call after the servers stopped). */
  close(): Promise<void>;
}

/**
 * Makes the run's dir and points TMPDIR at it (this process and the test workers,
 * which inherit the environment). The port reservations stay in the real temp dir,
 * shared with other runs and demos on the machine: SLOTLINE_PORTS_DIR says where.
 */
export async function makeRunTempDir(): Promise<RunTempDir> {
  const realTmp = tmpdir();
  process.env.SLOTLINE_PORTS_DIR ??= lockDirPath();
  await sweepStaleServerDirs(realTmp);
  const before = new Set(await slotlineEntries(realTmp));
  const dir = await mkdtemp(join(realTmp, 'slotline-run-'));
  // Like /tmp: PostgreSQL and Elasticsearch run as other users when the tests run as root.
  await chmod(dir, 0o1777);
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return {
    dir,
    async close() {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      // Only ours count: what other programs leave there (a JVM's perf data, a browser's files) goes with the dir.
      const left = await slotlineEntries(dir);
      await rm(dir, { recursive: true, force: true });
      // Not a failure: other runs and demos on the machine write there too, and a run cannot tell theirs from its own.
      const escaped = (await slotlineEntries(realTmp)).filter((name) => !before.has(name) && !/^slotline-(run-|ports$)/.test(name));
      if (escaped.length > 0) console.warn(`test harness: new in ${realTmp} during this run (made outside TMPDIR?): ${escaped.join(', ')}`);
      if (left.length > 0) {
        throw new Error(
          `test run left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in its temp dir (removed now): ${left.join(', ')}\n` +
            'hint: make temp dirs with testTempDir() (test/harness/temp-dirs.ts), and close the servers and processes a test starts',
        );
      }
    },
  };
}

async function slotlineEntries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith('slotline-')).sort();
}
