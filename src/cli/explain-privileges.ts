/**
 * `slotline validate --config <file> --explain-privileges [--inspect-url <url>]`:
 * prints the SQL a DBA runs so that the config's role may do everything
 * slotline does — log in and stream, read the captured tables, keep its
 * snapshot state, have its publication, and see the old row of tables without
 * a primary key.
 *
 * It connects, read-only (one READ ONLY transaction over the catalog), with the
 * config's own connection or with --inspect-url: the role may not exist yet, so
 * a DBA points it at an account of theirs. The role named in the SQL is always
 * the config's user. Only SQL goes to stdout (redirect it to a file and run it
 * with psql); no password is ever printed.
 */
import pg from 'pg';
import { pgClientConfig } from '../runtime/pg-connection.ts';
import { findPrimary } from '../runtime/pg-primary.ts';
import { connectError, target } from '../source/connect-errors.ts';
import { displayIdent, formatTableName, parseTableName, type TableName } from '../source/pg-catalog.ts';
import { readPrivilegeFacts, roleOf, type PrivilegeFacts } from '../source/privilege-facts.ts';
import { loadCommandConfig } from './command-config.ts';

export interface ExplainRequest {
  configPath: string;
  /** `--source`: which entry of `sources:` (required when there are several). */
  source?: string;
  /** Connection for reading the catalog instead of the config's (e.g. a DBA's, before the role exists). */
  inspectUrl?: string;
}

export async function explainPrivilegesCommand(request: ExplainRequest): Promise<number> {
  const config = await loadCommandConfig(request.configPath, request.source);
  const source = config.source;
  const role = roleOf(source.user);
  const connection: pg.ClientConfig = request.inspectUrl
    ? { connectionString: request.inspectUrl, application_name: 'slotline-explain', connectionTimeoutMillis: source.connect_timeout_ms }
    : pgClientConfig(await findPrimary(source), 'slotline-explain');
  const client = new pg.Client(connection);
  client.on('error', () => undefined);
  await client.connect().catch((err) => {
    throw connectError(err, connection);
  });
  try {
    const facts = await readPrivilegeFacts(client, {
      role,
      slot: { name: source.slot, create: source.create_slot, failover: source.failover },
      publication: { name: source.publication, create: source.create_publication, tables: source.tables, all: source.tables === undefined },
      stateTable: parseTableName(config.snapshot.state_table),
    });
    process.stdout.write(privilegeSql(facts, target(connection)));
  } finally {
    await client.end().catch(() => undefined);
  }
  return 0;
}

