/**
 * `slotline demo --follow` stopped with Ctrl-C: the terminal sends SIGINT to
 * the whole foreground process group — slotline and the embedded PostgreSQL
 * it started — at once. The demo must stop cleanly (exit 0), print no
 * connection errors from the server going away, and leave no temp directory.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startChild, type RunningChild } from '../harness/child-process.ts';
import { eventually, REPO } from '../e2e/support.ts';

let demo: RunningChild | undefined;
afterAll(() => {
  if (demo && demo.child.exitCode === null) process.kill(-demo.child.pid!, 'SIGKILL');
});

/** The demo's temp dir: the slotline-demo-* whose server listens on `port` (other demos may run meanwhile). */
async function demoDirOf(port: number): Promise<string | undefined> {
  for (const name of (await readdir(tmpdir())).filter((n) => n.startsWith('slotline-demo-'))) {
    const pid = await readFile(join(tmpdir(), name, 'data', 'postmaster.pid'), 'utf8').catch(() => '');
    if (pid.split('\n')[3] === String(port)) return join(tmpdir(), name);
  }
  return undefined;
}

it('Ctrl-C ends demo --follow with exit 0, no connection error, and no temp dir left', async () => {
  demo = startChild('slotline demo --follow', process.execPath, [join(REPO, 'bin', 'slotline.js'), 'demo', '--follow'], undefined, { processGroup: true });
  let port = 0;
  await eventually(() => {
    const match = /following; change rows yourself with: psql postgres:\/\/[^@]+@127\.0\.0\.1:(\d+)\//.exec(demo!.stderr());
    if (match) port = Number(match[1]);
    return match !== null || demo!.child.exitCode !== null;
  }, 150_000, 'the psql URL line');
  expect(demo.child.exitCode, demo.output()).toBeNull();
  const dir = await demoDirOf(port);
  expect(dir, 'the demo\'s temp dir, found by its server\'s port').toBeDefined();

  process.kill(-demo.child.pid!, 'SIGINT');
  const exit = await demo.exit;
  expect(exit, demo.output()).toEqual({ code: 0, signal: null });
  expect(demo.stderr()).not.toMatch(/error|terminating connection/i);
  expect(demo.stderr()).toMatch(/demo: done\.\n$/);
  expect(existsSync(dir!), `${dir} is left behind`).toBe(false);
}, 240_000);
