/**
 * A physical streaming standby of a harness PostgreSQL, for failover tests.
 *
 * The npm binaries have no pg_basebackup (and Debian's 15 refuses 16+ servers),
 * so the base backup is the low-level one: pg_backup_start on a session held
 * open, a file copy of the data dir, pg_backup_stop, its label file written as
 * backup_label. WAL is not copied: the standby streams it from the primary
 * through a physical slot made (with its WAL reserved) before the backup starts.
 *
 * The standby gets standby.signal, primary_conninfo (with dbname, which slot
 * synchronization needs) and primary_slot_name, and runs with the harness's
 * settings plus `postgresFlags` (e.g. sync_replication_slots=on,
 * hot_standby_feedback=on).
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PG_OS_USER } from './postgres-binaries.ts';
import { chownToUser, launchPostgres, PASSWORD, serverBinaries, USER, type PgServer } from './postgres.ts';
import { makeServerDir } from './server-dirs.ts';
import { isRoot } from './server-process.ts';

const execFileAsync = promisify(execFile);

export interface StartStandbyOptions {
  /** The physical slot on the primary that the standby streams from (created here). */
  slot: string;
  /** Extra `postgres` arguments for the standby. */
  postgresFlags?: string[];
}

export interface PgStandby extends PgServer {
  /** The physical slot on the primary. */
  slot: string;
  /** pg_promote(): waits until the standby accepts writes. */
  promote(): Promise<void>;
}

/** Directories whose contents a base backup leaves out (PostgreSQL docs, "Making a Base Backup Using the Low Level API"). */
const CONTENTS_LEFT_OUT = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans']);
const FILES_LEFT_OUT = new Set(['postmaster.pid', 'postmaster.opts']);
/** Subdirectories of pg_wal that the server expects to find (summaries: PG 17+). */
const KEPT_SUBDIRS = ['pg_wal/archive_status', 'pg_wal/summaries'];

/** Makes a standby of `primary` from a base backup and starts it; resolves once it streams from the primary. */
export async function startStandby(primary: PgServer, opts: StartStandbyOptions): Promise<PgStandby> {
  const { binDir, version } = await serverBinaries(primary.major);
  const root = await makeServerDir(`pg${primary.major}-standby`);
  const dataDir = join(root, 'data');
  await primary.query('SELECT pg_create_physical_replication_slot($1, true)', [opts.slot]);

  const backup = new pg.Client({ host: primary.host, port: primary.port, user: primary.user, password: primary.password, database: 'postgres' });
  await backup.connect();
  try {
    await backup.query("SELECT pg_backup_start('slotline-standby', true)");
    await cp(primary.dataDir, dataDir, {
      recursive: true,
      filter: (source) => {
        const rel = relative(primary.dataDir, source);
        if (rel === '') return true;
        const name = basename(source);
        if (FILES_LEFT_OUT.has(rel) || name.startsWith('.s.PGSQL.')) return false;
        // Keep the directories themselves (and pg_wal's own subdirectories), not what they hold.
        const top = rel.split('/')[0];
        return !CONTENTS_LEFT_OUT.has(top) || rel === top || KEPT_SUBDIRS.includes(rel);
      },
    });
    const { rows } = await backup.query<{ labelfile: string; spcmapfile: string }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(true)');
    await writeFile(join(dataDir, 'backup_label'), rows[0].labelfile);
    if (rows[0].spcmapfile) await writeFile(join(dataDir, 'tablespace_map'), rows[0].spcmapfile);
  } finally {
    await backup.end();
  }
  for (const dir of KEPT_SUBDIRS) await mkdir(join(dataDir, dir), { recursive: true });
  await writeFile(join(dataDir, 'standby.signal'), '');
  const conninfo = `host=${primary.host} port=${primary.port} user=${USER} password=${PASSWORD} dbname=postgres application_name=${opts.slot}`;
  await appendFile(join(dataDir, 'postgresql.auto.conf'), `\nprimary_conninfo = '${conninfo}'\nprimary_slot_name = '${opts.slot}'\n`);
  if (isRoot()) {
    await execFileAsync('chown', ['-R', `${PG_OS_USER}:${PG_OS_USER}`, root]);
    await chownToUser(dataDir, PG_OS_USER); // and mode 0700, which postgres insists on
  }

  const server = await launchPostgres({ major: primary.major, binDir, version, root, postgresFlags: opts.postgresFlags });
  await waitFor(async () => (await primary.query('SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = $2', [opts.slot, 'streaming'])).length > 0,
    60_000, `standby ${opts.slot} to stream from the primary`);
  return {
    ...server,
    slot: opts.slot,
    async promote() {
      const [row] = await server.query('SELECT pg_promote(true, 60) AS promoted');
      if (!row.promoted) throw new Error(`standby on port ${server.port} was not promoted within 60 s (log: ${server.logFile})`);
    },
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
