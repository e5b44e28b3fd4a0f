/**
 * The ordinary PostgreSQL connection of a one-shot command (status, snapshot,
 * drop-slot): connected with the config's `source` settings (the writable
 * primary of several hosts), and a failure to
 * connect reported like the worker's (one line and a hint), not as a stack.
 */
import pg from 'pg';
import { pgClientConfig, type PgConnectionSettings } from '../runtime/pg-connection.ts';
import { findPrimary } from '../runtime/pg-primary.ts';
import { connectError, target } from '../source/connect-errors.ts';

export interface CommandClient {
  client: pg.Client;
  /** `host:port` of the server. */
  server: string;
  end(): Promise<void>;
}

export async function connectForCommand(source: PgConnectionSettings, applicationName: string): Promise<CommandClient> {
  const connection = pgClientConfig(await findPrimary(source), applicationName);
  const client = new pg.Client(connection);
  client.on('error', () => undefined); // a dropped idle connection: the next query reports it
  await client.connect().catch(async (err) => {
    await client.end().catch(() => undefined);
    throw connectError(err, connection);
  });
  return { client, server: target(connection), end: () => client.end().catch(() => undefined) };
}
