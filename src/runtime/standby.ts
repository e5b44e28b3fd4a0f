/**
 * Hot standby: a second worker on the same config waits while another process
 * streams the slot, and takes it over once the server releases it.
 *
 * PostgreSQL lets one connection at a time stream a slot, so the slot itself
 * is the lock: no lease table, no clock. The server releases it when the
 * walsender ends — at once when the active worker's process dies (its socket
 * closes), and after `wal_sender_timeout` when the worker hangs with its socket
 * open. The standby polls `pg_replication_slots` on an ordinary connection and,
 * once the slot is inactive, runs the whole preflight again: two standbys may
 * both see it free, and the one that loses the race waits again (or its first
 * stream start is refused and retried, as after any lost connection).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { describeError } from '../errors.ts';
import { describeHolder } from '../source/preflight.ts';
import type { Telemetry } from '../observe/telemetry.ts';

export interface StandbyOptions {
  connection: pg.ClientConfig;
  slot: string;
  pollIntervalMs: number;
  telemetry: Telemetry;
  logger: Logger;
  /** Stops the wait: it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Runs before each (re)connect, e.g. to look for the primary again among several hosts; a throw counts as a failed poll. */
  beforeConnect?: () => Promise<unknown>;
}

/** Thrown out of startWorker when it is stopped while it waits as a standby. */
export class StoppedWhileStandby extends Error {
  constructor(reason: string) {
    super(`stopped while waiting as a standby (${reason})`);
  }
}

/**
 * Waits until the slot is not active (or gone). `holder` is who streams it now,
 * from the preflight. Resolves with the time waited (ms).
 */
export async function waitForSlot(holder: string, options: StandbyOptions): Promise<number> {
  const { telemetry, logger, slot, signal } = options;
  const startedAt = Date.now();
  telemetry.state = 'standby';
  telemetry.standbyFor = holder;
  logger.info({ slot, holder }, 'standby: another process streams the slot; waiting to take over');
  let client: pg.Client | null = null;
  let lastProblem: string | null = null;
  try {
    for (;;) {
      await pause(options.pollIntervalMs, signal);
      try {
        if (client === null) {
          await options.beforeConnect?.();
          client = await connect(options.connection);
        }
        const { rows } = await client.query('SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        if (rows.length === 0 || !rows[0].active) break;
        const now = await describeHolder(client, { activePid: rows[0].active_pid });
        if (now !== telemetry.standbyFor) logger.info({ slot, holder: now }, 'standby: the slot changed hands; still waiting');
        telemetry.standbyFor = now;
        lastProblem = null;
      } catch (err) {
        // The server may be restarting or failing over: a standby keeps waiting, and says so once.
        const problem = describeError(err);
        if (problem !== lastProblem) logger.warn({ slot, err: problem }, 'standby: cannot read the slot state; retrying');
        lastProblem = problem;
        await client?.end().catch(() => undefined);
        client = null;
      }
    }
  } finally {
    await client?.end().catch(() => undefined);
    telemetry.standbyFor = null;
    telemetry.state = 'starting';
  }
  const waited = Date.now() - startedAt;
  logger.info({ slot, waitedMs: waited }, 'standby: the slot was released; taking over');
  return waited;
}

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', () => undefined); // a lost connection fails the next query, which handles it
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new StoppedWhileStandby(String(signal.reason ?? 'stopped')));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new StoppedWhileStandby(String(signal?.reason ?? 'stopped')));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
