/**
 * `slotline drop-slot --config <file> [--yes] [--drop-publication]`: the
 * uninstall. Shows the slot (database, active or not, confirmed LSN, the WAL
 * it makes the server keep), then drops it, the snapshot state records of
 * that slot (snapshot.state_table), and with --drop-publication the
 * publication.
 *
 * - It asks first: on a terminal, type the slot name or y; when stdin is not a
 *   terminal it needs --yes (a usage error otherwise), so a script never
 *   hangs on a prompt nobody sees.
 * - It refuses while the slot is active: a worker streaming from it would
 *   fail, and its sinks' positions would point into a slot that is gone.
 *   Stop the worker first. It never ends another process's session.
 * - A slot of another plugin or database has the configured name but is not
 *   slotline's: refused, with the SQL for doing it by hand.
 * - Nothing to drop (no slot, no records, no publication asked for) is not an
 *   error: running it twice is fine.
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { humanSize } from '../config/sizes.ts';
import { OperatorError } from '../errors.ts';
import { formatLsn } from '../lsn.ts';
import { readSlotState, type SlotReading } from '../observe/slot-monitor.ts';
import { displayIdent, formatTableName, parseTableName, quoteQualified } from '../source/pg-catalog.ts';
import { createSlotAdmin, pgCode, type SlotInfo } from '../source/slot-admin.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.ts';
import { connectForCommand } from './pg-client.ts';
import { loadCommandConfig } from './command-config.ts';

export interface DropSlotRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  yes: boolean;
  dropPublication: boolean;
}

interface Plan {
  slot: (SlotInfo & { reading: SlotReading | null }) | null;
  stateRecords: number;
  publication: boolean;
}

export async function dropSlotCommand(request: DropSlotRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const { slot: name, publication } = config.source;
  const stateTable = parseTableName(config.snapshot.state_table);
  const { client, server, end } = await connectForCommand(config.source, 'slotline-drop-slot');
  try {
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const admin = createSlotAdmin(client);
    const found = await admin.readSlot(name);
    const plan: Plan = {
      slot: found && { ...found, reading: await readSlotState(client, name) },
      stateRecords: await countStateRecords(client, quoteQualified(stateTable), name),
      publication: request.dropPublication && (await admin.readPublication(publication)) !== null,
    };
    if (found) checkOurs(found, database);
    if (found?.active) throw await slotActive(client, found);

    if (!plan.slot && plan.stateRecords === 0 && !plan.publication) {
      const pub = request.dropPublication ? ` nor publication "${publication}"` : '';
      console.log(`replication slot "${name}" does not exist in database "${database}" at ${server}${pub}: nothing to drop`);
      return EXIT_OK;
    }
    console.log(describePlan(plan, { name, database, server, publication, stateTable: formatTableName(stateTable), dropPublication: request.dropPublication }));
    if (!request.yes && !(await confirmed(name))) {
      console.log('nothing dropped');
      return EXIT_FAILURE;
    }
    if (plan.slot) {
      await client.query('SELECT pg_drop_replication_slot($1)', [name]).catch(async (err) => {
        if (pgCode(err) === '55006') throw await slotActive(client, (await admin.readSlot(name)) ?? found!);
        if (pgCode(err) === '42501') {
          throw new OperatorError(`cannot drop replication slot "${name}": ${(err as Error).message}`, {
            hint: 'run drop-slot as a role with the REPLICATION attribute (the one slotline streams as), or a superuser',
            cause: err,
            permanent: true,
          });
        }
        throw err;
      });
      console.log(`dropped replication slot "${name}"`);
    }
    if (plan.stateRecords > 0) {
      await client.query(`DELETE FROM ${quoteQualified(stateTable)} WHERE slot_name = $1`, [name]).catch((err) => {
        throw privilegeError(err, `cannot delete the snapshot records of slot "${name}" from ${formatTableName(stateTable)}`, `GRANT DELETE ON ${formatTableName(stateTable)} TO <role>; or delete them as the table's owner`);
      });
      console.log(`deleted ${plan.stateRecords} snapshot record${plan.stateRecords > 1 ? 's' : ''} of slot "${name}" from ${formatTableName(stateTable)}`);
    }
    if (plan.publication) {
      await client.query(`DROP PUBLICATION IF EXISTS ${pg.escapeIdentifier(publication)}`).catch((err) => {
        throw privilegeError(err, `cannot drop publication "${publication}"`, `only its owner or a superuser may: DROP PUBLICATION ${displayIdent(publication)};`);
      });
      console.log(`dropped publication "${publication}"`);
    }
    return EXIT_OK;
  } finally {
    await end();
  }
}

async function countStateRecords(client: pg.Client, table: string, slot: string): Promise<number> {
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  if (!rows[0].exists) return 0;
  const counted = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE slot_name = $1`, [slot]).catch((err) => {
    throw privilegeError(err, `cannot read the snapshot records in ${table}`, `GRANT SELECT, DELETE ON ${table} TO <role>; or run drop-slot as the table's owner`);
  });
  return counted.rows[0].n;
}

/** A slot of the configured name that slotline did not make: dropping it is not this command's call. */
function checkOurs(slot: SlotInfo, database: string): void {
  const byHand = `if nothing needs it, drop it by hand: SELECT pg_drop_replication_slot('${slot.name}')`;
  if (slot.slotType !== 'logical' || slot.plugin !== 'pgoutput') {
    const what = slot.slotType !== 'logical' ? 'a physical slot' : `a slot of the output plugin "${slot.plugin}"`;
    throw new OperatorError(`replication slot "${slot.name}" is ${what}, not one slotline streams from; not dropped`, { hint: `check source.slot; ${byHand}` });
  }
  if (slot.database !== database) {
    throw new OperatorError(`replication slot "${slot.name}" belongs to database "${slot.database}", not "${database}"; not dropped`, {
      hint: 'check source.slot and the database in source.url: drop-slot drops the slot of the configured database only',
    });
  }
}

