/**
 * The run's temp dir: TMPDIR points into it while the run lasts, the port
 * reservations stay shared, and closing it fails naming what tests left there.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDirPath } from '../../src/cli/local-ports.ts';
import { makeRunTempDir, removeTestTempDirs, testTempDir } from './temp-dirs.ts';

describe('temp dirs', () => {
  const saved = { TMPDIR: process.env.TMPDIR, SLOTLINE_PORTS_DIR: process.env.SLOTLINE_PORTS_DIR };
  afterEach(() => Object.assign(process.env, saved));

  it('test files run with TMPDIR in the run dir the global setup made', () => {
    expect(basename(tmpdir())).toMatch(/^slotline-run-\w{6}$/);
    expect(process.env.SLOTLINE_PORTS_DIR).toBe(join(dirname(tmpdir()), 'slotline-ports'));
  });

  it('testTempDir makes slotline-<name>-* dirs in TMPDIR, and removeTestTempDirs removes them', async () => {
    const a = await testTempDir('example');
    const b = await testTempDir('example');
    expect(a).not.toBe(b);
    expect(dirname(a)).toBe(tmpdir());
    expect(basename(a)).toMatch(/^slotline-example-\w{6}$/);
    await removeTestTempDirs();
    expect(existsSync(a) || existsSync(b)).toBe(false);
  });

  it('a run dir takes TMPDIR for the run, keeps the port locks where they were, and goes when closed', async () => {
    const outer = await testTempDir('outer');
    process.env.TMPDIR = outer;
    delete process.env.SLOTLINE_PORTS_DIR;
    const portsBefore = lockDirPath();
    const run = await makeRunTempDir();
    expect(dirname(run.dir)).toBe(outer);
    expect(basename(run.dir)).toMatch(/^slotline-run-/);
    expect(process.env.TMPDIR).toBe(run.dir);
    expect(lockDirPath()).toBe(portsBefore);
    expect((await stat(run.dir)).mode & 0o7777).toBe(0o1777);
    await mkdir(join(run.dir, 'hsperfdata_someone'));
    await run.close();
    expect(existsSync(run.dir)).toBe(false);
    expect(process.env.TMPDIR).toBe(outer);
  });

  it('closing a run dir that tests left slotline dirs in fails naming them, and removes them anyway', async () => {
    process.env.TMPDIR = await testTempDir('outer');
    const run = await makeRunTempDir();
    const left = await testTempDir('e2e');
    await mkdir(join(run.dir, 'slotline-demo-abc123'));
    await expect(run.close()).rejects.toThrow(`test run left 2 entries in its temp dir (removed now): slotline-demo-abc123, ${basename(left)}`);
    expect(existsSync(run.dir)).toBe(false);
  });
});
