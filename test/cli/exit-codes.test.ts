/**
 * The exit status a supervisor sees (src/cli/exit-codes.ts): 0 clean, 1 a
 * failure a restart may fix (a server not reachable at start), 2 usage, and
 * 78 for what no restart fixes — an invalid config, an unknown key, an unset
 * environment variable, wal_level, a missing privilege. Each run is the real
 * command against real servers.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../src/cli/exit-codes.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { REPO, runSlotline as run, writeConfig } from '../e2e/support.ts';

const configs: string[] = [];
afterAll(async () => {
  await Promise.all(configs.map((c) => rm(dirname(c), { recursive: true, force: true })));
});

async function config(db: FreshDatabase, extra: { brokers?: string[]; mainExtra?: string } = {}): Promise<string> {
  const path = await writeConfig({ db, slot: uniqueName('exit'), publication: uniqueName('exit'), topicPrefix: uniqueName('exit'), tables: ['public.items'], ...extra });
  configs.push(path);
  return path;
}

/** The last lines of stderr: the one-line reason and its hint. */
const reason = (stderr: string): string => stderr.trim().split('\n').slice(-2).join('\n');

describe('exit codes', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase('exit_codes');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
  });

  it('0 for a valid config, 2 for a wrong command line', async () => {
    const valid = await run(['validate', '--config', join(REPO, 'config', 'slotline.yaml')], { env: { DATABASE_URL: 'postgres://u:p@localhost/app' } });
    expect(valid.code, valid.stderr).toBe(EXIT_OK);
    expect((await run(['frobnicate'])).code).toBe(EXIT_USAGE);
    expect((await run(['run'])).code).toBe(EXIT_USAGE);
  });

  it.each([
    ['an unknown key', 'bogus_key: 1\n', {}, /bogus_key: unknown key/],
    ['an invalid value', 'runtime: { batch_max_events: lots }\n', {}, /batch_max_events: expected integer/],
    ['an unset environment variable', 'topic_prefix: ${SLOTLINE_TEST_UNSET_VARIABLE}\n', {}, /environment variable SLOTLINE_TEST_UNSET_VARIABLE is not set/],
  ])('78 for %s, from validate and from run', async (_what, extra, env, says) => {
    const path = await config(db, { mainExtra: extra });
    for (const command of ['validate', 'run']) {
      const result = await run([command, '--config', path], { env });
      expect(result.code, result.stderr).toBe(EXIT_CONFIG);
      expect(result.stderr).toMatch(says);
    }
  });

  it('78 for a role without the REPLICATION attribute', async () => {
    const role = uniqueName('exit_role');
    await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'; GRANT SELECT ON public.items TO ${role}`);
    const url = new URL(db.databaseUrl);
    url.username = role;
    url.password = 'pw';
    const result = await run(['run', '--config', await config({ ...db, databaseUrl: url.toString() })]);
    expect(result.code, result.stderr).toBe(EXIT_CONFIG);
    expect(reason(result.stderr)).toMatch(new RegExp(`role "${role}" may not stream changes[^\\n]*\\n  hint: ALTER ROLE ${role} REPLICATION`));
  });

  describe('against a server with wal_level=replica', () => {
    let server: PgServer;
    beforeAll(async () => {
      server = await startPostgres({ major: 17, postgresFlags: ['-c', 'wal_level=replica'] });
    });
    afterAll(() => server?.stop());

    it('78 for wal_level', async () => {
      await server.createDatabase('app');
      await server.query('CREATE TABLE public.items (id int PRIMARY KEY)', [], 'app');
      const target = { ...db, databaseUrl: server.url('app') };
      const result = await run(['run', '--config', await config(target)]);
      expect(result.code, result.stderr).toBe(EXIT_CONFIG);
      expect(reason(result.stderr)).toMatch(/wal_level is "replica"[^\n]*\n  hint: ALTER SYSTEM SET wal_level = logical/);
    });
  });

  it('1 when PostgreSQL cannot be reached at start', async () => {
    const port = await freePort();
    const result = await run(['run', '--config', await config({ ...db, databaseUrl: `postgres://postgres:pw@127.0.0.1:${port}/app` })]);
    expect(result.code, result.stderr).toBe(EXIT_FAILURE);
    expect(reason(result.stderr)).toMatch(/connection refused\n  hint: /);
  });

  it('1 when a sink cannot be reached at start', async () => {
    const port = await freePort();
    const result = await run(['run', '--config', await config(db, { brokers: [`127.0.0.1:${port}`] })]);
    expect(result.code, result.stderr).toBe(EXIT_FAILURE);
    expect(reason(result.stderr)).toMatch(/sink "kafka" \(kafka\) cannot be reached at start[^\n]*\n  hint: /);
  });

  it('the help and the README list the same codes', async () => {
    const help = await run(['--help']);
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    for (const code of [EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG]) {
      expect(help.stdout).toContain(`${code} `);
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