/** The SQL for these facts: only what is missing, in the order it must run. */
export function privilegeSql(f: PrivilegeFacts, where: string): string {
  const role = displayIdent(f.roleName);
  const list = (names: TableName[]): string => names.map(formatTableName).join(', ');
  const out: string[] = [
    `-- What role ${f.roleName} needs for slotline in database ${f.database} (read from ${where}).`,
    `-- Run as a superuser${f.rds ? ' (on RDS/Aurora: the master user)' : ''}, connected to database ${f.database}.`,
  ];
  const section = (comment: string, ...lines: string[]): void => {
    out.push('', `-- ${comment}`, ...lines);
  };

  if (f.walLevel !== 'logical') {
    section(
      `wal_level is ${f.walLevel}: logical decoding needs logical.`,
      ...(f.rds
        ? ['-- RDS/Aurora: set rds.logical_replication = 1 in the DB parameter group, then reboot the instance.']
        : ['ALTER SYSTEM SET wal_level = logical;', '-- then restart PostgreSQL.']),
    );
  }

  // Streaming: the REPLICATION attribute; on RDS, where nobody is superuser, membership in rds_replication.
  const streams = f.role !== null && (f.role.superuser || f.role.replication || f.role.rdsReplication);
  const roleLines: string[] = [];
  if (f.role === null) {
    roleLines.push(f.rds ? `CREATE ROLE ${role} LOGIN;` : `CREATE ROLE ${role} LOGIN REPLICATION;`);
    if (f.rds) roleLines.push(`GRANT rds_replication TO ${role};`);
    roleLines.push(`-- Then give it the password slotline uses (psql: \\password ${role}).`);
  } else {
    if (!f.role.canLogin) roleLines.push(`ALTER ROLE ${role} LOGIN;`);
    if (!streams) roleLines.push(f.rds ? `GRANT rds_replication TO ${role};` : `ALTER ROLE ${role} REPLICATION;`);
  }
  section(
    roleLines.length > 0
      ? 'The role: it logs in and streams changes (creates the slot, reads it, writes heartbeat messages).'
      : `The role ${f.roleName} exists and may log in and stream changes: nothing to do.`,
    ...roleLines,
  );

  if (f.role?.superuser) {
    out.push('', `-- ${f.roleName} is a superuser: it needs no grants.`);
  } else {
    const readable = unique([...f.tables, ...f.leaves]);
    const tableSchemas = [...new Set(readable.map((t) => t.schema))];
    const schemas = [...new Set([...tableSchemas, ...(f.stateTable.schemaExists ? [f.stateTable.name.schema] : [])])];
    section(
      'Reading the captured tables (and the partitions of a partitioned one): the initial snapshot and `slotline snapshot` read them.',
      `GRANT CONNECT ON DATABASE ${displayIdent(f.database)} TO ${role};`,
      ...(schemas.length > 0 ? [`GRANT USAGE ON SCHEMA ${schemas.map(displayIdent).join(', ')} TO ${role};`] : []),
      ...(f.publication.all
        ? tableSchemas.map((s) => `GRANT SELECT ON ALL TABLES IN SCHEMA ${displayIdent(s)} TO ${role};`)
        : readable.length > 0 ? [`GRANT SELECT ON ${list(readable)} TO ${role};`] : []),
    );
    section(`The snapshot state table ${formatTableName(f.stateTable.name)}, where slotline records snapshot progress.`, ...stateTableLines(f, role));
  }

  section(...publicationLines(f));
  if (f.noIdentity.length > 0) {
    section(
      'Tables without a primary key: once published, PostgreSQL rejects their UPDATEs and DELETEs unless they have a replica identity; FULL sends the whole old row as "before".',
      ...f.noIdentity.map((t) => `ALTER TABLE ${formatTableName(t)} REPLICA IDENTITY FULL;`),
    );
  }
  if (!f.slot.create && !f.slot.exists) {
    section(
      `The slot: create_slot is off and ${f.slot.name} does not exist (slotline would create it with an exported snapshot for the initial snapshot${f.slot.failover ? '; a failover slot, as source.failover asks' : ''}).`,
      f.slot.failover
        ? `SELECT pg_create_logical_replication_slot('${f.slot.name}', 'pgoutput', false, false, true);`
        : `SELECT pg_create_logical_replication_slot('${f.slot.name}', 'pgoutput');`,
    );
  }
  out.push(
    '',
    `-- pg_hba.conf (self-managed servers) must let ${f.roleName} connect to database ${f.database}: a logical replication`,
    '-- connection matches the database name, not the "replication" keyword, e.g.',
    `--   hostssl ${f.database} ${f.roleName} 10.0.0.0/8 scram-sha-256`,
    '',
  );
  return out.join('\n');
}

function unique(names: TableName[]): TableName[] {
  return names.filter((n, i) => names.findIndex((m) => m.schema === n.schema && m.table === n.table) === i);
}

function stateTableLines(f: PrivilegeFacts, role: string): string[] {
  const { name, exists, schemaExists } = f.stateTable;
  if (exists) return [`GRANT SELECT, INSERT, UPDATE ON ${formatTableName(name)} TO ${role};`];
  if (!schemaExists) return [`CREATE SCHEMA ${displayIdent(name.schema)} AUTHORIZATION ${role};`];
  return [`GRANT CREATE ON SCHEMA ${displayIdent(name.schema)} TO ${role}; -- slotline creates the table at its first snapshot`];
}

/** [comment, ...statements] for the publication. */
function publicationLines(f: PrivilegeFacts): [string, ...string[]] {
  const p = f.publication;
  const name = displayIdent(p.name);
  if (!p.exists && p.all) {
    return ['The publication: FOR ALL TABLES needs a superuser (on RDS/Aurora there is none: list the tables in the config instead).', `CREATE PUBLICATION ${name} FOR ALL TABLES;`];
  }
  if (!p.exists) {
    return ['The publication: only the tables\' owner (or a superuser) may publish them, so create it for slotline.', `CREATE PUBLICATION ${name} FOR TABLE ${f.tables.map(formatTableName).join(', ')};`];
  }
  if (p.missing.length > 0) {
    return [`The publication ${p.name} exists but lacks tables the config captures.`, `ALTER PUBLICATION ${name} ADD TABLE ${p.missing.map(formatTableName).join(', ')};`];
  }
  return [`The publication ${p.name} exists and carries every captured table: nothing to do.`];
}
