/**
 * Every bad input of `slotline replay` exits 1 with one line and a hint, and
 * leaves the production slot, the rewind slot and the sinks as they were —
 * no temporary slot either, also when the problem shows only once streaming
 * began (a --from time older than what the rewind slot holds).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleRecords, expectUntouched, recordHistory, writeSinkFile, type History } from './replay-support.ts';
import { runSlotline } from './support.ts';

let history: History;
let shadow: string;
beforeAll(async () => {
  history = await recordHistory('replay_errors');
  await history.db.sql('CREATE TABLE public.outside (id int PRIMARY KEY)');
  shadow = await writeSinkFile(history, 'shadow.yaml', `name: shadow\ntype: console\noutput: ${JSON.stringify(join(history.dir, 'shadow.jsonl'))}\n`);
});

interface Case {
  name: string;
  args: () => string[];
  says: RegExp;
  hint: RegExp;
  /** 2 for an option value that cannot be read (a usage error), else 1. */
  code?: number;
}

const cases: Case[] = [
  {
    name: 'no rewind slot configured',
    args: () => ['--config', join(history.dir, 'no-rewind.yaml'), '--sink', shadow],
    says: /^no rewind slot is configured in \S+no-rewind\.yaml$/,
    hint: /set source\.rewind\.retain/,
  },
  {
    name: '--from an LSN older than the rewind slot holds',
    args: () => ['--sink', shadow, '--from', '0/10'],
    says: /^--from 0\/10 is older than the rewind slot holds: it can go back to [0-9A-F]+\/[0-9A-F]+$/,
    hint: /use --from rewind, or an LSN at or after/,
  },
  {
    name: '--from a time older than the rewind slot holds (found once streaming)',
    args: () => ['--sink', shadow, '--from', '2000-01-01T00:00:00Z'],
    says: /^--from 2000-01-01T00:00:00Z is older than the rewind slot holds: the oldest transaction it holds committed at \d{4}-\d\d-\d\dT[\d:.]+Z \(LSN [0-9A-F]+\/[0-9A-F]+\)$/,
    hint: /use --from rewind to replay all it holds/,
  },
  {
    name: '--to in the future',
    args: () => ['--sink', shadow, '--to', 'FF/0'],
    says: /^--to FF\/0 is in the future: the server's WAL is at [0-9A-F]+\/[0-9A-F]+$/,
    hint: /use --to now/,
  },
  {
    name: '--from after --to',
    args: () => ['--sink', shadow, '--from', history.l2, '--to', history.l1],
    says: /^--from \S+ is after --to \S+: nothing to replay$/,
    hint: /before --to/,
    code: 2,
  },
  {
    name: 'an LSN that is not one',
    args: () => ['--sink', shadow, '--from', '12345'],
    says: /^--from "12345" is not an LSN, an ISO time or "rewind"$/,
    hint: /an LSN looks like 0\/16B3748/,
    code: 2,
  },
  {
    name: 'a time without a zone',
    args: () => ['--sink', shadow, '--from', '2024-05-01T10:00:00'],
    says: /^--from 2024-05-01T10:00:00 has no time zone$/,
    hint: /2024-05-01T10:00:00Z for UTC/,
    code: 2,
  },
  {
    name: 'a time that does not exist',
    args: () => ['--sink', shadow, '--from', '2024-02-30T10:00:00Z'],
    says: /^--from 2024-02-30T10:00:00Z is not a valid time$/,
    hint: /ISO 8601/,
    code: 2,
  },
  {
    name: 'a --to that is not an LSN',
    args: () => ['--sink', shadow, '--to', 'tomorrow'],
    says: /^--to "tomorrow" is not an LSN or "now"$/,
    hint: /pg_current_wal_lsn/,
    code: 2,
  },
  {
    name: 'an unknown sink file',
    args: () => ['--sink', '/nonexistent/shadow.yaml'],
    says: /^sink file "\/nonexistent\/shadow\.yaml" does not exist$/,
    hint: /a shadow sink .* or the name of a sink of \S+: console/,
  },
  {
    name: 'a table outside the publication',
    args: () => ['--sink', shadow, '--tables', 'public.outside'],
    says: /^table public\.outside is not in publication "\S+", so the slot never carried its changes$/,
    hint: /replay only tables slotline captures/,
  },
  {
    name: 'a table that does not exist',
    args: () => ['--sink', shadow, '--tables', 'public.nothing'],
    says: /^table public\.nothing does not exist in database/,
    hint: /check the name in --tables/,
  },
  {
    name: 'a sink that cannot be reached',
    args: () => ['--sink', join(history.dir, 'down.yaml')],
    says: /^sink "shadow-down" \(kafka\) cannot be reached at start: /,
    hint: /check that kafka is running .* so run the replay again once it is reachable$/,
  },
  {
    name: 'the production sink file, without --into-production',
    args: () => ['--sink', join(history.dir, 'sinks', 'console.yaml')],
    says: /^sink file \S+console\.yaml is production: \S+slotline\.yaml lists it \(sink "console"\)$/,
    hint: /replay into a shadow sink file .* or add --into-production/,
  },
  {
    name: 'a production sink by name, without --into-production',
    args: () => ['--sink', 'console'],
    says: /is production: \S+slotline\.yaml lists it \(sink "console"\)$/,
    hint: /add --into-production/,
  },
];

describe('slotline replay refuses', () => {
  beforeAll(async () => {
    // The same database, slot and sinks, without source.rewind.
    const main = await readFile(history.configPath, 'utf8');
    expect(main).toMatch(/^  rewind: .*\n/m);
    await writeFile(join(history.dir, 'no-rewind.yaml'), main.replace(/^  rewind: .*\n/m, ''));
    await writeFile(join(history.dir, 'down.yaml'), 'name: shadow-down\ntype: kafka\nbrokers: ["127.0.0.1:1"]\n');
  });

  it.each(cases)('$name: exit 1 (2 for a value that cannot be read), one line and a hint, nothing touched', async ({ args, says, hint, code = 1 }) => {
    const given = args();
    const result = await runSlotline(['replay', ...(given[0] === '--config' ? [] : ['--config', history.configPath]), ...given], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(code);
    const [message, hintLine] = result.stderr.trimEnd().split('\n').slice(-2);
    expect(message.replace(/^slotline replay: /, ''), result.stderr).toMatch(says);
    expect(message).toMatch(/^slotline replay: /);
    expect(hintLine, result.stderr).toMatch(/^ {2}hint: /);
    expect(hintLine).toMatch(hint);
    expect(await consoleRecords(join(history.dir, 'shadow.jsonl'))).toEqual([]);
    await expectUntouched(history);
  });
});

describe('--into-production', () => {
  it('replays into the production sink file when asked to', async () => {
    const before = (await consoleRecords(join(history.dir, 'console.jsonl'))).length;
    const result = await runSlotline(['replay', '--config', history.configPath, '--sink', 'console', '--from', history.l1, '--to', history.l2, '--into-production'], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^replayed 2 transactions, 5 events .* into sink "console" \(console, \S+\) — production$/m);
    expect(result.stderr).toMatch(/replaying into a production sink \(--into-production\)/);
    expect(await consoleRecords(join(history.dir, 'console.jsonl'))).toHaveLength(before + 6);
    await expectUntouched(history);
  });
});
