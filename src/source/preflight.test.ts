/**
 * Every preflight error and warning, each produced for real: a second server with
 * wal_level=replica, roles without privileges, a wrong password, a missing
 * database, a port nobody listens on, a slot held by a live replication
 * connection, exhausted slots, missing publications and tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogicalReplicationService } from 'pg-logical-replication';
import type pg from 'pg';
import { startPostgres, type PgServer } from '../../test/harness/postgres.ts';
import { freePort } from '../../test/harness/ports.ts';
import { OperatorError } from '../errors.ts';
import { PgoutputPlugin } from './pgoutput-plugin.ts';
import { runPreflight, type PreflightInput } from './preflight.ts';

const DB = 'preflight_test';
let server: PgServer;
let replicaOnly: PgServer;

const sql = (text: string, params: unknown[] = []) => server.query(text, params, DB);
const conn = (over: Partial<pg.ClientConfig> = {}): pg.ClientConfig => ({
  host: server.host, port: server.port, user: server.user, password: server.password, database: DB, ...over,
});
const input = (over: Partial<PreflightInput> = {}): PreflightInput => ({
  connection: conn(),
  slot: { name: 'pf_slot', create: true },
  publication: { name: 'pf_pub', create: true, tables: ['public.orders'] },
  ...over,
});

async function operatorError(promise: Promise<unknown>): Promise<OperatorError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OperatorError);
  return err as OperatorError;
}

beforeAll(async () => {
  [server, replicaOnly] = await Promise.all([
    startPostgres({ major: 17 }),
    startPostgres({ major: 17, postgresFlags: ['-c', 'wal_level=replica'] }),
  ]);
  await server.createDatabase(DB);
  await server.createDatabase('elsewhere');
  await sql('CREATE TABLE public.orders (id integer PRIMARY KEY, total numeric)');
  await sql('CREATE TABLE public.lines (order_id integer, sku text)'); // no primary key
  await sql('CREATE TABLE public.audit (msg text)');
  await sql('ALTER TABLE public.audit REPLICA IDENTITY NOTHING');
  await sql('CREATE TABLE public.codes (code text NOT NULL)');
  await sql('CREATE UNIQUE INDEX codes_code ON public.codes (code)');
  await sql('ALTER TABLE public.codes REPLICA IDENTITY USING INDEX codes_code');
  await sql('DROP INDEX public.codes_code');
  await sql('CREATE VIEW public.order_totals AS SELECT id, total FROM public.orders');
  await sql(`CREATE ROLE pf_plain LOGIN PASSWORD 'plain-pw'`);
  await sql(`CREATE ROLE pf_repl LOGIN REPLICATION PASSWORD 'repl-pw'`);
});

afterAll(async () => {
  await Promise.all([server?.stop(), replicaOnly?.stop()]);
});

describe('runPreflight passes', () => {
  it('on a ready server, reporting what it found', async () => {
    const result = await runPreflight(input());
    expect(result).toEqual({ warnings: [], serverVersion: server.version, serverMajor: 17, database: DB, slot: null, publication: null, slotHolder: null });
  });
});

describe('runPreflight connection errors', () => {
  it('wrong password', async () => {
    const err = await operatorError(runPreflight(input({ connection: conn({ password: 'wrong' }) })));
    expect(err.message).toBe(`authentication failed for user "postgres" at 127.0.0.1:${server.port}: password authentication failed for user "postgres"`);
    expect(err.hint).toBe('check the password for user "postgres"');
  });

  it('missing database', async () => {
    const err = await operatorError(runPreflight(input({ connection: conn({ database: 'no_such_db' }) })));
    expect(err.message).toBe(`database "no_such_db" does not exist at 127.0.0.1:${server.port}`);
    expect(err.hint).toBe('create it (CREATE DATABASE no_such_db) or fix the database name in the connection settings');
  });

  it('nothing listening', async () => {
    const port = await freePort();
    const err = await operatorError(runPreflight(input({ connection: conn({ port }) })));
    expect(err.message).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused`);
    expect(err.hint).toBe(`check that PostgreSQL is running and listening on 127.0.0.1:${port} (host, port, listen_addresses, firewall)`);
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

describe('runPreflight server and role errors', () => {
  it('wal_level below logical', async () => {
    const connection = { host: replicaOnly.host, port: replicaOnly.port, user: replicaOnly.user, password: replicaOnly.password, database: 'postgres' };
    const err = await operatorError(runPreflight(input({ connection })));
    expect(err.message).toBe(`wal_level is "replica" on 127.0.0.1:${replicaOnly.port}; logical decoding needs wal_level = logical`);
    expect(err.hint).toBe(
      'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (RDS/Aurora: rds.logical_replication = 1; Cloud SQL: cloudsql.logical_decoding = on)',
    );
  });

  it('a role without REPLICATION', async () => {
    const err = await operatorError(runPreflight(input({ connection: conn({ user: 'pf_plain', password: 'plain-pw' }) })));
    expect(err.message).toBe('role "pf_plain" may not stream changes: it has neither the REPLICATION attribute nor superuser');
    expect(err.hint).toBe('ALTER ROLE pf_plain REPLICATION; (RDS/Aurora: GRANT rds_replication TO pf_plain)');
  });

  it('FOR ALL TABLES to be created by a role that is not superuser', async () => {
    const err = await operatorError(
      runPreflight(input({ connection: conn({ user: 'pf_repl', password: 'repl-pw' }), publication: { name: 'pf_all', create: true, all: true } })),
    );
    expect(err.message).toBe('cannot create publication "pf_all" FOR ALL TABLES: role "pf_repl" is not a superuser');
    expect(err.hint).toBe('have a superuser run CREATE PUBLICATION pf_all FOR ALL TABLES; or list the tables to publish');
  });
});

describe('runPreflight: the snapshot state table', () => {
  // PostgreSQL 15+ no longer lets every role create in schema public: the README's role meets exactly this.
  const asReplicator = (stateTable: { schema: string; table: string }) =>
    input({ connection: conn({ user: 'pf_repl', password: 'repl-pw' }), publication: { name: 'pf_repl_pub', create: false, all: true }, stateTable });

  beforeAll(async () => {
    await sql('CREATE PUBLICATION pf_repl_pub FOR ALL TABLES');
    await sql('CREATE TABLE public.pf_state_locked (x int PRIMARY KEY)');
    await sql('CREATE SCHEMA pf_own AUTHORIZATION pf_repl');
  });

  it('no CREATE on its schema: named with the GRANT that fixes it', async () => {
    const err = await operatorError(runPreflight(asReplicator({ schema: 'public', table: 'slotline_snapshots' })));
    expect(err.message).toBe('role "pf_repl" may not create the snapshot state table public.slotline_snapshots: no CREATE privilege on schema public');
    expect(err.hint).toMatch(/^GRANT CREATE ON SCHEMA public TO pf_repl;/);
  });

  it('an existing state table the role may not write', async () => {
    const err = await operatorError(runPreflight(asReplicator({ schema: 'public', table: 'pf_state_locked' })));
    expect(err.message).toBe('role "pf_repl" may not write the snapshot state table public.pf_state_locked');
    expect(err.hint).toMatch(/^GRANT SELECT, INSERT, UPDATE ON public\.pf_state_locked TO pf_repl;/);
  });

  it('a schema that does not exist', async () => {
    const err = await operatorError(runPreflight(asReplicator({ schema: 'nowhere', table: 'snapshots' })));
    expect(err.message).toBe('schema "nowhere" of the snapshot state table nowhere.snapshots does not exist');
  });

  it('a schema the role owns is fine', async () => {
    await expect(runPreflight(asReplicator({ schema: 'pf_own', table: 'snapshots' }))).resolves.toMatchObject({ serverMajor: 17 });
  });
});

describe('runPreflight slot errors', () => {
  it('a slot held by another live replication connection names its PID', async () => {
    await sql(`SELECT pg_create_logical_replication_slot('held_slot', 'pgoutput')`);
    await sql('CREATE PUBLICATION held_pub FOR TABLE public.orders');
    const other = new LogicalReplicationService(conn({ application_name: 'other-worker' }), { acknowledge: { auto: false, timeoutSeconds: 0 } });
    const started = new Promise<void>((resolve) => other.once('start', () => resolve()));
    const streaming = other.subscribe(new PgoutputPlugin({ publication: 'held_pub', serverMajor: 17 }), 'held_slot', '0/0').catch(() => undefined);
    try {
      await started;
      const [{ pid }] = await sql(`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = 'held_slot' AND active`);
      const err = await operatorError(runPreflight(input({ slot: { name: 'held_slot', create: false } })));
      expect(err.message).toBe(`replication slot "held_slot" is in use by another process (PID ${pid}, application_name "other-worker", client 127.0.0.1)`);
      expect(err.hint).toBe(
        `stop the other consumer, or end its session with SELECT pg_terminate_backend(${pid}); two workers must not share a slot (to run this one as a hot standby: source.standby.enabled: true)`,
      );
      // A hot standby is told who holds it instead, and waits.
      const reported = await runPreflight(input({ slot: { name: 'held_slot', create: false }, slotInUse: 'report' }));
      expect(reported.slotHolder).toBe(`PID ${pid}, application_name "other-worker", client 127.0.0.1`);
    } finally {
      await other.stop();
      await streaming;
    }
  });

  it.each([
    {
      name: 'missing with create off',
      setup: async () => {},
      slot: { name: 'pf_absent', create: false },
      message: 'replication slot "pf_absent" does not exist in database "preflight_test" and slot creation is off',
    },
    {
      name: 'another output plugin',
      setup: () => sql(`SELECT pg_create_logical_replication_slot('pf_td', 'test_decoding')`),
      slot: { name: 'pf_td', create: true },
      message: 'replication slot "pf_td" uses the output plugin "test_decoding"; slotline needs "pgoutput"',
    },
    {
      name: 'another database',
      setup: () => server.query(`SELECT pg_create_logical_replication_slot('pf_elsewhere', 'pgoutput')`, [], 'elsewhere'),
      slot: { name: 'pf_elsewhere', create: true },
      message: 'replication slot "pf_elsewhere" belongs to database "elsewhere", not "preflight_test"',
    },
  ])('$name', async ({ setup, slot, message }) => {
    await setup();
    const err = await operatorError(runPreflight(input({ slot })));
    expect(err.message).toBe(message);
  });

  it('max_replication_slots exhausted when the slot must be created', async () => {
    const [{ free, max }] = await sql(`SELECT current_setting('max_replication_slots')::int - count(*)::int AS free, current_setting('max_replication_slots')::int AS max FROM pg_replication_slots`);
    await sql(`SELECT pg_create_physical_replication_slot('fill_' || i) FROM generate_series(1, $1::int) i`, [free]);
    try {
      const err = await operatorError(runPreflight(input({ slot: { name: 'pf_new', create: true } })));
      expect(err.message).toBe(`cannot create replication slot "pf_new": all ${max} slots allowed by max_replication_slots are in use`);
      expect(err.hint).toMatch(/^drop an unused slot \(inactive: fill_1, .*\) or raise max_replication_slots and restart PostgreSQL$/);
    } finally {
      await sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'fill\\_%'`);
    }
  });
});

describe('runPreflight publication and table errors', () => {
  it('publication missing with create off', async () => {
    const err = await operatorError(runPreflight(input({ publication: { name: 'pf_missing', create: false, tables: ['public.orders', 'public.lines'] } })));
    expect(err.message).toBe('publication "pf_missing" does not exist in database "preflight_test" and publication creation is off');
    expect(err.hint).toBe('create it with CREATE PUBLICATION pf_missing FOR TABLE public.orders, public.lines; or allow slotline to create it');
  });

  it('publication lacking a configured table with create off', async () => {
    await sql('CREATE PUBLICATION pf_partial FOR TABLE public.orders');
    const err = await operatorError(runPreflight(input({ publication: { name: 'pf_partial', create: false, tables: ['public.orders', 'public.lines'] } })));
    expect(err.message).toBe('publication "pf_partial" does not include configured table public.lines');
    expect(err.hint).toBe('ALTER PUBLICATION pf_partial ADD TABLE public.lines; or allow slotline to manage the publication');
  });

  it.each([
    { tables: ['public.orders', 'public.ghost'], message: 'table public.ghost does not exist in database "preflight_test"' },
    { tables: ['public.ghost', 'Public.Orders'], message: 'tables public.ghost, "Public"."Orders" do not exist in database "preflight_test"' },
    { tables: ['public.order_totals'], message: 'public.order_totals is a view: logical replication streams only tables' },
  ])('configured tables $tables', async ({ tables, message }) => {
    const err = await operatorError(runPreflight(input({ publication: { name: 'pf_pub', create: true, tables } })));
    expect(err.message).toBe(message);
  });
});

describe('runPreflight warnings', () => {
  const blocked = 'PostgreSQL rejects its UPDATEs and DELETEs while publication "pf_pub" publishes them, and no "before" image or delete key can be sent';
  const fix = (t: string) =>
    `fix: ALTER TABLE ${t} REPLICA IDENTITY FULL ("before" = the whole old row), or give it a primary key ("before" = the key columns on delete)`;

  it('for each routed table without a usable replica identity', async () => {
    const result = await runPreflight(input({ publication: { name: 'pf_pub', create: true, tables: ['public.orders', 'public.lines', 'public.audit', 'public.codes'] } }));
    expect(result.warnings).toEqual([
      `table public.lines has no primary key and REPLICA IDENTITY DEFAULT, so no replica identity: ${blocked}; ${fix('public.lines')}`,
      `table public.audit has REPLICA IDENTITY NOTHING: ${blocked}; ${fix('public.audit')}`,
      `table public.codes has REPLICA IDENTITY USING INDEX but that index is gone: ${blocked}; ${fix('public.codes')}`,
    ]);
  });

  it('only for the routed tables when they are given, with the softer consequence for an insert-only publication', async () => {
    await sql(`CREATE PUBLICATION pf_inserts FOR TABLE public.orders, public.lines, public.audit WITH (publish = 'insert')`);
    const result = await runPreflight(
      input({ publication: { name: 'pf_inserts', create: false, tables: ['public.orders', 'public.lines', 'public.audit'] }, tables: ['public.audit'] }),
    );
    expect(result.warnings).toEqual([
      `publication "pf_inserts" does not publish update, delete, truncate: those changes never reach slotline; fix: ALTER PUBLICATION pf_inserts SET (publish = 'insert, update, delete, truncate')`,
      `table public.audit has REPLICA IDENTITY NOTHING: updates and deletes carry no "before" image and deletes no key; ${fix('public.audit')}`,
    ]);
  });

  it('for every published table of a FOR ALL TABLES publication when no tables are listed', async () => {
    await sql('CREATE PUBLICATION pf_everything FOR ALL TABLES');
    const result = await runPreflight(input({ publication: { name: 'pf_everything', create: false, all: true } }));
    const everything = 'PostgreSQL rejects its UPDATEs and DELETEs while publication "pf_everything" publishes them, and no "before" image or delete key can be sent';
    expect(result.warnings).toEqual([
      `table public.audit has REPLICA IDENTITY NOTHING: ${everything}; ${fix('public.audit')}`,
      `table public.codes has REPLICA IDENTITY USING INDEX but that index is gone: ${everything}; ${fix('public.codes')}`,
      `table public.lines has no primary key and REPLICA IDENTITY DEFAULT, so no replica identity: ${everything}; ${fix('public.lines')}`,
    ]);
  });

  it('for a routed table the publication will not carry', async () => {
    const result = await runPreflight(input({ publication: { name: 'pf_pub', create: true, tables: ['public.orders'] }, tables: ['public.orders', 'public.audit'] }));
    expect(result.warnings[0]).toBe(
      `publication "pf_pub" does not carry public.audit, which sinks route: no events will arrive for it; add it to the publication's tables`,
    );
  });

  it('when slotline will add tables to a publication it manages', async () => {
    await sql('CREATE PUBLICATION pf_grow FOR TABLE public.orders');
    const result = await runPreflight(input({ publication: { name: 'pf_grow', create: true, tables: ['public.orders', 'public.lines'] }, tables: ['public.orders'] }));
    expect(result.warnings).toEqual(['publication "pf_grow" lacks public.lines: slotline will add it']);
  });
});
