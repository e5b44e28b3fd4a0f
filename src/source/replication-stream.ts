/**
 * One replication connection on one slot, built on pg-logical-replication's
 * LogicalReplicationService but with its acknowledgement machinery switched off.
 *
 * The library's traps, and how this wrapper closes each one:
 * - it acknowledges every message on arrival (`acknowledge.auto`): we pass
 *   `auto: false`, so only `sendStatus()` ever tells Postgres a position;
 * - a timer confirms the last *received* LSN every 10 s even with auto off,
 *   unless `timeoutSeconds: 0`: we pass 0;
 * - its `acknowledge(lsn)` reports lsn+1 and a wrong clock: we write the
 *   standby status update ourselves, with exactly the LSN we were given;
 * - `subscribe()` without an LSN resumes from the last received position: we
 *   always pass the LSN the caller names (the checkpoint);
 * - its flow control acknowledges after a failed handler: we leave it off and
 *   pause the socket ourselves.
 * Tests for each: test/source/replication-traps.test.ts.
 */
import { LogicalReplicationService } from 'pg-logical-replication';
import type { Client, ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';
import type { PgoutputMessage } from '../types.ts';
import { PgoutputPlugin } from './pgoutput-plugin.ts';
import { streamStartError } from './slot-admin.ts';

/** Microseconds between the Unix epoch and the Postgres epoch (2000-01-01). */
const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

/** Session settings that fix the text form of every value pgoutput sends (the normalizer relies on them). */
export const REPLICATION_SESSION_OPTIONS =
  '-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C';

export interface ReplicationHandlers {
  /** A decoded pgoutput message and the WAL position of its XLogData frame. */
  onMessage(lsn: Lsn, message: PgoutputMessage): void;
  /** A primary keepalive: the server has sent everything up to `walEnd`. */
  onKeepalive(walEnd: Lsn, replyRequested: boolean): void;
  /** The connection failed or ended; the stream is dead and must be restarted. */
  onError(err: Error): void;
}

export interface ReplicationStreamOptions {
  connection: ClientConfig;
  slot: string;
  publication: string;
  serverMajor: number;
  logger: Logger;
  /**
   * Runs on the replication connection itself, before START_REPLICATION, with
   * the position streaming will start from; returns the slot to stream from
   * instead of `slot`. `slotline replay` makes its temporary slot here: a
   * temporary slot belongs to the session that made it, so only this session
   * can stream from it, and it is gone when the session ends, however it ends.
   */
  prepareSlot?: (client: Client, startLsn: Lsn) => Promise<string>;
}

class Service extends LogicalReplicationService {
  /** The pg Connection while streaming; the library keeps it private. */
  connection(): { stream: NodeJS.ReadableStream & NodeJS.WritableStream; sendCopyFromChunk(b: Buffer): void } | null {
    return (this as any)['_connection'];
  }
}

export interface ReplicationStream {
  /** Starts streaming from `startLsn` (the checkpoint). Resolves once the server accepted START_REPLICATION. */
  start(startLsn: Lsn): Promise<void>;
  /** Stops reading the socket (backpressure); the slot holds the WAL meanwhile. */
  pause(): void;
  resume(): void;
  /** Standby status update: written/flushed/applied = `flushLsn`. The only way a position reaches Postgres. */
  sendStatus(flushLsn: Lsn, replyRequested?: boolean): void;
  stop(): Promise<void>;
}

export function createReplicationStream(options: ReplicationStreamOptions, handlers: ReplicationHandlers): ReplicationStream {
  const connection: ClientConfig = {
    ...options.connection,
    options: [options.connection.options, REPLICATION_SESSION_OPTIONS].filter(Boolean).join(' '),
  };
  const service = new Service(connection, {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: false },
  });
  let paused = false;
  /** START_REPLICATION answered: until then the socket must be read (a pause would hang start()) and no status sent. */
  let answered = false;
  let stopped = false;
  let failed = false;

  const fail = (err: Error): void => {
    if (stopped || failed) return;
    failed = true;
    handlers.onError(err);
  };

  // The library calls parse() inside its socket listener, where a throw would be
  // an uncaught exception: a frame we cannot decode ends this stream instead.
  const plugin = new (class extends PgoutputPlugin {
    start(client: Client, slotName: string, lastLsn: string): Promise<unknown> {
      if (!options.prepareSlot) return super.start(client, slotName, lastLsn);
      return options.prepareSlot(client, parseLsn(lastLsn)).then((slot) => super.start(client, slot, lastLsn));
    }

    parse(buffer: Buffer): PgoutputMessage {
      try {
        return super.parse(buffer);
      } catch (err) {
        fail(err as Error);
        return null as unknown as PgoutputMessage;
      }
    }
  })({ publication: options.publication, serverMajor: options.serverMajor });

  service.on('data', (lsn: string, message: PgoutputMessage | null) => {
    if (message !== null && !failed && !stopped) handlers.onMessage(parseLsn(lsn), message);
  });
  service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
    if (!stopped) handlers.onKeepalive(parseLsn(lsn), shouldRespond);
  });
  service.on('error', (err: Error) => fail(err));

  return {
    async start(startLsn) {
      stopped = false;
      failed = false;
      answered = false;
      let started!: () => void;
      const startedPromise = new Promise<void>((resolve) => (started = resolve));
      service.once('start', () => started());
      const streaming = service.subscribe(plugin, options.slot, formatLsn(startLsn));
      // subscribe() settles only when replication ends: an error there is a dead stream.
      streaming.then(
        () => fail(new Error('replication stream ended by the server')),
        (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
      );
      await Promise.race([startedPromise, streaming.then(() => { throw new Error('replication ended before it started'); })]).catch((err: unknown) => {
        throw streamStartError(options.slot, err);
      });
      answered = true;
      const conn = service.connection();
      conn?.stream.on('close', () => fail(new Error('replication connection closed')));
      if (paused) conn?.stream.pause();
    },
    pause() {
      if (paused) return;
      paused = true;
      if (answered) service.connection()?.stream.pause();
    },
    resume() {
      if (!paused) return;
      paused = false;
      if (answered) service.connection()?.stream.resume();
    },
    sendStatus(flushLsn, replyRequested = false) {
      const conn = service.connection();
      if (!conn || !answered || stopped || failed) return;
      conn.sendCopyFromChunk(standbyStatusUpdate(flushLsn, replyRequested));
    },
    async stop() {
      stopped = true;
      answered = false;
      // Ending the client waits for the socket's 'end', which a paused socket
      // never emits while unread bytes sit in it (a stop under backpressure,
      // or after the server refused START_REPLICATION): the worker hung at
      // exit. Read on; what arrives now is dropped (see the handlers).
      service.connection()?.stream.resume();
      await service.stop().catch(() => undefined);
      service.removeAllListeners();
    },
  };
}

/** The 'r' message of the streaming replication protocol (34 bytes). */
export function standbyStatusUpdate(lsn: Lsn, replyRequested: boolean, nowMs = Date.now()): Buffer {
  const buf = Buffer.alloc(34);
  buf.write('r', 0, 'latin1');
  buf.writeBigUInt64BE(lsn, 1); // written
  buf.writeBigUInt64BE(lsn, 9); // flushed: what the slot may forget
  buf.writeBigUInt64BE(lsn, 17); // applied
  buf.writeBigInt64BE(BigInt(nowMs) * 1000n - PG_EPOCH_OFFSET_US, 25);
  buf.writeUInt8(replyRequested ? 1 : 0, 33);
  return buf;
}
