/**
 * The session loop against a real PostgreSQL slot: which ends of a session
 * are reported, and which lead to a new session.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../../test/harness/context.ts';
import { createCheckpointer } from '../checkpoint/checkpointer.ts';
import { OperatorError } from '../errors.ts';
import { parseLsn, type Lsn } from '../lsn.ts';
import { createTelemetry } from '../observe/telemetry.ts';
import { createReplicationStream, type ReplicationHandlers, type ReplicationStream } from '../source/replication-stream.ts';
import { createPauseControl } from './pause-control.ts';
import { eventually } from '../../test/e2e/support.ts';
import { createStreamLoop, type StreamLoop } from './stream-loop.ts';

const logger = pino({ level: 'silent' });
let db: FreshDatabase;
const slots = new Map<string, Lsn>();

beforeAll(async () => {
  db = await freshDatabase('stream_loop');
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY); CREATE PUBLICATION loop_pub FOR TABLE public.items');
});

afterAll(async () => {
  // A walsender outlives its client for a moment: drop each slot once it is free.
  for (const slot of slots.keys()) {
    await eventually(async () => {
      await db.sql('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
      return (await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).length === 0;
    }, 30_000, `slot ${slot} dropped`);
  }
});

/** A slot of its own per case: a session's walsender may outlive it for a moment. */
async function newSlot(name: string): Promise<void> {
  const [{ lsn }] = await db.sql("SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
  slots.set(name, parseLsn(lsn));
}

/**
 * A loop over real sessions on `slot`. Each session asks the server for a
 * keepalive once it streams; `onFirstKeepalive` runs at the first one, with the
 * loop's own handlers (as a wrapper between stream and pipeline would).
 */
function loopOnSlot(slot: string, onFirstKeepalive: (handlers: ReplicationHandlers, session: number) => void) {
  let stopping = false;
  const failures: unknown[] = [];
  const telemetry = createTelemetry({ sinks: [{ name: 'sink', type: 'console' }], inFlightCeiling: 1 << 20 });
  let sessions = 0;
  /** The sessions that streamed (a start the server refused, e.g. the slot still held by the last walsender, is not one). */
  let streamed = 0;
  const loop: StreamLoop = createStreamLoop({
    openStream(handlers) {
      sessions++;
      let first = true;
      const stream = createReplicationStream(
        { connection: { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database }, slot, publication: 'loop_pub', serverMajor: db.major, logger },
        {
          ...handlers,
          onKeepalive(walEnd, replyRequested) {
            handlers.onKeepalive(walEnd, replyRequested);
            if (first) {
              first = false;
              streamed++;
              onFirstKeepalive(handlers, streamed);
            }
          },
        },
      );
      return {
        ...stream,
        async start(lsn) {
          await stream.start(lsn);
          stream.sendStatus(lsn, true);
        },
      } satisfies ReplicationStream;
    },
    handlers: { onMessage: () => undefined, onKeepalive: () => undefined },
    checkpointer: createCheckpointer(['sink'], slots.get(slot)!),
    pause: createPauseControl(() => loop.current()),
    reconnect: { initial_delay_ms: 10, max_delay_ms: 10 },
    telemetry,
    logger,
    stopping: () => stopping,
    fail: (err) => failures.push(err),
    onStreaming: () => undefined,
    onLost: () => undefined,
  });
  return { loop, failures, telemetry, stop: () => (stopping = true), opened: () => sessions, streamed: () => streamed };
}

describe('the replication session loop', () => {
  it('reports an operator error that ends a session, and opens no other', async () => {
    await newSlot('loop_refused');
    const run = loopOnSlot('loop_refused', (handlers) => handlers.onError(new OperatorError('the stream was refused', { hint: 'h' })));
    await run.loop.run();
    expect(run.failures.map((e) => (e as Error).message)).toEqual(['the stream was refused']);
    expect(run.opened()).toBe(1);
  });

  it('reports an operator error also when a stop begins as the session ends (a replay refused at its last keepalive exited 0)', async () => {
    await newSlot('loop_refused_stopping');
    const run = loopOnSlot('loop_refused_stopping', (handlers) => {
      handlers.onError(new OperatorError('the stream was refused', { hint: 'h' }));
      run.stop(); // in the same tick: a replay's window reached its end and stopped the pipeline
    });
    await run.loop.run();
    expect(run.failures.map((e) => (e as Error).message)).toEqual(['the stream was refused']);
    expect(run.opened()).toBe(1);
  });

  it('opens a new session after a lost connection, and ends quietly on a stop', async () => {
    await newSlot('loop_lost');
    const run = loopOnSlot('loop_lost', (handlers, session) => {
      if (session === 1) handlers.onError(new Error('connection lost'));
      else run.loop.end(new Error('stopping'));
      if (session === 2) run.stop();
    });
    await run.loop.run();
    expect(run.failures).toEqual([]);
    expect(run.streamed()).toBe(2);
    expect(run.telemetry.reconnects).toBeGreaterThanOrEqual(1);
  });
});
