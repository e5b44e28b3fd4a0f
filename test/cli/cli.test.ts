/**
 * The `slotline` command as a user runs it: help, version, exit codes, config
 * validation, the demo, and a start-up error against a real server.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { REPO, runSlotline as run, writeConfig } from '../e2e/support.ts';
import { testTempDir } from '../harness/temp-dirs.ts';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
    expect(help.stdout).toMatch(/replay\s+re-send a window of history from the rewind slot/);
    const replayHelp = await run(['replay', '--help']);
    expect(replayHelp.stdout).toMatch(/Usage: slotline replay --config <file> --sink <sink file> \[--from <LSN \| ISO time \| rewind>\] \[--to <LSN \| now>\]/);
  });

  it.each(Object.entries(commands))('%s --help lists every option with its placeholder and description, and examples', async (name, command) => {
    const help = await run([name, '--help']);
    expect(help.code).toBe(0);
    for (const [option, spec] of Object.entries(command.options)) {
      const left = `${spec.short ? `-${spec.short}, ` : ''}--${option}${spec.type === 'string' ? ` <${spec.placeholder}>` : ''}`;
      expect(spec.description.length, option).toBeGreaterThan(10);
      expect(help.stdout).toMatch(new RegExp(`^ +${escape(left)} +${escape(spec.description)}$`, 'm'));
    }
    expect(help.stdout).toMatch(/^  -h, --help +show this help$/m);
    for (const example of command.examples ?? []) expect(help.stdout).toContain(`\n  ${example}`);
  });

  it('the README\'s command table has every command, and only those', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `slotline ([a-z-]+)[^`]*` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(Object.keys(commands).sort());
  });

  it('a missing config file is one line naming it and a hint for the path, not for positions', async () => {
    const missing = join(tmpdir(), 'slotline-no-such-dir', 'slotline.yaml');
    const result = await run(['validate', '--config', missing]);
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      `slotline validate: ${missing}: main file not found`,
      `  hint: check the path given to --config (a relative path starts at the current directory, ${process.cwd()})`,
    ]);
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run'], /missing --config <file>/],
    [['validate', '--bogus'], /Unknown option '--bogus'/],
    [['replay', '--config', 'slotline.yaml'], /missing --sink <sink file>/],
  ])('exits 2 on usage error %j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('validates the example config, and names file, line and key of each problem', async () => {
    const good = await run(['validate', '--config', join(REPO, 'config', 'slotline.yaml')], { env: { DATABASE_URL: 'postgres://u:p@localhost/app' } });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/valid/);

    const dir = await testTempDir('cli');
    await writeFile(join(dir, 'main.yaml'), 'source:\n  url: postgres://u@h/db\n  slot: Bad-Slot\ntopic_prefix: app\nsinks: [k.yaml]\n');
    await writeFile(join(dir, 'k.yaml'), 'name: k\ntype: kafka\nbrokers: []\nlinger: 5\n');
    const bad = await run(['validate', '--config', join(dir, 'main.yaml')]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain(`${join(dir, 'main.yaml')}:3:9 source.slot:`);
    expect(bad.stderr).toMatch(/k\.yaml:3:10 brokers: /);
    expect(bad.stderr).toMatch(/k\.yaml:4:1 linger: /);
  });

  it('runs the demo: embedded PostgreSQL, changes, envelopes on stdout, exit 0', async () => {
    // The demo waits up to 60 s for its changes on a loaded machine; give it room beyond that.
    const result = await run(['demo'], { timeoutMs: 150_000 });
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
  }, 180_000);

  it('exits 78 (a restart cannot fix it) with a one-line reason and a hint on a wrong password', async () => {
    const db = await freshDatabase('cli');
    const config = await writeConfig({ db: { ...db, databaseUrl: db.databaseUrl.replace(/:[^:@/]+@/, ':wrong@') }, slot: uniqueName('s'), publication: uniqueName('p'), topicPrefix: 'cli' });
    const result = await run(['run', '--config', config]);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/authentication failed for user "postgres"/);
    expect(result.stderr).toMatch(/hint: /);
  });
});
