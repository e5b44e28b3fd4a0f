/**
 * slotline pointed at PgBouncer instead of PostgreSQL: a real PgBouncer
 * (Debian's, 1.18) in front of the shared server, in transaction and in
 * session mode. Ordinary queries pass through it; the replication connection
 * cannot. The start must stop at the preflight with one line naming the
 * pooler and a hint to connect directly, and leave no slot behind.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { answeredByProxy } from '../../src/source/connect-errors.ts';
import { freshDatabase, pgServer, uniqueName } from '../harness/context.ts';
import { startPgBouncer, type PgBouncer, type PoolMode } from '../harness/pgbouncer.ts';
import { spawnWorker, writeConfig } from './support.ts';

const bouncers: PgBouncer[] = [];
afterAll(async () => {
  await Promise.all(bouncers.map((b) => b.close()));
});

async function backendPidSign(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return answeredByProxy(client, rows[0].pid);
  } finally {
    await client.end();
  }
}

describe.each<PoolMode>(['transaction', 'session'])('through PgBouncer in %s mode', (poolMode) => {
  it('the start stops with one line naming PgBouncer and a hint to connect directly; no slot is created', async () => {
    const db = await freshDatabase(`pooler_${poolMode}`);
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, name text)');
    const bouncer = await startPgBouncer({ server: pgServer(), poolMode });
    bouncers.push(bouncer);
    const slot = uniqueName('pooler');
    const config = await writeConfig({
      db: { ...db, databaseUrl: bouncer.url(db.database) },
      slot,
      publication: uniqueName('pooler_pub'),
      topicPrefix: uniqueName('pooler'),
      tables: ['public.items'],
    });

    const worker = spawnWorker(config);
    expect(await worker.exited, worker.output()).toBe(1);
    const lines = worker.output().trim().split('\n');
    expect(lines.length, worker.output()).toBeLessThanOrEqual(3);
    const [message, hint] = lines.slice(-2);
    expect(message).toBe(
      `slotline run: PgBouncer at 127.0.0.1:${bouncer.port} refused the replication connection (unsupported startup parameter: replication): ` +
        'logical replication cannot go through a connection pooler',
    );
    expect(hint).toMatch(/^ {2}hint: connect slotline to PostgreSQL itself: its own host and port .*direct, non-pooled connection string$/);

    const slots = await db.sql('SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(slots[0].n).toBe(0);
  });

  it('an ordinary connection through it shows the sign: the backend PID is not the one the connection was given', async () => {
    const bouncer = bouncers.find((b) => b.poolMode === poolMode) ?? (await startPgBouncer({ server: pgServer(), poolMode }));
    if (!bouncers.includes(bouncer)) bouncers.push(bouncer);
    expect(await backendPidSign(bouncer.url('postgres'))).toBe(true);
    expect(await backendPidSign(pgServer().url('postgres'))).toBe(false);
  });
});
