/**
 * Runs the real `promtool` (Debian package `prometheus`, which .ci/run installs).
 * Missing, it fails the test with what to install: never a skip.
 */
import { spawnSync } from 'node:child_process';

export interface PromtoolResult {
  status: number;
  output: string;
}

export function promtool(args: string[], cwd?: string): PromtoolResult {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed: apt-get install prometheus (the Debian package ships promtool; .ci/run installs it)');
  }
  if (run.error) throw run.error;
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}
