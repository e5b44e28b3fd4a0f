/**
 * `slotline validate --explain-privileges` prints SQL that is enough: on a
 * fresh database where the role does not exist yet, a superuser runs exactly
 * what it printed (plus the password it says to set), and slotline then starts
 * as that role, takes the initial snapshot, and streams inserts, updates and
 * deletes — of a table in another schema and of a table without a primary key
 * too — with heartbeats on. On every PostgreSQL major of the run (17 and 15 by
 * default).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, pgServers, uniqueName } from '../harness/context.ts';
import { eventually, runSlotline, spawnWorker, writeConfig, type WorkerProcess } from './support.ts';

const workers: WorkerProcess[] = [];
afterAll(() => {
  for (const w of workers) w.child.kill('SIGKILL');
});

interface Event { op: string; table: string; before: any; after: any }

async function events(file: string): Promise<Event[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const values = text.split('\n').filter(Boolean).map((line) => JSON.parse(line).value);
  return values.filter((v) => v !== null).map((value) => { // null: the tombstone after a delete
    const payload = value.payload ?? value;
    return { op: payload.op, table: `${payload.source.schema}.${payload.source.table}`, before: payload.before, after: payload.after };
  });
}

describe.each(pgServers().map((s) => s.major))('PostgreSQL %i', (major) => {
  it('the printed SQL, run by a superuser, lets the new role start, snapshot and stream', async () => {
    const db = await freshDatabase('explain', major);
    await db.sql(`
      CREATE TABLE public.products (id int PRIMARY KEY, name text);
      CREATE SCHEMA shop;
      CREATE TABLE shop.stock (sku text PRIMARY KEY, qty int);
      CREATE TABLE public.lines (order_id int, sku text, qty int);
      INSERT INTO public.products VALUES (1, 'one');
      INSERT INTO shop.stock VALUES ('a', 5);
      INSERT INTO public.lines VALUES (1, 'a', 2);
    `);
    const role = uniqueName('explain_role');
    const password = 'role pass/word';
    const roleUrl = new URL(db.databaseUrl);
    roleUrl.username = role;
    roleUrl.password = encodeURIComponent(password);
    const config = await writeConfig({
      db: { ...db, databaseUrl: roleUrl.toString() },
      slot: uniqueName('explain'),
      publication: uniqueName('explain_pub'),
      topicPrefix: uniqueName('explain'),
      tables: ['public.products', 'shop.stock', 'public.lines'],
      heartbeatIntervalMs: 500,
    });

    const explained = await runSlotline(['validate', '--config', config, '--explain-privileges', '--inspect-url', db.databaseUrl]);
    expect(explained.code, explained.stderr).toBe(0);
    const sql = explained.stdout;
    expect(sql).not.toContain(password);
    expect(sql).not.toContain(db.password);
    expect(sql).toContain(`CREATE ROLE ${role} LOGIN REPLICATION;`);
    expect(sql).toContain(`GRANT SELECT ON public.products, shop.stock, public.lines TO ${role};`);
    expect(sql).toContain(`GRANT USAGE ON SCHEMA public, shop TO ${role};`);
    expect(sql).toContain('ALTER TABLE public.lines REPLICA IDENTITY FULL;');
    expect(sql).not.toContain('ALTER TABLE public.products REPLICA IDENTITY');

    // What the DBA does: run the file as a superuser, then set the password it asks for.
    const admin = new pg.Client({ connectionString: db.databaseUrl });
    await admin.connect();
    try {
      await admin.query(sql);
      await admin.query(`ALTER ROLE ${role} PASSWORD ${pg.escapeLiteral(password)}`);
    } finally {
      await admin.end();
    }

    const worker = spawnWorker(config);
    workers.push(worker);
    const out = join(dirname(config), 'console.jsonl');
    await eventually(async () => (await events(out)).filter((e) => e.op === 'r').length === 3, 60_000, 'the three snapshot reads');
    await db.sql(`
      INSERT INTO shop.stock VALUES ('b', 1);
      UPDATE public.lines SET qty = 3 WHERE order_id = 1;
      DELETE FROM public.products WHERE id = 1;
    `);
    await eventually(async () => (await events(out)).length >= 6, 60_000, 'the three changes');
    const changes = (await events(out)).filter((e) => e.op !== 'r');
    expect(changes).toEqual([
      { op: 'c', table: 'shop.stock', before: null, after: { sku: 'b', qty: 1 } },
      { op: 'u', table: 'public.lines', before: { order_id: 1, sku: 'a', qty: 2 }, after: { order_id: 1, sku: 'a', qty: 3 } },
      { op: 'd', table: 'public.products', before: { id: 1, name: null }, after: null },
    ]);
    // Heartbeats run as the role too: one was sent (its connection's last query) and none failed.
    await eventually(async () => {
      const rows = await db.sql(`SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND query LIKE '%pg_logical_emit_message%'`, [role]);
      return rows.length > 0;
    }, 30_000, 'a heartbeat sent as the role');
    expect(worker.output()).not.toContain('heartbeat failed');
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);

    // Run again once applied, as the role itself: no role, publication or replica identity is left to do,
    // only the grants, which are printed every time (they are idempotent).
    const again = await runSlotline(['validate', '--config', config, '--explain-privileges']);
    expect(again.code, again.stderr).toBe(0);
    const statements = again.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));
    expect(statements).toEqual([
      `GRANT CONNECT ON DATABASE ${db.database} TO ${role};`,
      `GRANT USAGE ON SCHEMA public, shop TO ${role};`,
      `GRANT SELECT ON public.products, shop.stock, public.lines TO ${role};`,
      `GRANT SELECT, INSERT, UPDATE ON public.slotline_snapshots TO ${role};`,
    ]);
  });
});
