/**
 * The SQL for catalog facts that the end-to-end test (test/e2e/explain-privileges.test.ts)
 * cannot produce on a vanilla server: RDS's rds_replication role, wal_level
 * replica, an existing role without REPLICATION, a superuser, FOR ALL TABLES,
 * a publication that lacks tables, a slot the config will not create.
 */
import { describe, expect, it } from 'vitest';
import type { PrivilegeFacts } from '../source/privilege-facts.ts';
import { privilegeSql } from './explain-privileges.ts';

const t = (schema: string, table: string) => ({ schema, table });

const base: PrivilegeFacts = {
  database: 'app',
  walLevel: 'logical',
  role: null,
  roleName: 'slotline',
  rds: false,
  tables: [t('public', 'orders')],
  leaves: [t('public', 'orders')],
  noIdentity: [],
  publication: { name: 'slotline', all: false, exists: false, missing: [] },
  stateTable: { name: t('public', 'slotline_snapshots'), exists: false, schemaExists: true },
  slot: { name: 'slotline', create: true, exists: false },
};

/** The statements only, without comments. */
const statements = (facts: Partial<PrivilegeFacts>): string[] =>
  privilegeSql({ ...base, ...facts }, 'db:5432').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));

describe('privilegeSql', () => {
  it('a new role on a self-managed server', () => {
    expect(statements({})).toEqual([
      'CREATE ROLE slotline LOGIN REPLICATION;',
      'GRANT CONNECT ON DATABASE app TO slotline;',
      'GRANT USAGE ON SCHEMA public TO slotline;',
      'GRANT SELECT ON public.orders TO slotline;',
      'GRANT CREATE ON SCHEMA public TO slotline; -- slotline creates the table at its first snapshot',
      'CREATE PUBLICATION slotline FOR TABLE public.orders;',
    ]);
  });

  it('RDS/Aurora: rds_replication instead of the attribute, the parameter group instead of ALTER SYSTEM', () => {
    const sql = privilegeSql({ ...base, rds: true, walLevel: 'replica' }, 'db:5432');
    expect(sql).toContain('-- RDS/Aurora: set rds.logical_replication = 1 in the DB parameter group, then reboot the instance.');
    expect(sql).not.toContain('ALTER SYSTEM');
    expect(statements({ rds: true }).slice(0, 2)).toEqual(['CREATE ROLE slotline LOGIN;', 'GRANT rds_replication TO slotline;']);
  });

  it('wal_level replica on a self-managed server', () => {
    expect(statements({ walLevel: 'replica' })[0]).toBe('ALTER SYSTEM SET wal_level = logical;');
  });

  it('an existing role: only the attributes it lacks', () => {
    const role = { name: 'slotline', canLogin: true, replication: false, superuser: false, rdsReplication: false };
    expect(statements({ role }).slice(0, 1)).toEqual(['ALTER ROLE slotline REPLICATION;']);
    expect(statements({ role: { ...role, replication: true } })[0]).toBe('GRANT CONNECT ON DATABASE app TO slotline;');
    expect(statements({ role: { ...role, canLogin: false }, rds: true }).slice(0, 2)).toEqual(['ALTER ROLE slotline LOGIN;', 'GRANT rds_replication TO slotline;']);
  });

  it('a superuser needs no grants', () => {
    const role = { name: 'slotline', canLogin: true, replication: false, superuser: true, rdsReplication: false };
    expect(statements({ role })).toEqual(['CREATE PUBLICATION slotline FOR TABLE public.orders;']);
  });

  it('FOR ALL TABLES: every schema\'s tables, and a publication only a superuser may create', () => {
    const tables = [t('public', 'a'), t('Sales', 'b')];
    expect(statements({ tables, leaves: tables, publication: { ...base.publication, all: true } })).toEqual([
      'CREATE ROLE slotline LOGIN REPLICATION;',
      'GRANT CONNECT ON DATABASE app TO slotline;',
      'GRANT USAGE ON SCHEMA public, "Sales" TO slotline;',
      'GRANT SELECT ON ALL TABLES IN SCHEMA public TO slotline;',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "Sales" TO slotline;',
      'GRANT CREATE ON SCHEMA public TO slotline; -- slotline creates the table at its first snapshot',
      'CREATE PUBLICATION slotline FOR ALL TABLES;',
    ]);
  });

  it('partitions are read and need a replica identity of their own; an existing publication gets only what it lacks', () => {
    const sql = statements({
      tables: [t('public', 'events')],
      leaves: [t('public', 'events_2025'), t('public', 'events_2026')],
      noIdentity: [t('public', 'events_2026')],
      publication: { name: 'slotline', all: false, exists: true, missing: [t('public', 'events')] },
    });
    expect(sql).toContain('GRANT SELECT ON public.events, public.events_2025, public.events_2026 TO slotline;');
    expect(sql).toContain('ALTER PUBLICATION slotline ADD TABLE public.events;');
    expect(sql).toContain('ALTER TABLE public.events_2026 REPLICA IDENTITY FULL;');
  });

  it('a state table in a schema that does not exist, one that exists, and a slot the config will not create', () => {
    expect(statements({ stateTable: { name: t('cdc', 'state'), exists: false, schemaExists: false } })).toContain('CREATE SCHEMA cdc AUTHORIZATION slotline;');
    expect(statements({ stateTable: { name: t('cdc', 'state'), exists: true, schemaExists: true } })).toContain('GRANT SELECT, INSERT, UPDATE ON cdc.state TO slotline;');
    expect(statements({ slot: { name: 'slotline', create: false, exists: false } }).at(-1)).toBe("SELECT pg_create_logical_replication_slot('slotline', 'pgoutput');");
    expect(statements({ slot: { name: 'slotline', create: false, exists: true } }).join('\n')).not.toContain('pg_create_logical_replication_slot');
    expect(statements({ slot: { name: 'slotline', create: false, failover: true, exists: false } }).at(-1)).toBe(
      "SELECT pg_create_logical_replication_slot('slotline', 'pgoutput', false, false, true);",
    );
  });
});
