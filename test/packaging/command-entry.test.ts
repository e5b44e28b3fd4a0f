/**
 * What `bin/slotline.js` runs: the compiled dist/ when it is as new as the
 * sources (always, in an installed package), the TypeScript sources when they
 * changed since the build and Node can strip types, and otherwise one line
 * naming the fix. A Node without type stripping (20) is played by Node run
 * with --no-experimental-strip-types.
 */
import { cp, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeTooOld } from '../../bin/pick-entry.js';
import { runCommand, type CommandResult } from '../harness/child-process.ts';
import { REPO } from '../e2e/support.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

const NO_STRIP = '--no-experimental-strip-types';

/** A package root with the real bin/ and stand-ins for the sources and the compiled code. */
async function fakePackage(files: { source?: boolean; compiled?: boolean; sourceNewer?: boolean }): Promise<string> {
  const root = await testTempDir('entry');
  await cp(join(REPO, 'bin'), join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  const write = async (path: string, text: string, ageSeconds: number) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
    const time = new Date(Date.now() - ageSeconds * 1000);
    await utimes(join(root, path), time, time);
  };
  const main = (what: string) => `export async function main(argv) { console.log('${what}', argv.join(' ')); return 0; }\n`;
  if (files.source) await write('src/cli/main.ts', main('sources').replace('(argv)', '(argv: string[])'), files.sourceNewer ? 0 : 100);
  if (files.compiled) await write('dist/src/cli/main.js', main('compiled'), 50);
  return root;
}

const slotline = (root: string, nodeFlags: string[] = []): Promise<CommandResult> =>
  runCommand('slotline', process.execPath, [...nodeFlags, join(root, 'bin', 'slotline.js'), 'x'], { timeoutMs: 60_000 });

describe('the slotline command', () => {
  it.each([
    ['dist/ as new as the sources', { source: true, compiled: true }, [], 'compiled x'],
    ['dist/ as new as the sources, no type stripping', { source: true, compiled: true }, [NO_STRIP], 'compiled x'],
    ['a source newer than dist/', { source: true, compiled: true, sourceNewer: true }, [], 'sources x'],
    ['no dist/ yet', { source: true }, [], 'sources x'],
    ['an installed package: dist/ only', { compiled: true }, [NO_STRIP], 'compiled x'],
  ] as const)('runs the right code with %s', async (_, files, flags, expected) => {
    const result = await slotline(await fakePackage(files), [...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(expected);
  });

  it.each([
    ['a source newer than dist/', { source: true, compiled: true, sourceNewer: true }, /src\/cli\/main\.ts is newer than dist\/src\/cli\/main\.js/],
    ['no dist/ yet', { source: true }, /dist\/ does not exist/],
  ] as const)('without type stripping and %s, exits 1 with one line naming the fix', async (_, files, reason) => {
    const result = await slotline(await fakePackage(files), [NO_STRIP]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toMatch(/run `npm run build` in .*, or use Node 22\.18 or newer/);
  });

  it.each([
    ['v18.20.4', `slotline needs Node.js ${MIN_NODE_MAJOR} or newer, and this is Node v18.20.4: install Node 24 LTS from https://nodejs.org/en/download (or run \`nvm install 24\`)`],
    ['v16.0.0', expect.stringContaining('this is Node v16.0.0')],
    ['v20.0.0', null],
    ['v24.21.0', null],
  ])('on Node %s says in one line which Node it needs, or nothing', (version, message) => {
    expect(nodeTooOld(version)).toEqual(message);
  });

  it('runs compiled by `tsc -p tsconfig.build.json`, without type stripping: --version and validate', async () => {
    // A package as npm would install it: package.json, bin/, config/, dist/ (built here) and no sources.
    const root = await testTempDir('built');
    for (const path of ['package.json', 'bin', 'config']) await cp(join(REPO, path), join(root, path), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
    const build = await runCommand('tsc', process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(root, 'dist')], { timeoutMs: 120_000 });
    expect(build.code).toBe(0);
    const run = (args: string[], env?: NodeJS.ProcessEnv) =>
      runCommand('slotline', process.execPath, [NO_STRIP, join(root, 'bin', 'slotline.js'), ...args], { env, timeoutMs: 60_000 });
    const version = await run(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const valid = await run(['validate', '--config', join(root, 'config', 'slotline.yaml')], { DATABASE_URL: 'postgres://u:p@localhost/app' });
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/valid/);
  }, 180_000);
});
