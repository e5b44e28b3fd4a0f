/**
 * A first start waits, inside the server's slot creation, for every
 * transaction running on the server, in any database: a forgotten session
 * `idle in transaction` elsewhere holds it for as long as it lives. The worker
 * must say so, naming that session and what to do, and stream from the moment
 * the transaction ends. Both ways a slot is made: CREATE_REPLICATION_SLOT with
 * an exported snapshot (`initial`), and pg_create_logical_replication_slot
 * (`no_data`).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, slotStreaming, uniqueName } from '../harness/context.ts';
import { eventually, spawnWorker, writeConfig } from './support.ts';

const WAITS = 'creating the slot waits for transactions running on the server';

describe('a start whose slot creation waits for a transaction elsewhere', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  for (const mode of ['initial', 'no_data'] as const) {
    it(`snapshot mode ${mode}: names the session it waits for, then streams once it commits`, async () => {
      const other = await freshDatabase('slot_wait_other');
      const holder = new pg.Client({ connectionString: other.databaseUrl, application_name: 'forgotten-session' });
      await holder.connect();
      cleanup.push(() => holder.end());
      await holder.query('CREATE TABLE held (x int)');
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await holder.query('BEGIN');
      await holder.query('INSERT INTO held VALUES (1)');

      const db = await freshDatabase('slot_wait');
      await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, v text)');
      await db.sql("INSERT INTO public.items VALUES (1, 'before the start')");
      const slot = uniqueName('wait_slot');
      const config = await writeConfig({
        db, slot, publication: uniqueName('wait_pub'), topicPrefix: uniqueName('wait'), tables: ['public.items'], mainExtra: `snapshot: { mode: ${mode} }`,
      });
      const worker = spawnWorker(config);
      cleanup.push(async () => worker.child.kill('SIGKILL'));

      await eventually(() => worker.output().includes(WAITS) || worker.child.exitCode !== null, 60_000, 'the warning about the waiting slot');
      const warning = JSON.parse(worker.output().split('\n').find((line) => line.includes(WAITS))!);
      expect(warning).toMatchObject({ level: 40, slot, hint: expect.stringMatching(/commit or roll back.*pg_terminate_backend/) });
      expect(warning.waitingSeconds).toBeGreaterThanOrEqual(10);
      expect(warning.transactions).toContainEqual(expect.objectContaining({
        pid: holderPid, database: other.database, application: 'forgotten-session', state: 'idle in transaction', query: 'INSERT INTO held VALUES (1)',
      }));
      expect(await slotStreaming(db, slot), 'not streaming while the slot waits').toBe(false);

      await holder.query('COMMIT');
      await eventually(() => slotStreaming(db, slot), 60_000, 'the slot made and streamed');
      await db.sql("INSERT INTO public.items VALUES (2, 'after the start')");
      const output = join(dirname(config), 'console.jsonl');
      const ops = async (): Promise<Array<[number, string]>> =>
        (await readFile(output, 'utf8').catch(() => '')).split('\n').filter(Boolean)
          .map((line) => JSON.parse(line).value).map((v) => v.payload ?? v).map((p: { op: string; after: { id: number } }) => [p.after.id, p.op]);
      // initial: the row before the start is read from the slot's snapshot; no_data leaves it out.
      const expected: Array<[number, string]> = mode === 'initial' ? [[1, 'r'], [2, 'c']] : [[2, 'c']];
      await eventually(async () => (await ops()).length >= expected.length, 30_000, 'the changes in the console sink');
      expect(await ops()).toEqual(expected);

      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toBe(0);
    }, 180_000);
  }
});
