/**
 * A test that fails after running a child process reports the child's exit
 * and stderr. Checked on a real vitest run of a small test file that fails.
 */
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/support.ts';
import { runCommand } from './child-process.ts';
import { testTempDir } from './temp-dirs.ts';

const FAILING_FILE = `
import { expect, it } from 'vitest';
import { runCommand } from ${JSON.stringify(join(REPO, 'test', 'harness', 'child-process.ts'))};

const node = (code) => runCommand('the child', process.execPath, ['-e', code], { timeoutMs: 2_000 });

it('exits 3', async () => {
  const result = await node("console.error('boom from the child'); process.exit(3)");
  expect(result.code).toBe(0);
});

it('hangs', async () => {
  const result = await node("console.error('waiting forever'); setInterval(() => {}, 1000)");
  expect(result.code).toBe(0);
});
`;

describe('child processes in tests', () => {
  it('put their exit, their stderr and a timeout in the failure of the test that ran them', async () => {
    const dir = await testTempDir('child-report');
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    await writeFile(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.mjs'] } };\n");
    await writeFile(join(dir, 'failing.test.mjs'), FAILING_FILE);
    const report = join(dir, 'report.json');
    const run = await runCommand('vitest', process.execPath, [join(REPO, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', dir, '--reporter=json', `--outputFile=${report}`], { timeoutMs: 120_000 });
    expect(run.code).toBe(1);
    const results = JSON.parse(await readFile(report, 'utf8')).testResults[0].assertionResults;
    const failure = (title: string) => results.find((r: { title: string }) => r.title === title).failureMessages.join('\n');
    expect(failure('exits 3')).toMatch(/the child \(pid \d+\) exited with code 3\nstderr \(last 40 lines\):\nboom from the child/);
    expect(failure('hangs')).toMatch(/the child \(pid \d+\) was ended by SIGTERM\nstderr \(last 40 lines\):\nwaiting forever\nthe test ended it after 2000 ms/);
  }, 150_000);
});
