/**
 * `slotline snapshot --config <file> --table <schema.table> [--table …]
 * [--sink <name> …] [--where <condition>]`: asks for a re-snapshot of tables
 * while the stream flows. It records the request in the snapshot state table
 * and writes a signal into the WAL; the worker of this config (running now, or
 * at its next start) reads the tables chunk by chunk between watermarks and
 * sends `op: r` events with `source.snapshot: incremental` to the named sinks.
 * A request for a table already being re-read starts it over.
 */
import { OperatorError } from '../errors.ts';
import { createRouter } from '../route/router.ts';
import { SNAPSHOT_PREFIX } from '../snapshot/incremental-windows.ts';
import { createSnapshotState } from '../snapshot/snapshot-state.ts';
import { listSnapshotTables } from '../snapshot/snapshot-tables.ts';
import { formatTableName, parseTableName } from '../source/pg-catalog.ts';
import { createSlotAdmin } from '../source/slot-admin.ts';
import { createTableScope } from '../source/table-scope.ts';
import { EXIT_OK } from './exit-codes.ts';
import { connectForCommand } from './pg-client.ts';
import { loadCommandConfig } from './command-config.ts';

export interface SnapshotRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  tables: string[];
  sinks: string[];
  where?: string;
}

export async function snapshotCommand(request: SnapshotRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const unknownSink = request.sinks.find((s) => !config.sinks.some((c) => c.name === s));
  if (unknownSink !== undefined) {
    throw new OperatorError(`no sink named "${unknownSink}" in ${request.configPath}`, { hint: `sinks: ${config.sinks.map((s) => s.name).join(', ')}` });
  }
  const router = createRouter(config.sinks.map((s) => ({ tables: s.tables, exclude_tables: s.exclude_tables, messages: s.messages })));
  const wanted = request.tables.map(parseTableName);
  const { client, end } = await connectForCommand(config.source, 'slotline-snapshot-request');
  try {
    const publication = await createSlotAdmin(client).readPublication(config.source.publication);
    if (publication === null) {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      throw new OperatorError(`publication "${config.source.publication}" does not exist in database "${rows[0].db}": slotline has not captured anything there yet`, {
        hint: 'start the worker first (slotline run creates the publication and snapshots the tables at its first start), then ask for a re-snapshot',
      });
    }
    const found = await listSnapshotTables(client, config.source.publication, (t) => wanted.some((w) => w.schema === t.schema && w.table === t.table));
    const scope = createTableScope(client, config.source.tables);
    for (const name of wanted) {
      const table = found.find((t) => t.schema === name.schema && t.table === name.table);
      const shown = formatTableName(name);
      if (!table) throw new OperatorError(`table ${shown} is not in publication "${config.source.publication}"`, { hint: 'snapshot only tables slotline captures; check the name and source.tables' });
      if (!(await scope.includes(name))) {
        throw new OperatorError(`table ${shown} is not in source.tables, so slotline does not capture it`, {
          hint: `add it to source.tables in ${request.configPath} (the publication carries it, but slotline keeps only the listed tables)`,
        });
      }
      const routedTo = router.sinksFor(name.schema, name.table).map((i) => config.sinks[i].name);
      const targets = request.sinks.length > 0 ? request.sinks.filter((s) => routedTo.includes(s)) : routedTo;
      if (targets.length === 0) {
        throw new OperatorError(`no ${request.sinks.length > 0 ? 'named ' : ''}sink routes table ${shown}`, { hint: `sinks routing it: ${routedTo.join(', ') || 'none'}; check the sink files' tables` });
      }
      if (!table.relation.columns.some((c) => c.isKey) && table.relation.replicaIdentity !== 'full') {
        // The worker also accepts a unique index; an identity key is the common case and a quick check here.
        const { rows } = await client.query('SELECT 1 FROM pg_index WHERE indrelid = $1 AND (indisprimary OR indisunique) LIMIT 1', [table.relation.relationId]);
        if (rows.length === 0) throw new OperatorError(`table ${shown} has no primary key or unique index`, { hint: 'a re-snapshot reads a table in key order; add a primary key' });
      }
    }
    if (request.where !== undefined) {
      // Fail here, not in the worker's log, when the condition does not parse or names unknown columns.
      for (const name of wanted) {
        await client.query(`EXPLAIN SELECT 1 FROM ${formatTableName(name)} WHERE (${request.where})`).catch((err: Error) => {
          throw new OperatorError(`--where "${request.where}" is not a valid condition on ${formatTableName(name)}: ${err.message}`, {
            hint: 'write an SQL boolean expression over the table\'s columns, e.g. --where "id > 1000"',
          });
        });
      }
    }
    const state = createSnapshotState(client, parseTableName(config.snapshot.state_table));
    for (const name of wanted) {
      await state.begin(config.source.slot, 'incremental', `${name.schema}.${name.table}`, { sinks: request.sinks.length > 0 ? request.sinks : null, where: request.where ?? null });
    }
    await client.query('SELECT pg_logical_emit_message(true, $1, $2)', [SNAPSHOT_PREFIX, JSON.stringify({ signal: 'snapshot' })]);
  } finally {
    await end();
  }
  console.log(
    `requested a snapshot of ${wanted.map(formatTableName).join(', ')} into ${request.sinks.length > 0 ? request.sinks.join(', ') : 'every sink that routes them'}` +
      `${request.where ? ` where ${request.where}` : ''}; the worker of slot "${config.source.slot}" reads them while streaming (now if it runs, else at its next start).` +
      ` Progress: SELECT * FROM ${config.snapshot.state_table} WHERE kind = 'incremental'`,
  );
  return EXIT_OK;
}
