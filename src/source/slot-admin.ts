/**
 * The replication slot and the publication: read them, create them when the
 * config allows, check that they are usable. Everything here runs on a normal
 * (non-replication) connection; pg_create_logical_replication_slot() needs the
 * REPLICATION attribute but not a walsender.
 *
 * Decisions (DESIGN.md: "creates the slot and publication when asked to, never
 * silently drops them"):
 * - Nothing is ever dropped or removed: not a slot, not a publication, not a
 *   table from a publication.
 * - Call ensurePublication before ensureSlot. pgoutput looks the publication up
 *   in the catalog as of each decoded change; changes older than the publication
 *   fail to decode ("publication … does not exist") on servers before 18.
 * - An existing publication that lacks configured tables: with `create: true`
 *   (slotline manages the publication, like Debezium's
 *   publication.autocreate.mode=filtered) the missing tables are ADDed; with
 *   `create: false` that is an OperatorError naming the ALTER PUBLICATION to run.
 *   Tables the publication has beyond the config are left in place and reported
 *   as a warning (Debezium's SET TABLE would remove them; another consumer may
 *   rely on them, and the router ignores their events anyway).
 * - `all: true` against a publication that is not FOR ALL TABLES is a warning:
 *   it cannot be altered into one without a drop.
 */
import pg from 'pg';
import { parseLsn, type Lsn } from '../lsn.ts';
import { OperatorError } from '../errors.ts';
import { describeTables, displayIdent, formatTableName, parseTableName, quoteQualified, type Queryable, type TableName } from './pg-catalog.ts';

export { formatTableName, parseTableName, type Queryable, type TableName };

export interface SlotInfo {
  name: string;
  slotType: 'logical' | 'physical';
  /** Output plugin; null for a physical slot. */
  plugin: string | null;
  /** Database of a logical slot; null for a physical slot. */
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: Lsn | null;
  restartLsn: Lsn | null;
  /** reserved | extended | unreserved | lost (PG 13+); null on older servers. */
  walStatus: string | null;
  /** Why the slot was invalidated (PG 17+), e.g. wal_removed; null when valid or unknown. */
  invalidationReason: string | null;
  /** A failover slot, which standbys synchronize (PG 17+); null on older servers. */
  failover: boolean | null;
  /** On a standby: a copy synchronized from the primary; kept after a promotion (PG 17+); null on older servers. */
  synced: boolean | null;
}

export interface SlotSpec {
  name: string;
  /** Create the slot when it does not exist. */
  create: boolean;
  /** Create it as a failover slot (PostgreSQL 17+), which standbys with sync_replication_slots copy. */
  failover?: boolean;
}

export interface EnsureSlotResult {
  created: boolean;
  /** The LSN from which the new slot streams (only when created). */
  consistentPoint?: Lsn;
  /** Where an existing slot resumes (only when it already existed). */
  confirmedFlushLsn?: Lsn;
}

export interface PublicationSpec {
  name: string;
  /** Create the publication when missing, and add configured tables it lacks. */
  create: boolean;
  /** `schema.table` names to publish (quoted parts allowed: "My Schema"."Orders"). */
  tables?: string[];
  /** FOR ALL TABLES (needs superuser to create). Takes precedence over `tables`. */
  all?: boolean;
}

export interface PublicationInfo {
  name: string;
  allTables: boolean;
  publishes: { insert: boolean; update: boolean; delete: boolean; truncate: boolean };
  viaRoot: boolean;
}

export interface EnsurePublicationResult {
  created: boolean;
  /** Tables added to an existing publication, as `schema.table`. */
  added: string[];
  /** One line each, for the log: what differs from the config and what it means. */
  warnings: string[];
}

