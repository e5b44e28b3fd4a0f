/**
 * The output plugin handed to pg-logical-replication's LogicalReplicationService:
 * `start()` sends START_REPLICATION with pgoutput's options, `parse()` is our
 * decoder (the library passes the XLogData payload, header stripped).
 *
 * Why not the library's own PgoutputPlugin: it pastes slot and publication names
 * into the command unquoted, which breaks on quotes and silently lower-cases
 * mixed-case publication names (publication_names is parsed as an identifier
 * list); it always sends `messages`, which servers before 14 reject; and its parser
 * allocates per byte.
 */
import type { Client } from 'pg';
import { AbstractPlugin } from 'pg-logical-replication/dist/output-plugins/abstract.plugin.js';
import { formatLsn, parseLsn } from '../lsn.ts';
import type { PgoutputMessage } from '../types.ts';
import { decodePgoutput } from './pgoutput-decoder.ts';

export interface PgoutputPluginOptions {
  /** One publication (slotline's normal case) or several; names are exact, case-sensitive. */
  publication: string | string[];
  /** Server major version (e.g. 17), from preflight. Decides which options exist. */
  serverMajor: number;
  /** Ask for logical decoding messages (pg_logical_emit_message). Default true; ignored before PG 14, which cannot send them. */
  messages?: boolean;
}

export class PgoutputPlugin extends AbstractPlugin<PgoutputPluginOptions> {
  get name(): string {
    return 'pgoutput';
  }

  /**
   * Called by LogicalReplicationService.subscribe() on its replication connection.
   * The returned promise settles only when streaming ends: it rejects with the
   * server's error (slot in use, slot missing, publication missing, …).
   */
  start(client: Client, slotName: string, lastLsn: string): Promise<unknown> {
    return client.query(startReplicationCommand(slotName, parseLsn(lastLsn), this.options));
  }

  parse(buffer: Buffer): PgoutputMessage {
    return decodePgoutput(buffer);
  }
}

/** The START_REPLICATION command text. Exported for tests and for logging what was sent. */
export function startReplicationCommand(slotName: string, startLsn: bigint, options: PgoutputPluginOptions): string {
  const publications = typeof options.publication === 'string' ? [options.publication] : options.publication;
  if (publications.length === 0) throw new Error('pgoutput needs at least one publication name');
  // publication_names is a string literal holding a comma-separated identifier list:
  // quote each name as an identifier, then the whole list as a literal.
  const pluginOptions = [
    `proto_version '1'`,
    `publication_names ${quoteReplicationLiteral(publications.map(quoteReplicationIdent).join(','))}`,
  ];
  if ((options.messages ?? true) && options.serverMajor >= 14) pluginOptions.push(`messages 'true'`);
  return `START_REPLICATION SLOT ${quoteReplicationIdent(slotName)} LOGICAL ${formatLsn(startLsn)} (${pluginOptions.join(', ')})`;
}

/**
 * Quoting for the walsender's command grammar (repl_scanner.l): identifiers in
 * double quotes with "" for a quote, literals in single quotes with '' for a quote.
 * It has no E'' strings and no backslash escapes, so pg's escapeLiteral (which
 * emits E'…' for backslashes) must not be used here.
 */
export function quoteReplicationIdent(name: string): string {
  if (name.includes('\0')) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteReplicationLiteral(value: string): string {
  if (value.includes('\0')) throw new Error(`literal contains a NUL byte: ${JSON.stringify(value)}`);
  return `'${value.replaceAll("'", "''")}'`;
}
