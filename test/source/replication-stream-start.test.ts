/**
 * A replication stream paused (and asked to confirm) while START_REPLICATION is
 * still unanswered — what a SIGTERM in the first milliseconds of a worker does —
 * still starts, delivers once resumed, and stops. It used to pause the socket
 * before the server's CopyBoth reply was read, so start() never resolved and
 * the worker hung at exit.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseLsn, type Lsn } from '../../src/lsn.ts';
import { createReplicationStream, type ReplicationStream } from '../../src/source/replication-stream.ts';
import type { PgoutputMessage } from '../../src/types.ts';
import { freshDatabase, uniqueName } from '../harness/context.ts';
import { eventually } from '../e2e/support.ts';

describe('a replication stream paused before the server answered START_REPLICATION', () => {
  it('starts, delivers once resumed, and stops', async () => {
    const db = await freshDatabase('stream_start');
    const slot = uniqueName('slot');
    const publication = uniqueName('pub');
    await db.sql('CREATE TABLE public.t (id int PRIMARY KEY)');
    await db.sql(`CREATE PUBLICATION ${publication} FOR TABLE public.t`);
    const [{ lsn }] = await db.sql(`SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    const received: Array<[Lsn, PgoutputMessage]> = [];
    const errors: Error[] = [];
    let stream!: ReplicationStream;
    stream = createReplicationStream(
      {
        connection: { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database },
        slot, publication, serverMajor: db.major, logger: pino({ level: 'silent' }),
        // Runs on the connected session, just before START_REPLICATION goes out.
        prepareSlot: async () => {
          stream.pause();
          stream.sendStatus(parseLsn(lsn));
          return slot;
        },
      },
      { onMessage: (at, message) => received.push([at, message]), onKeepalive: () => undefined, onError: (err) => errors.push(err) },
    );
    await stream.start(parseLsn(lsn));
    await db.sql('INSERT INTO public.t VALUES (1)');
    stream.resume();
    await eventually(() => received.some(([, m]) => m.tag === 'commit'), 20_000, 'the insert to arrive');
    expect(received.map(([, m]) => m.tag)).toEqual(['begin', 'relation', 'insert', 'commit']);
    expect(errors).toEqual([]);
    await stream.stop();
    const [state] = await db.sql('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(state.active).toBe(false);
    await db.sql('SELECT pg_drop_replication_slot($1)', [slot]);
  });
});
