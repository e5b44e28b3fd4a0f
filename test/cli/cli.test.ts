/**
 * The `slotline` command as a user runs it: help, version, exit codes, config
 * validation, the demo, and a start-up error against a real server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { REPO, writeConfig } from '../e2e/support.ts';

const run = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(REPO, 'bin', 'slotline.js'), ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

describe('slotline command', () => {
  it('prints help and version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: slotline <command>/);
    expect(help.stdout).toMatch(/run\s+stream changes/);
    const version = await run(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const runHelp = await run(['run', '--help']);
    expect(runHelp.stdout).toMatch(/Usage: slotline run --config <file>/);
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run'], /missing --config <file>/],
    [['validate', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 on usage error %j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('validates the example config, and names file, line and key of each problem', async () => {
    const good = await run(['validate', '--config', join(REPO, 'config', 'slotline.yaml')], { DATABASE_URL: 'postgres://u:p@localhost/app' });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/valid/);

    const dir = await mkdtemp(join(tmpdir(), 'slotline-cli-'));
    await writeFile(join(dir, 'main.yaml'), 'source:\n  url: postgres://u@h/db\n  slot: Bad-Slot\ntopic_prefix: app\nsinks: [k.yaml]\n');
    await writeFile(join(dir, 'k.yaml'), 'name: k\ntype: kafka\nbrokers: []\nlinger: 5\n');
    const bad = await run(['validate', '--config', join(dir, 'main.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(dir, 'main.yaml')}:3:9 source.slot:`);
    expect(bad.stderr).toMatch(/k\.yaml:3:10 brokers: /);
    expect(bad.stderr).toMatch(/k\.yaml:4:1 linger: /);
  });

  it('runs the demo: embedded PostgreSQL, changes, envelopes on stdout, exit 0', async () => {
    const result = await run(['demo']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.topic} ${l.value?.op ?? 'tombstone'}`)).toEqual([
      'demo.public.products c',
      'demo.public.products c',
      'demo.public.orders c',
      'demo.public.products u',
      'demo.public.orders u',
      'demo.message m',
      'demo.public.orders d',
      'demo.public.orders tombstone',
    ]);
  }, 90_000);

  it('exits 1 with a one-line reason and a hint on a wrong password', async () => {
    const db = await freshDatabase('cli');
    const config = await writeConfig({ db: { ...db, databaseUrl: db.databaseUrl.replace(/:[^:@/]+@/, ':wrong@') }, slot: uniqueName('s'), publication: uniqueName('p'), topicPrefix: 'cli' });
    const result = await run(['run', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/authentication failed for user "postgres"/);
    expect(result.stderr).toMatch(/hint: /);
  });
});
