/**
 * CREATE_REPLICATION_SLOT does not answer until every transaction that was
 * running on the server when it began (in any database, with a transaction id)
 * has ended: a logical slot starts at a point no running transaction
 * precedes. One forgotten `idle in transaction` session on another database
 * holds a first start for as long as it lives, and the command says nothing
 * meanwhile. This watch asks the server which sessions the creating session
 * waits for (`pg_blocking_pids`) and logs them, with what to do, after
 * FIRST_AFTER_MS and then every EVERY_MS, until the slot is made.
 */
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';

const FIRST_AFTER_MS = 10_000;
const EVERY_MS = 60_000;
/** Longest a check may take to connect, or to answer. */
const CHECK_TIMEOUT_MS = 10_000;

/** A session, or a prepared transaction, that the slot's creation waits for. */
export interface BlockingTransaction {
  /** Null for a prepared transaction (it has no session). */
  pid: number | null;
  database: string | null;
  user: string | null;
  application: string | null;
  /** pg_stat_activity.state, or `prepared` with the transaction's gid. */
  state: string;
  /** How long the transaction has been open. */
  seconds: number | null;
  /** The session's last statement, cut to 200 characters. */
  query: string | null;
}

/**
 * While a slot is being created it is listed already, held by the session that
 * creates it, without a confirmed position: that session's blockers are what
 * the creation waits for.
 */
const BLOCKERS_SQL = `
  WITH creator AS (
    SELECT active_pid AS pid FROM pg_replication_slots
     WHERE slot_name = $1 AND confirmed_flush_lsn IS NULL AND active_pid IS NOT NULL)
  SELECT a.pid, a.datname AS database, a.usename AS "user", a.application_name AS application, a.state,
         floor(extract(epoch FROM now() - a.xact_start))::int AS seconds, left(a.query, 200) AS query
    FROM creator c JOIN pg_stat_activity a ON a.pid = ANY(pg_blocking_pids(c.pid))
  UNION ALL
  SELECT NULL, p.database, p.owner, NULL, 'prepared (gid ' || p.gid || ')',
         floor(extract(epoch FROM now() - p.prepared))::int, NULL
    FROM creator c
    JOIN pg_locks w ON w.pid = c.pid AND w.locktype = 'transactionid' AND NOT w.granted
    JOIN pg_prepared_xacts p ON p.transaction = w.transactionid
  ORDER BY 6 DESC NULLS LAST`;

/** What the creation of `slot` waits for now; empty when it is not being created or waits for nothing. */
async function blockingTransactions(connection: ClientConfig, slot: string): Promise<BlockingTransaction[]> {
  // Bounded: the slot's creation waits for this check to end (stop()).
  const client = new pg.Client({ ...connection, application_name: 'slotline-admin', connectionTimeoutMillis: CHECK_TIMEOUT_MS, statement_timeout: CHECK_TIMEOUT_MS });
  client.on('error', () => undefined); // surfaced by the query
  await client.connect();
  try {
    return (await client.query<BlockingTransaction>(BLOCKERS_SQL, [slot])).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface SlotCreationWatch {
  /** The slot is made, or its creation failed: no more checks. Waits for one under way. */
  stop(): Promise<void>;
}

/** Watches the creation of `slot`, from before it is requested until stop(). `connection`: a normal (not replication) one. */
export function watchSlotCreation(
  { connection, slot, logger }: { connection: ClientConfig; slot: string; logger: Logger },
): SlotCreationWatch {
  const started = Date.now();
  let stopped = false;
  let checking: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;

  const check = async (): Promise<void> => {
    const blockers = await blockingTransactions(connection, slot).catch((err: unknown) => {
      logger.debug({ slot, err: (err as Error).message }, 'cannot ask which transactions the slot creation waits for');
      return null;
    });
    if (stopped || blockers === null || blockers.length === 0) return;
    logger.warn({
      slot,
      waitingSeconds: Math.round((Date.now() - started) / 1000),
      transactions: blockers,
      hint: 'a new slot starts only once every transaction that was running when it was requested has ended, in any database of the server; '
        + 'commit or roll back these, or end their sessions (SELECT pg_terminate_backend(pid)); a prepared one with COMMIT PREPARED or ROLLBACK PREPARED',
    }, 'creating the slot waits for transactions running on the server');
  };
  const schedule = (delay: number): void => {
    timer = setTimeout(() => {
      checking = check().finally(() => {
        if (!stopped) schedule(EVERY_MS);
      });
    }, delay);
    timer.unref();
  };
  schedule(FIRST_AFTER_MS);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await checking;
    },
  };
}
