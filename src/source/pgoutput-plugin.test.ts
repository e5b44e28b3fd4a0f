/**
 * START_REPLICATION text (table-driven), then the plugin inside
 * pg-logical-replication's LogicalReplicationService against a real PostgreSQL 17,
 * with publication names that only survive correct quoting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogicalReplicationService } from 'pg-logical-replication';
import pg from 'pg';
import { startPostgres, type PgServer } from '../../test/harness/postgres.ts';
import type { PgoutputMessage } from '../types.ts';
import { PgoutputPlugin, startReplicationCommand } from './pgoutput-plugin.ts';

describe('startReplicationCommand', () => {
  it.each([
    {
      name: 'one publication on PG 17',
      args: { slot: 'slotline', lsn: 0n, publication: 'pub', serverMajor: 17 },
      sql: `START_REPLICATION SLOT "slotline" LOGICAL 0/0 (proto_version '1', publication_names '"pub"', messages 'true')`,
    },
    {
      name: 'mixed case, quotes and commas in names',
      args: { slot: 'a_b', lsn: 0x1_0000_00ffn, publication: ['Orders', `it's "x", y`], serverMajor: 16 },
      sql: `START_REPLICATION SLOT "a_b" LOGICAL 1/FF (proto_version '1', publication_names '"Orders","it''s ""x"", y"', messages 'true')`,
    },
    {
      name: 'PG 13 cannot send messages',
      args: { slot: 's', lsn: 0x16b3748n, publication: 'pub', serverMajor: 13 },
      sql: `START_REPLICATION SLOT "s" LOGICAL 0/16B3748 (proto_version '1', publication_names '"pub"')`,
    },
    {
      name: 'messages turned off',
      args: { slot: 's', lsn: 0n, publication: 'pub', serverMajor: 17, messages: false },
      sql: `START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '1', publication_names '"pub"')`,
    },
    {
      name: 'a backslash stays literal (the walsender grammar has no escapes)',
      args: { slot: 's', lsn: 0n, publication: 'a\\b', serverMajor: 17 },
      sql: `START_REPLICATION SLOT "s" LOGICAL 0/0 (proto_version '1', publication_names '"a\\b"', messages 'true')`,
    },
  ])('$name', ({ args, sql }) => {
    expect(startReplicationCommand(args.slot, args.lsn, { publication: args.publication, serverMajor: args.serverMajor, messages: args.messages })).toBe(sql);
  });

  it('rejects an empty publication list', () => {
    expect(() => startReplicationCommand('s', 0n, { publication: [], serverMajor: 17 })).toThrow('at least one publication');
  });
});

describe('PgoutputPlugin with LogicalReplicationService', () => {
  let server: PgServer;
  const db = 'plugin_test';

  beforeAll(async () => {
    server = await startPostgres({ major: 17 });
    await server.createDatabase(db);
    await server.query('CREATE TABLE public.items (id integer PRIMARY KEY, label text)', [], db);
    await server.query('CREATE TABLE public.other (id integer PRIMARY KEY)', [], db);
    // Names a naive `publication_names 'a,b'` would break: case folding, a quote, a comma.
    await server.query(`CREATE PUBLICATION "Items ""Pub"", 1" FOR TABLE public.items`, [], db);
    await server.query(`CREATE PUBLICATION "OtherPub" FOR TABLE public.other`, [], db);
    await server.query(`SELECT pg_create_logical_replication_slot('plugin_slot', 'pgoutput')`, [], db);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('streams decoded messages from quoted publications, logical messages included', async () => {
    const service = new LogicalReplicationService(
      { host: server.host, port: server.port, user: server.user, password: server.password, database: db },
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    const received: PgoutputMessage[] = [];
    const done = new Promise<void>((resolve) => {
      service.on('data', (_lsn: string, message: PgoutputMessage) => {
        received.push(message);
        if (message.tag === 'commit') resolve(); // the slot has seen one transaction only
      });
    });
    const plugin = new PgoutputPlugin({ publication: ['Items "Pub", 1', 'OtherPub'], serverMajor: 17 });
    const streaming = service.subscribe(plugin, 'plugin_slot', '0/0').catch((err: Error) => err);
    try {
      await server.query(
        `BEGIN; INSERT INTO public.items VALUES (1, 'één'); SELECT pg_logical_emit_message(true, 'p', 'x'); INSERT INTO public.other VALUES (7); COMMIT`,
        [],
        db,
      );
      await withTimeout(done, 20_000);
    } finally {
      await service.stop();
    }
    await streaming;
    const tags = received.map((m) => m.tag);
    expect(tags).toEqual(['begin', 'relation', 'insert', 'message', 'relation', 'insert', 'commit']);
    expect(received[2]).toMatchObject({ tag: 'insert', newTuple: ['1', 'één'] });
    expect(received[3]).toMatchObject({ tag: 'message', transactional: true, prefix: 'p', content: Buffer.from('x') });
    expect(received[4]).toMatchObject({ tag: 'relation', relation: { schema: 'public', table: 'other' } });
    expect(received[5]).toMatchObject({ tag: 'insert', newTuple: ['7'] });
  });

  it("rejects start() with the server's error when the slot does not exist", async () => {
    const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: db, replication: 'database' } as pg.ClientConfig);
    await client.connect();
    try {
      const plugin = new PgoutputPlugin({ publication: 'OtherPub', serverMajor: 17 });
      await expect(plugin.start(client, 'no_such_slot', '0/0')).rejects.toThrow('replication slot "no_such_slot" does not exist');
    } finally {
      await client.end();
    }
  });
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}
