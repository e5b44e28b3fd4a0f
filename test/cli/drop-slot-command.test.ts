/**
 * `slotline drop-slot` as an operator uninstalls with it, against a real
 * PostgreSQL and a real worker: it refuses while the worker streams from the
 * slot, needs --yes without a terminal, asks on a terminal, drops the slot and
 * that slot's snapshot records (and the publication only when asked), and is a
 * no-op when there is nothing to drop.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../harness/child-process.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, REPO, runSlotline as run, spawnWorker, writeConfig } from '../e2e/support.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

interface Target {
  db: FreshDatabase;
  slot: string;
  publication: string;
  config: string;
}

async function prepare(name: string): Promise<Target> {
  const db = await freshDatabase(name);
  await db.sql("CREATE TABLE public.items (id int PRIMARY KEY); INSERT INTO public.items VALUES (1), (2)");
  const [slot, publication] = [uniqueName(name), uniqueName('pub')];
  const config = await writeConfig({ db, slot, publication, topicPrefix: uniqueName(name), tables: ['public.items'] });
  cleanup.push(() => rm(dirname(config), { recursive: true, force: true }));
  return { db, slot, publication, config };
}

/** The slot, the number of its snapshot records, and whether the publication exists. */
async function state(t: Target): Promise<{ slot: { active: boolean } | null; records: number; publication: boolean }> {
  const [row] = await t.db.sql(
    `SELECT (SELECT jsonb_build_object('active', active) FROM pg_replication_slots WHERE slot_name = $1) AS slot,
            to_regclass('public.slotline_snapshots') IS NOT NULL AS has_records,
            EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS publication`,
    [t.slot, t.publication],
  );
  const records = row.has_records ? (await t.db.sql('SELECT count(*)::int AS n FROM public.slotline_snapshots WHERE slot_name = $1', [t.slot]))[0].n : 0;
  return { slot: row.slot, records, publication: row.publication };
}

/** Runs drop-slot on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt. */
function onTerminal(config: string, answer: string): ReturnType<typeof runCommand> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, join(REPO, 'bin', 'slotline.js'), 'drop-slot', '--config', config].map(quote).join(' ');
  return runCommand('slotline drop-slot (on a terminal)', 'script', ['-qec', command, '/dev/null'], { timeoutMs: 60_000, input: `${answer}\n` });
}

describe('slotline drop-slot', () => {
  let t: Target;

  beforeAll(async () => {
    t = await prepare('drop_slot');
    // A worker creates the slot, snapshots the table (one state record) and streams.
    const worker = spawnWorker(t.config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(async () => (await state(t)).slot?.active === true && (await state(t)).records > 0, 60_000, 'the worker streaming');

    // While it streams, drop-slot refuses and changes nothing.
    const refused = await run(['drop-slot', '--config', t.config, '--yes']);
    expect(refused.code, refused.stderr).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines, refused.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`replication slot "${t.slot}" is active: a process streams from it \\(PID \\d+, application_name "slotline[^"]*"\\); not dropped`));
    expect(lines[1]).toMatch(/^  hint: stop the slotline worker that uses it first/);
    expect(await state(t)).toEqual({ slot: { active: true }, records: 1, publication: true });

    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    await eventually(async () => (await state(t)).slot?.active === false, 30_000, 'the slot released');
  });

  it('needs --yes when stdin is not a terminal (exit 2), and drops nothing', async () => {
    const result = await run(['drop-slot', '--config', t.config]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/stdin is not a terminal, so drop-slot cannot ask for confirmation: add --yes/);
    expect((await state(t)).slot).toEqual({ active: false });
  });

  it('on a terminal, shows the slot and drops nothing unless the answer is the slot name or y', async () => {
    const declined = await onTerminal(t.config, 'no');
    expect(declined.code, declined.stdout).toBe(1);
    expect(declined.stdout).toMatch(new RegExp(`replication slot "${t.slot}" in database "${t.db.database}" at 127\\.0\\.0\\.1:\\d+`));
    expect(declined.stdout).toMatch(/state +inactive: no worker streams from it/);
    expect(declined.stdout).toMatch(/retained WAL +\d/);
    expect(declined.stdout).toMatch(/snapshot records +1 in public\.slotline_snapshots/);
    expect(declined.stdout).toMatch(`Type the slot name (${t.slot}) or y to drop it:`);
    expect(declined.stdout).toMatch(/nothing dropped/);
    expect(await state(t)).toEqual({ slot: { active: false }, records: 1, publication: true });

    const accepted = await onTerminal(t.config, t.slot);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(accepted.stdout).toMatch(`dropped replication slot "${t.slot}"`);
    expect(accepted.stdout).toMatch(`deleted 1 snapshot record of slot "${t.slot}" from public.slotline_snapshots`);
    expect(await state(t)).toEqual({ slot: null, records: 0, publication: true });
  });

  it('with nothing left to drop exits 0; --drop-publication drops the publication', async () => {
    const nothing = await run(['drop-slot', '--config', t.config, '--yes']);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(nothing.stdout).toMatch(`replication slot "${t.slot}" does not exist in database "${t.db.database}"`);
    expect(nothing.stdout).toMatch(/nothing to drop/);

    const publication = await run(['drop-slot', '--config', t.config, '--yes', '--drop-publication']);
    expect(publication.code, publication.stderr).toBe(0);
    expect(publication.stdout).toMatch(`dropped publication "${t.publication}"`);
    expect(await state(t)).toEqual({ slot: null, records: 0, publication: false });
  });

  it('refuses a slot of that name that is not slotline\'s (another plugin), and keeps it', async () => {
    const other = await prepare('drop_other');
    await other.db.sql("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [other.slot]);
    const result = await run(['drop-slot', '--config', other.config, '--yes']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(`replication slot "${other.slot}" is a slot of the output plugin "test_decoding", not one slotline streams from; not dropped\n  hint: check source.slot;`);
    expect((await state(other)).slot).toEqual({ active: false });
    await other.db.sql('SELECT pg_drop_replication_slot($1)', [other.slot]);
  });
});