export interface SlotAdmin {
  readSlot(name: string): Promise<SlotInfo | null>;
  readPublication(name: string): Promise<PublicationInfo | null>;
  /** Idempotent. Throws OperatorError when the slot is missing and `create` is off, or exists but is unusable. */
  ensureSlot(spec: SlotSpec): Promise<EnsureSlotResult>;
  /** Idempotent; never removes anything. Throws OperatorError for what the operator must fix. */
  ensurePublication(spec: PublicationSpec): Promise<EnsurePublicationResult>;
}

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;
/** How long ensureSlot waits for another session's creation of the same slot to finish. */
const SLOT_CREATION_WAIT_MS = 120_000;

/** Postgres accepts only these slot names; say so before the server does, in our words. */
export function checkSlotName(name: string): void {
  if (!SLOT_NAME.test(name)) {
    throw new OperatorError(`replication slot name "${name}" is not valid`, {
      hint: 'use 1–63 lower-case letters, digits and underscores, like slotline_main',
      permanent: true,
    });
  }
}

export function createSlotAdmin(db: Queryable): SlotAdmin {
  async function currentDatabase(): Promise<string> {
    return (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
  }

  async function readSlot(name: string): Promise<SlotInfo | null> {
    // to_jsonb keeps one query across versions: wal_status is 13+, invalidation_reason 17+.
    const { rows } = await db.query<{ s: Record<string, any> }>(
      'SELECT to_jsonb(s) AS s FROM pg_replication_slots s WHERE slot_name = $1',
      [name],
    );
    if (rows.length === 0) return null;
    const s = rows[0].s;
    return {
      name: s.slot_name,
      slotType: s.slot_type,
      plugin: s.plugin ?? null,
      database: s.database ?? null,
      active: s.active === true,
      activePid: s.active_pid ?? null,
      confirmedFlushLsn: s.confirmed_flush_lsn ? parseLsn(s.confirmed_flush_lsn) : null,
      restartLsn: s.restart_lsn ? parseLsn(s.restart_lsn) : null,
      walStatus: s.wal_status ?? null,
      invalidationReason: s.invalidation_reason ?? null,
      failover: s.failover ?? null,
      synced: s.synced ?? null,
    };
  }

  async function readPublication(name: string): Promise<PublicationInfo | null> {
    const { rows } = await db.query<{ p: Record<string, any> }>(
      'SELECT to_jsonb(p) AS p FROM pg_publication p WHERE pubname = $1',
      [name],
    );
    if (rows.length === 0) return null;
    const p = rows[0].p;
    return {
      name: p.pubname,
      allTables: p.puballtables === true,
      publishes: { insert: p.pubinsert, update: p.pubupdate, delete: p.pubdelete, truncate: p.pubtruncate ?? false },
      viaRoot: p.pubviaroot === true,
    };
  }

  /**
   * Reads a slot, waiting while another session is still creating it. A logical slot
   * is visible from the first moment of its creation, before its plugin (briefly "")
   * and its confirmed position are set, and PG 14 may show it as wal_status "lost":
   * judging it then would refuse a good slot. Creation waits for running transactions,
   * so the wait is long but bounded. Null when the slot does not exist (or its creation failed).
   */
  async function settledSlot(name: string): Promise<SlotInfo | null> {
    const deadline = Date.now() + SLOT_CREATION_WAIT_MS;
    for (;;) {
      const slot = await readSlot(name);
      if (!slot || slot.slotType !== 'logical' || slot.confirmedFlushLsn !== null) return slot;
      if (Date.now() >= deadline) {
        throw new OperatorError(
          `replication slot "${name}" is still being created by another session (pid ${slot.activePid ?? 'unknown'}) after ${SLOT_CREATION_WAIT_MS / 1000} s`,
          { hint: 'creating a slot waits for the transactions running at that moment to end: find long-running ones in pg_stat_activity' },
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function ensureSlot(spec: SlotSpec): Promise<EnsureSlotResult> {
    checkSlotName(spec.name);
    const database = await currentDatabase();
    const existing = await settledSlot(spec.name);
    if (existing) {
      const problem = slotProblem(existing, database);
      if (problem) throw problem;
      return { created: false, confirmedFlushLsn: existing.confirmedFlushLsn ?? undefined };
    }
    if (!spec.create) throw slotMissing(spec.name, database, spec.failover);
    try {
      // Waits for transactions already running to finish: the slot's start must be consistent.
      // The five-argument form (temporary, two-phase, failover) exists from PostgreSQL 17 on.
      const { rows } = await db.query<{ lsn: string }>(
        spec.failover
          ? `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput', false, false, true)`
          : `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`,
        [spec.name],
      );
      return { created: true, consistentPoint: parseLsn(rows[0].lsn) };
    } catch (err) {
      // Created meanwhile by someone else: judge it once that creation has finished.
      if (pgCode(err) === '42710') return ensureSlot(spec);
      if (pgCode(err) === '53400') throw await slotsExhausted(db, spec.name, err);
      throw slotCreateError(spec.name, err);
    }
  }

  async function ensurePublication(spec: PublicationSpec): Promise<EnsurePublicationResult> {
    const wanted = (spec.tables ?? []).map(parseTableName);
    const existing = await readPublication(spec.name);
    if (!existing) {
      if (!spec.create) throw publicationMissing(spec, await currentDatabase());
      if (!spec.all && wanted.length === 0) {
        throw new OperatorError(`cannot create publication "${spec.name}": no tables are configured`, {
          hint: 'list the tables to capture as schema.table, or publish all tables',
          permanent: true,
        });
      }
      const target = spec.all ? 'FOR ALL TABLES' : `FOR TABLE ${wanted.map(quoteQualified).join(', ')}`;
      try {
        await db.query(`CREATE PUBLICATION ${pg.escapeIdentifier(spec.name)} ${target}`);
      } catch (err) {
        if (pgCode(err) === '42710') return ensurePublication(spec); // created meanwhile
        throw publicationDdlError(spec, 'create', err);
      }
      return { created: true, added: [], warnings: [] };
    }
    const coverage = await comparePublication(db, existing, spec);
    const warnings = [...coverage.warnings];
    if (coverage.missing.length === 0) return { created: false, added: [], warnings };
    if (!spec.create) throw publicationLacksTables(spec.name, coverage.missing);
    try {
      await db.query(`ALTER PUBLICATION ${pg.escapeIdentifier(spec.name)} ADD TABLE ${coverage.missing.map(quoteQualified).join(', ')}`);
    } catch (err) {
      throw publicationDdlError(spec, 'alter', err);
    }
    return { created: false, added: coverage.missing.map(formatTableName), warnings };
  }

  return { readSlot, readPublication, ensureSlot, ensurePublication };
}

export interface PublicationCoverage {
  /** Configured tables (that exist) whose changes the publication does not carry. */
  missing: TableName[];
  warnings: string[];
}

/** How an existing publication differs from the config. Tables that do not exist are the caller's concern (preflight). */
export async function comparePublication(db: Queryable, pub: PublicationInfo, spec: PublicationSpec): Promise<PublicationCoverage> {
  const warnings: string[] = [];
  const skipped = (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => !pub.publishes[op]);
  if (skipped.length > 0) {
    warnings.push(
      `publication "${pub.name}" does not publish ${skipped.join(', ')}: those changes never reach slotline; ` +
        `fix: ALTER PUBLICATION ${displayIdent(pub.name)} SET (publish = 'insert, update, delete, truncate')`,
    );
  }
  if (spec.all) {
    if (!pub.allTables) {
      warnings.push(
        `publication "${pub.name}" is not FOR ALL TABLES although all tables are configured: only the tables it lists are streamed; ` +
          `to stream every table, drop it and let slotline recreate it (or CREATE PUBLICATION … FOR ALL TABLES under another name)`,
      );
    }
    return { missing: [], warnings };
  }
  if (pub.allTables) return { missing: [], warnings };
  const wanted = (spec.tables ?? []).map(parseTableName);
  const described = await describeTables(db, wanted, pub.name);
  const missing = described.filter((t) => t.oid !== null && !t.published).map((t) => ({ schema: t.schema, table: t.table }));
  const { rows } = await db.query<{ schema: string; table: string }>(
    `SELECT pt.schemaname AS schema, pt.tablename AS table
       FROM pg_publication_tables pt
       JOIN pg_namespace n ON n.nspname = pt.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE pt.pubname = $1
        AND c.oid <> ALL ($2::oid[])
        AND NOT EXISTS (SELECT 1 FROM pg_partition_ancestors(c.oid) a WHERE a.relid = ANY ($2::oid[]))
      ORDER BY 1, 2`,
    [pub.name, described.flatMap((t) => (t.oid === null ? [] : [t.oid]))],
  );
  if (rows.length > 0) {
    warnings.push(
      `publication "${pub.name}" also publishes ${rows.map(formatTableName).join(', ')}, which the config does not list: ` +
        `slotline decodes and ignores their changes; slotline never removes tables from a publication`,
    );
  }
  return { missing, warnings };
}

/** Why an existing slot cannot be used by this worker, or null. Does not look at `active` (preflight does). */
export function slotProblem(slot: SlotInfo, database: string): OperatorError | null {
  const dropHint = `choose another slot name, or drop it if nothing needs it: SELECT pg_drop_replication_slot('${slot.name}')`;
  if (slot.slotType !== 'logical') {
    return new OperatorError(`replication slot "${slot.name}" is a physical slot; slotline needs a logical slot using pgoutput`, { hint: dropHint, permanent: true });
  }
  if (slot.plugin !== 'pgoutput') {
    return new OperatorError(`replication slot "${slot.name}" uses the output plugin "${slot.plugin}"; slotline needs "pgoutput"`, { hint: dropHint, permanent: true });
  }
  if (slot.database !== database) {
    return new OperatorError(`replication slot "${slot.name}" belongs to database "${slot.database}", not "${database}"`, {
      hint: `connect to database "${slot.database}", or choose another slot name for "${database}" (slot names are per server)`,
      permanent: true,
    });
  }
  if (slot.walStatus === 'lost' || slot.invalidationReason !== null) {
    const reason = slot.invalidationReason ? `, reason ${slot.invalidationReason}` : '';
    return new OperatorError(
      `replication slot "${slot.name}" is invalidated (wal_status ${slot.walStatus}${reason}): changes after its confirmed position are gone`,
      {
        hint: `drop it (SELECT pg_drop_replication_slot('${slot.name}')), let slotline create a new one and re-snapshot the tables; raise max_slot_wal_keep_size to prevent a repeat`,
        permanent: true,
      },
    );
  }
  return null;
}

/**
 * START_REPLICATION refused because the slot was invalidated (its WAL removed
 * past max_slot_wal_keep_size, or a recovery conflict on a standby), typically
 * while the worker was running and stuck behind a sink. Reconnecting cannot
 * help: this is an operator error, not permanent (exit 1), because with
 * snapshot.mode when_needed the next start recreates the slot and reads the
 * tables again (with any other mode the next start stops with slotProblem).
 * Any other error is returned as it is.
 */
export function streamStartError(slot: string, err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (pgCode(err) !== '55000' || !/can no longer get changes from replication slot|cannot read from logical replication slot/.test(message)) return err;
  const name = /replication slot "([^"]+)"/.exec(message)?.[1] ?? slot;
  const detail = (err as { detail?: unknown }).detail;
  const why = typeof detail === 'string' && detail !== '' ? ` (${detail.replace(/\s+/g, ' ').replace(/\.$/, '')})` : '';
  return new OperatorError(`replication slot "${name}" was invalidated while streaming${why}: changes after its confirmed position are gone`, {
    hint:
      `with snapshot.mode when_needed the next start recreates it and reads the tables again; otherwise drop it (SELECT pg_drop_replication_slot('${name}')) and start with snapshot.mode initial; ` +
      'raise max_slot_wal_keep_size to prevent a repeat',
    cause: err,
  });
}

export function slotMissing(name: string, database: string, failover = false): OperatorError {
  const args = failover ? `'${name}', 'pgoutput', false, false, true` : `'${name}', 'pgoutput'`;
  return new OperatorError(`replication slot "${name}" does not exist in database "${database}" and slot creation is off`, {
    hint: `create it with SELECT pg_create_logical_replication_slot(${args}), or allow slotline to create it`,
    permanent: true,
  });
}

/** The error for a slot that could not be created because max_replication_slots is reached, naming the inactive slots. */
export async function slotsExhausted(db: Queryable, name: string, cause: unknown): Promise<OperatorError> {
  const { rows } = await db.query<{ max: string; inactive: string[] }>(
    `SELECT current_setting('max_replication_slots') AS max,
            ARRAY(SELECT slot_name::text FROM pg_replication_slots WHERE NOT active ORDER BY slot_name) AS inactive`,
  );
  return maxSlotsError(name, Number(rows[0].max), rows[0].inactive, cause);
}

export function maxSlotsError(name: string, max: number, inactive: string[], cause?: unknown): OperatorError {
  const unused = inactive.length > 0 ? `drop an unused slot (inactive: ${inactive.slice(0, 5).join(', ')}) or ` : '';
  return new OperatorError(`cannot create replication slot "${name}": all ${max} slots allowed by max_replication_slots are in use`, {
    hint: `${unused}raise max_replication_slots and restart PostgreSQL`,
    cause,
  });
}

export function publicationMissing(spec: PublicationSpec, database: string): OperatorError {
  const target = spec.all || !spec.tables?.length ? 'FOR ALL TABLES' : `FOR TABLE ${spec.tables.map((t) => formatTableName(parseTableName(t))).join(', ')}`;
  return new OperatorError(`publication "${spec.name}" does not exist in database "${database}" and publication creation is off`, {
    hint: `create it with CREATE PUBLICATION ${displayIdent(spec.name)} ${target}; or allow slotline to create it`,
    permanent: true,
  });
}

export function publicationLacksTables(name: string, missing: TableName[]): OperatorError {
  const list = missing.map(formatTableName).join(', ');
  return new OperatorError(`publication "${name}" does not include configured table${missing.length > 1 ? 's' : ''} ${list}`, {
    hint: `ALTER PUBLICATION ${displayIdent(name)} ADD TABLE ${list}; or allow slotline to manage the publication`,
    permanent: true,
  });
}

export function slotCreateError(name: string, err: unknown): Error {
  const code = pgCode(err);
  if (code === '42501') {
    return new OperatorError(`cannot create replication slot "${name}": the role lacks the REPLICATION attribute`, {
      hint: 'ALTER ROLE <user> REPLICATION; (on RDS: GRANT rds_replication TO <user>)',
      cause: err,
      permanent: true,
    });
  }
  if (code === '55000') {
    return new OperatorError(`cannot create replication slot "${name}": ${(err as Error).message}`, {
      hint: 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL',
      cause: err,
      permanent: true,
    });
  }
  return err as Error;
}

function publicationDdlError(spec: PublicationSpec, verb: 'create' | 'alter', err: unknown): Error {
  const code = pgCode(err);
  if (code === '42501') {
    const needs = spec.all ? 'FOR ALL TABLES needs a superuser' : 'publishing a table needs ownership of it';
    return new OperatorError(`cannot ${verb} publication "${spec.name}": ${(err as Error).message} (${needs})`, {
      hint: 'have a superuser or the tables\' owner run the statement, then restart slotline with publication creation off',
      cause: err,
      permanent: true,
    });
  }
  if (code === '42P01') {
    return new OperatorError(`cannot ${verb} publication "${spec.name}": ${(err as Error).message}`, {
      hint: 'create the table, or remove it from the configured tables',
      cause: err,
    });
  }
  return err as Error;
}

export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
