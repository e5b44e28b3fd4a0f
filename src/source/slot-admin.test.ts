/**
 * Slot and publication management against real servers: the oldest and newest
 * majors we support. Idempotence (create twice = no-op), nothing ever dropped,
 * and the OperatorError texts for unusable slots and publications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type PgServer } from '../../test/harness/postgres.ts';
import { eventually } from '../../test/e2e/support.ts';
import { OperatorError } from '../errors.ts';
import { createSlotAdmin, parseTableName, formatTableName, streamStartError, type SlotAdmin } from './slot-admin.ts';

describe('parseTableName / formatTableName', () => {
  it.each([
    { text: 'public.orders', schema: 'public', table: 'orders', formatted: 'public.orders' },
    { text: 'Sales.Orders', schema: 'Sales', table: 'Orders', formatted: '"Sales"."Orders"' },
    { text: '"my.schema"."a ""b"""', schema: 'my.schema', table: 'a "b"', formatted: '"my.schema"."a ""b"""' },
    { text: 'public."Café ☕"', schema: 'public', table: 'Café ☕', formatted: 'public."Café ☕"' },
  ])('$text', ({ text, schema, table, formatted }) => {
    expect(parseTableName(text)).toEqual({ schema, table });
    expect(formatTableName({ schema, table })).toBe(formatted);
  });

  it.each(['orders', 'a.b.c', 'public.', '.orders', '"unterminated.orders', '"a"b.c', ''])('rejects %j', (text) => {
    expect(() => parseTableName(text)).toThrow(OperatorError);
    expect(() => parseTableName(text)).toThrow(`"${text}" is not a schema-qualified table name`);
  });
});

describe('streamStartError', () => {
  const pgError = (code: string, message: string, detail?: string) => Object.assign(new Error(message), { code, detail });

  it.each([
    ['max_slot_wal_keep_size (PG 13+)', 'can no longer get changes from replication slot "main"', 'This slot has been invalidated because it exceeded the maximum reserved size.', ' (This slot has been invalidated because it exceeded the maximum reserved size)'],
    ['a recovery conflict on a standby (PG 16+)', 'cannot read from logical replication slot "main"', 'This slot has been invalidated because it was conflicting with recovery.', ' (This slot has been invalidated because it was conflicting with recovery)'],
    ['no detail', 'can no longer get changes from replication slot "main"', undefined, ''],
  ])('an invalidated slot (%s) is an operator error a restart may fix, naming the slot', (_, message, detail, why) => {
    const err = streamStartError('configured', pgError('55000', message, detail)) as OperatorError;
    expect(err).toBeInstanceOf(OperatorError);
    expect(err.permanent).toBe(false);
    expect(err.message).toBe(`replication slot "main" was invalidated while streaming${why}: changes after its confirmed position are gone`);
    expect(err.hint).toMatch(/^with snapshot\.mode when_needed the next start recreates it .* pg_drop_replication_slot\('main'\)/);
  });

  it.each([
    ['another 55000', pgError('55000', 'logical decoding requires wal_level >= logical')],
    ['a slot in use', pgError('55006', 'replication slot "main" is active for PID 42')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
  ])('leaves anything else as it is (%s)', (_, err) => {
    expect(streamStartError('main', err)).toBe(err);
  });
});

describe.each([14, 18])('slot admin on PostgreSQL %i', (major) => {
  let server: PgServer;
  let client: pg.Client;
  let admin: SlotAdmin;
  const db = 'slot_admin_test';
  const sql = (text: string, params: unknown[] = []) => server.query(text, params, db);
  const slotCount = async () => (await sql('SELECT count(*)::int AS n FROM pg_replication_slots'))[0].n as number;
  const publishedTables = async (pub: string) =>
    (await sql(`SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, [pub])).map((r) => r.t);

  beforeAll(async () => {
    server = await startPostgres({ major });
    await server.createDatabase(db);
    await server.createDatabase('elsewhere');
    for (const t of ['a', 'b', 'c']) await sql(`CREATE TABLE public.${t} (id integer PRIMARY KEY)`);
    await sql('CREATE TABLE public.measurements (id integer, k integer) PARTITION BY RANGE (k)');
    await sql('CREATE TABLE public.measurements_1 PARTITION OF public.measurements FOR VALUES FROM (0) TO (10)');
    client = new pg.Client({ connectionString: server.url(db) });
    await client.connect();
    admin = createSlotAdmin(client);
  });

  afterAll(async () => {
    await client?.end();
    await server?.stop();
  });

  describe('ensurePublication', () => {
    it('creates a publication for the configured tables, then is a no-op', async () => {
      const spec = { name: 'pub_ab', create: true, tables: ['public.a', 'public.b'] };
      expect(await admin.ensurePublication(spec)).toEqual({ created: true, added: [], warnings: [] });
      expect(await admin.ensurePublication(spec)).toEqual({ created: false, added: [], warnings: [] });
      expect(await publishedTables('pub_ab')).toEqual(['public.a', 'public.b']);
    });

    it('adds configured tables an existing publication lacks, and removes none', async () => {
      await sql('CREATE PUBLICATION pub_grow FOR TABLE public.a, public.c');
      const result = await admin.ensurePublication({ name: 'pub_grow', create: true, tables: ['public.a', 'public.b'] });
      expect(result.created).toBe(false);
      expect(result.added).toEqual(['public.b']);
      expect(result.warnings).toEqual([
        'publication "pub_grow" also publishes public.c, which the config does not list: slotline decodes and ignores their changes; slotline never removes tables from a publication',
      ]);
      expect(await publishedTables('pub_grow')).toEqual(['public.a', 'public.b', 'public.c']);
    });

    it('with create off, names the tables a publication lacks and the statement that adds them', async () => {
      await sql('CREATE PUBLICATION pub_fixed FOR TABLE public.a');
      const err = await admin.ensurePublication({ name: 'pub_fixed', create: false, tables: ['public.a', 'public.b', 'public.c'] }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.message).toBe('publication "pub_fixed" does not include configured tables public.b, public.c');
      expect(err.hint).toBe('ALTER PUBLICATION pub_fixed ADD TABLE public.b, public.c; or allow slotline to manage the publication');
      expect(await publishedTables('pub_fixed')).toEqual(['public.a']);
    });

    it('with create off, reports a missing publication', async () => {
      const err = await admin.ensurePublication({ name: 'pub_none', create: false, tables: ['public.a'] }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.message).toBe('publication "pub_none" does not exist in database "slot_admin_test" and publication creation is off');
      expect(err.hint).toBe('create it with CREATE PUBLICATION pub_none FOR TABLE public.a; or allow slotline to create it');
    });

    it('creates FOR ALL TABLES once', async () => {
      expect(await admin.ensurePublication({ name: 'pub_all', create: true, all: true })).toEqual({ created: true, added: [], warnings: [] });
      expect(await admin.ensurePublication({ name: 'pub_all', create: true, all: true })).toEqual({ created: false, added: [], warnings: [] });
      expect((await admin.readPublication('pub_all'))?.allTables).toBe(true);
    });

    it('warns when all tables are configured but the publication lists tables', async () => {
      const result = await admin.ensurePublication({ name: 'pub_ab', create: true, all: true });
      expect(result.warnings).toEqual([expect.stringContaining('publication "pub_ab" is not FOR ALL TABLES although all tables are configured')]);
    });

    it('warns about operations the publication does not publish', async () => {
      await sql(`CREATE PUBLICATION pub_inserts FOR TABLE public.a WITH (publish = 'insert')`);
      const result = await admin.ensurePublication({ name: 'pub_inserts', create: true, tables: ['public.a'] });
      expect(result.warnings).toEqual([
        `publication "pub_inserts" does not publish update, delete, truncate: those changes never reach slotline; fix: ALTER PUBLICATION pub_inserts SET (publish = 'insert, update, delete, truncate')`,
      ]);
    });

    it('counts a partitioned table as published through its partitions', async () => {
      await sql('CREATE PUBLICATION pub_parts FOR TABLE public.measurements');
      expect(await admin.ensurePublication({ name: 'pub_parts', create: false, tables: ['public.measurements'] })).toEqual({ created: false, added: [], warnings: [] });
    });

    it('reports a configured table that does not exist', async () => {
      const err = await admin.ensurePublication({ name: 'pub_ghost', create: true, tables: ['public.ghost'] }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.message).toBe('cannot create publication "pub_ghost": relation "public.ghost" does not exist');
    });
  });

  describe('ensureSlot and readSlot', () => {
    it('creates a pgoutput slot, then is a no-op that reports where it resumes', async () => {
      const before = await slotCount();
      const first = await admin.ensureSlot({ name: 'main_slot', create: true });
      expect(first.created).toBe(true);
      expect(typeof first.consistentPoint).toBe('bigint');
      const again = await admin.ensureSlot({ name: 'main_slot', create: true });
      expect(again).toEqual({ created: false, confirmedFlushLsn: first.consistentPoint });
      expect(await slotCount()).toBe(before + 1);
      expect(await admin.readSlot('main_slot')).toEqual({
        name: 'main_slot',
        slotType: 'logical',
        plugin: 'pgoutput',
        database: db,
        active: false,
        activePid: null,
        confirmedFlushLsn: first.consistentPoint,
        restartLsn: expect.any(BigInt),
        walStatus: 'reserved',
        invalidationReason: null,
        // pg_replication_slots has failover and synced from 17 on.
        failover: major >= 17 ? false : null,
        synced: major >= 17 ? false : null,
      });
    });

    it.runIf(major >= 17)('creates a failover slot when asked', async () => {
      const created = await admin.ensureSlot({ name: 'failover_slot', create: true, failover: true });
      expect(created.created).toBe(true);
      expect(await admin.readSlot('failover_slot')).toMatchObject({ failover: true, synced: false });
      await sql(`SELECT pg_drop_replication_slot('failover_slot')`); // the later tests count the server's slots
    });

    it('readSlot returns null for a missing slot', async () => {
      expect(await admin.readSlot('nope')).toBeNull();
    });

    it('concurrent creation creates the slot once', async () => {
      const other = new pg.Client({ connectionString: server.url(db) });
      await other.connect();
      try {
        const results = await Promise.all([admin, createSlotAdmin(other)].map((a) => a.ensureSlot({ name: 'race_slot', create: true })));
        expect(results.map((r) => r.created).sort()).toEqual([false, true]);
      } finally {
        await other.end();
      }
    });

    it('a slot still being created by another session is awaited, not judged', async () => {
      // Creating a slot waits for running transactions: one held open keeps the other
      // session's slot visible but unfinished (no confirmed position yet).
      const [holder, creator, joiner] = [0, 1, 2].map(() => new pg.Client({ connectionString: server.url(db) }));
      await Promise.all([holder, creator, joiner].map((c) => c.connect()));
      try {
        const joinerPid = (await joiner.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
        await holder.query('BEGIN');
        await holder.query('SELECT txid_current()');
        const creating = createSlotAdmin(creator).ensureSlot({ name: 'pending_slot', create: true });
        await eventually(async () => (await sql(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'pending_slot'`)).length > 0);
        const joining = createSlotAdmin(joiner).ensureSlot({ name: 'pending_slot', create: true });
        // Let the joiner see the unfinished slot before the creation can end.
        await eventually(async () => (await sql(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_replication_slots%'`, [joinerPid])).length > 0);
        await holder.query('COMMIT');
        const [created, joined] = await Promise.all([creating, joining]);
        expect(created.created).toBe(true);
        expect(joined).toEqual({ created: false, confirmedFlushLsn: created.consistentPoint });
      } finally {
        await Promise.all([holder, creator, joiner].map((c) => c.end()));
        await sql(`SELECT pg_drop_replication_slot('pending_slot')`); // the later tests count the server's slots
      }
    });

    it.each([
      {
        name: 'missing with create off',
        setup: null,
        create: false,
        slot: 'absent_slot',
        message: 'replication slot "absent_slot" does not exist in database "slot_admin_test" and slot creation is off',
        hint: `create it with SELECT pg_create_logical_replication_slot('absent_slot', 'pgoutput'), or allow slotline to create it`,
      },
      {
        name: 'another output plugin',
        setup: `SELECT pg_create_logical_replication_slot('td_slot', 'test_decoding')`,
        create: true,
        slot: 'td_slot',
        message: 'replication slot "td_slot" uses the output plugin "test_decoding"; slotline needs "pgoutput"',
        hint: `choose another slot name, or drop it if nothing needs it: SELECT pg_drop_replication_slot('td_slot')`,
      },
      {
        name: 'a physical slot',
        setup: `SELECT pg_create_physical_replication_slot('phys_slot')`,
        create: true,
        slot: 'phys_slot',
        message: 'replication slot "phys_slot" is a physical slot; slotline needs a logical slot using pgoutput',
        hint: `choose another slot name, or drop it if nothing needs it: SELECT pg_drop_replication_slot('phys_slot')`,
      },
      {
        name: 'another database',
        setup: 'elsewhere',
        create: true,
        slot: 'other_db_slot',
        message: 'replication slot "other_db_slot" belongs to database "elsewhere", not "slot_admin_test"',
        hint: 'connect to database "elsewhere", or choose another slot name for "slot_admin_test" (slot names are per server)',
      },
      {
        name: 'an invalid name',
        setup: null,
        create: true,
        slot: 'Bad-Name',
        message: 'replication slot name "Bad-Name" is not valid',
        hint: 'use 1–63 lower-case letters, digits and underscores, like slotline_main',
      },
    ])('refuses a slot: $name, and drops nothing', async ({ setup, create, slot, message, hint }) => {
      if (setup === 'elsewhere') await server.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot], 'elsewhere');
      else if (setup) await sql(setup);
      const before = await slotCount();
      const err = await admin.ensureSlot({ name: slot, create }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.message).toBe(message);
      expect(err.hint).toBe(hint);
      expect(await slotCount()).toBe(before);
    });

    it('reports exhausted max_replication_slots with the inactive slots to consider', async () => {
      const [{ free, max }] = await sql(`SELECT current_setting('max_replication_slots')::int - count(*)::int AS free, current_setting('max_replication_slots')::int AS max FROM pg_replication_slots`);
      await sql(`SELECT pg_create_physical_replication_slot('fill_' || i) FROM generate_series(1, $1::int) i`, [free]);
      try {
        const err = await admin.ensureSlot({ name: 'one_too_many', create: true }).catch((e) => e);
        expect(err).toBeInstanceOf(OperatorError);
        expect(err.message).toBe(`cannot create replication slot "one_too_many": all ${max} slots allowed by max_replication_slots are in use`);
        expect(err.hint).toBe('drop an unused slot (inactive: fill_1, fill_10, fill_11, fill_12, fill_13) or raise max_replication_slots and restart PostgreSQL');
      } finally {
        await sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'fill\\_%'`);
      }
    });

    // Last: lowering max_slot_wal_keep_size invalidates every idle slot on the server.
    it('refuses an invalidated slot, naming what was lost', async () => {
      await admin.ensureSlot({ name: 'doomed_slot', create: true });
      await sql(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
      await sql('SELECT pg_reload_conf()');
      for (let i = 0; i < 3; i++) {
        await sql('CREATE TABLE IF NOT EXISTS junk AS SELECT 1 AS g');
        await sql('INSERT INTO junk SELECT generate_series(1, 50000)');
        await sql('SELECT pg_switch_wal()');
      }
      await sql('CHECKPOINT');
      const slot = await admin.readSlot('doomed_slot');
      expect(slot?.walStatus).toBe('lost');
      const err = await admin.ensureSlot({ name: 'doomed_slot', create: true }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      const reason = major >= 17 ? ', reason wal_removed' : '';
      expect(err.message).toBe(`replication slot "doomed_slot" is invalidated (wal_status lost${reason}): changes after its confirmed position are gone`);
      expect(await admin.readSlot('doomed_slot')).not.toBeNull();
    });
  });
});
