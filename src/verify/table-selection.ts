/**
 * Which tables a verify run reads: the tables slotline captures (in the
 * publication, in source.tables) that the sink routes, or those asked for —
 * each of which must be one of them, else an OperatorError says which rule it
 * breaks. Also which tables share each index, key pattern or topic, since
 * extras can only be judged where every table writing there is read.
 */
import type { SlotlineConfig } from '../config/load-config.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { OperatorError } from '../errors.ts';
import { createRouter } from '../route/router.ts';
import { listSnapshotTables, type SnapshotTable } from '../snapshot/snapshot-tables.ts';
import { formatTableName, parseTableName, type Queryable, type TableName } from '../source/pg-catalog.ts';
import { createTableScope } from '../source/table-scope.ts';

export interface Selection {
  tables: SnapshotTable[];
  /** Space → every captured table the sink routes there (verified or not). */
  spaces: Map<string, TableName[]>;
}

export interface SelectOptions {
  admin: Queryable;
  config: SlotlineConfig;
  sink: SinkConfig;
  /** `schema.table` names asked for; undefined: all. */
  wanted: readonly string[] | undefined;
  spaces(table: TableName): string[];
}

export async function selectTables(options: SelectOptions): Promise<Selection> {
  const { admin, config, sink } = options;
  const publication = config.source.publication;
  const { rows } = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
  if (rows.length === 0) {
    throw new OperatorError(`publication "${publication}" does not exist, so slotline captures no table to verify against`, {
      hint: 'check source.publication and the database; `slotline run` creates the publication (create_publication: true)',
    });
  }
  const router = createRouter([{ tables: sink.tables, exclude_tables: [...sink.exclude_tables, config.snapshot.state_table], messages: false }]);
  const scope = createTableScope(admin, config.source.tables);
  const routed = async (t: TableName): Promise<boolean> => router.sinksFor(t.schema, t.table).length > 0 && (await scope.includes(t));
  const captured = await listSnapshotTables(admin, publication, routed);
  const spaces = new Map<string, TableName[]>();
  for (const table of captured) {
    for (const space of options.spaces(table)) {
      const members = spaces.get(space) ?? [];
      members.push({ schema: table.schema, table: table.table });
      spaces.set(space, members);
    }
  }
  if (options.wanted === undefined) {
    if (captured.length === 0) {
      throw new OperatorError(`sink "${sink.name}" routes no table that slotline captures`, { hint: `check the sink's tables and exclude_tables in ${sink.file}, source.tables and publication "${publication}"` });
    }
    return { tables: captured, spaces };
  }
  const tables: SnapshotTable[] = [];
  for (const text of options.wanted) {
    const name = parseTableName(text);
    const found = captured.find((t) => t.schema === name.schema && t.table === name.table);
    if (found === undefined) throw await notVerifiable(options, name);
    if (!tables.includes(found)) tables.push(found);
  }
  return { tables, spaces };
}

async function notVerifiable({ admin, config, sink }: SelectOptions, name: TableName): Promise<OperatorError> {
  const shown = formatTableName(name);
  const publication = config.source.publication;
  const [published] = await listSnapshotTables(admin, publication, (t) => t.schema === name.schema && t.table === name.table);
  if (published === undefined) {
    return new OperatorError(`table ${shown} is not in publication "${publication}", so slotline does not capture it`, {
      hint: 'verify only tables slotline captures; check the name (schema.table, case-sensitive) and the publication',
    });
  }
  if (!(await createTableScope(admin, config.source.tables).includes(name))) {
    return new OperatorError(`table ${shown} is not in source.tables, so slotline does not capture it`, {
      hint: `add it to source.tables in ${config.file}, or verify another table`,
    });
  }
  return new OperatorError(`sink "${sink.name}" does not route table ${shown}`, {
    hint: `its tables and exclude_tables in ${sink.file} leave it out; verify the sink that receives it`,
  });
}