async function slotActive(client: pg.Client, slot: SlotInfo): Promise<OperatorError> {
  const { rows } = await client.query<{ application_name: string | null }>('SELECT application_name FROM pg_stat_activity WHERE pid = $1', [slot.activePid]);
  const who = rows[0]?.application_name ? `, application_name "${rows[0].application_name}"` : '';
  return new OperatorError(`replication slot "${slot.name}" is active: a process streams from it (PID ${slot.activePid}${who}); not dropped`, {
    hint: 'stop the slotline worker that uses it first (SIGTERM: it drains and exits), then run drop-slot again',
  });
}

function privilegeError(err: unknown, what: string, hint: string): Error {
  if (pgCode(err) !== '42501') return err as Error;
  return new OperatorError(`${what}: ${(err as Error).message}`, { hint, cause: err, permanent: true });
}

function describePlan(plan: Plan, names: { name: string; database: string; server: string; publication: string; stateTable: string; dropPublication: boolean }): string {
  const lines = [`replication slot "${names.name}" in database "${names.database}" at ${names.server}`];
  const row = (label: string, value: string): number => lines.push(`  ${label.padEnd(16)} ${value}`);
  const s = plan.slot;
  if (s === null) row('slot', 'does not exist');
  else {
    row('state', 'inactive: no worker streams from it');
    row('confirmed LSN', s.confirmedFlushLsn === null ? '-' : formatLsn(s.confirmedFlushLsn));
    row('retained WAL', s.reading?.retainedWalBytes == null ? '-' : humanSize(s.reading.retainedWalBytes));
  }
  row('snapshot records', `${plan.stateRecords} in ${names.stateTable}`);
  row('publication', `"${names.publication}" ${plan.publication ? 'is dropped too' : names.dropPublication ? 'does not exist' : 'is kept (--drop-publication drops it)'}`);
  if (s !== null) {
    lines.push(
      'Dropping the slot lets PostgreSQL remove the WAL it retains. Changes not yet confirmed by every sink are lost with it,',
      'and a new slot starts from its creation: a later slotline run with create_slot re-reads the tables (snapshot.mode initial).',
    );
  }
  return lines.join('\n');
}

/** Asks on the terminal; stdin that is not one is a usage error, so a script never waits on a prompt nobody sees. */
async function confirmed(slot: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError('stdin is not a terminal, so drop-slot cannot ask for confirmation: add --yes to drop without asking');
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => {
    prompt.once('close', () => resolve(''));
    prompt.question(`Type the slot name (${slot}) or y to drop it: `, resolve);
  });
  prompt.close();
  return [slot, 'y', 'yes'].includes(answer.trim().toLowerCase());
}
