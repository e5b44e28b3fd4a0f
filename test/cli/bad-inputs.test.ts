/**
 * Bad inputs to the one-shot commands: each is one line naming what is wrong
 * and one hint, never a stack trace, with the exit code of its kind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { runSlotline as run, writeConfig } from '../e2e/support.ts';

async function config(db: FreshDatabase): Promise<string> {
  return writeConfig({ db, slot: uniqueName('bad'), publication: uniqueName('bad'), topicPrefix: 'bad', tables: ['public.items'] });
}

/** The reason and the hint, and nothing else: no stack, no help text. */
function expectOneLineAndHint(stderr: string, command: string, says: RegExp | string, hint: RegExp | string): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0].startsWith(`slotline ${command}: `), stderr).toBe(true);
  expect(lines[0], stderr).toMatch(says);
  expect(lines[1], stderr).toMatch(/^  hint: /);
  expect(lines[1], stderr).toMatch(hint);
}

describe('bad inputs to the commands', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase('bad_inputs');
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
  });

  it.each([
    ['status', []],
    ['snapshot', ['--table', 'public.items']],
    ['drop-slot', ['--yes']],
  ])('%s: PostgreSQL not reachable', async (command, args) => {
    const port = await freePort();
    const path = await config({ ...db, databaseUrl: `postgres://postgres:pw@127.0.0.1:${port}/app` });
    const result = await run([command, '--config', path, ...args]);
    expect(result.code, result.stderr).toBe(1);
    expectOneLineAndHint(result.stderr, command, `cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused`, /check that PostgreSQL is running/);
  });

  it('snapshot before the worker ever ran: the publication does not exist yet', async () => {
    const path = await config(db);
    const result = await run(['snapshot', '--config', path, '--table', 'public.items']);
    expect(result.code, result.stderr).toBe(1);
    expectOneLineAndHint(result.stderr, 'snapshot', /^slotline snapshot: publication "bad_\w+" does not exist in database "bad_inputs_\w+"/, /start the worker first/);
  });

  // Read before anything connects or loads the config: the same command line fails the same way every time.
  it.each([
    ['status', ['--max-retained', 'lots'], '--max-retained: invalid size "lots"', /e\.g\. --max-retained 2GiB/],
    ['snapshot', ['--table', 'items'], '--table: "items" is not a schema-qualified table name', /write tables as schema\.table/],
    ['verify', ['--sink', 'console', '--tables', 'public.items,items'], '--tables: "items" is not a schema-qualified table name', /write tables as schema\.table/],
    ['verify', ['--sink', 'console', '--wait', 'soon'], '--wait "soon" is not a duration', /e\.g\. --wait 30s/],
    ['replay', ['--sink', 'shadow.yaml', '--from', '12345'], '--from "12345" is not an LSN, an ISO time or "rewind"', /an LSN looks like 0\/16B3748/],
    ['replay', ['--sink', 'shadow.yaml', '--from', '2024-05-01T10:00:00'], '--from 2024-05-01T10:00:00 has no time zone', /2024-05-01T10:00:00Z for UTC/],
    ['replay', ['--sink', 'shadow.yaml', '--to', 'tomorrow'], '--to "tomorrow" is not an LSN or "now"', /now \(the default\)/],
    ['replay', ['--sink', 'shadow.yaml', '--from', '0/20', '--to', '0/10'], '--from 0/20 is after --to 0/10: nothing to replay', /give a --from before --to/],
    ['replay', ['--sink', 'shadow.yaml', '--tables', 'a.b.c'], '--tables: "a.b.c" is not a schema-qualified table name', /double-quote a part that contains a dot/],
  ])('%s %j: a bad option value is a usage error (exit 2), one line and a hint', async (command, args, says, hint) => {
    const result = await run([command, '--config', await config(db), ...args]);
    expect(result.code, result.stderr).toBe(2);
    expectOneLineAndHint(result.stderr, command, `slotline ${command}: ${says}`, hint);
    expect(result.stdout).toBe('');
  });

  it('status --url that is not an http address is a usage error', async () => {
    const result = await run(['status', '--config', await config(db), '--url', 'not a url']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('slotline status: --url "not a url" is not an http:// or https:// address, e.g. --url http://127.0.0.1:9187');
  });
});
