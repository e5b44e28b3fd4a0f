/**
 * Replication slots a test file leaves behind, dropped when the file ends.
 *
 * Workers stop at the end of their tests but keep their slots, as in
 * production. On the shared servers those slots would pile up across the
 * run, each holding WAL, until the server's max_replication_slots refuses the
 * next test's slot ("all 100 slots … are in use"): a full run left ~99.
 * Every database a file creates (PgEndpoint.createDatabase) is remembered;
 * when the file ends, the slots of those databases that no session holds are
 * dropped. A slot still held a while after the file's own after-hooks
 * belongs to a worker the file left running: it stays.
 */
import pg from 'pg';
import type { PgEndpoint } from './postgres.ts';

const databases = new Map<string, { endpoint: Pick<PgEndpoint, 'url'>; names: Set<string> }>();

/** Remembers a database this file created on `endpoint`. */
export function rememberDatabase(endpoint: Pick<PgEndpoint, 'url'>, name: string): void {
  const key = endpoint.url();
  const entry = databases.get(key) ?? { endpoint, names: new Set<string>() };
  entry.names.add(name);
  databases.set(key, entry);
}

/** How long a slot may stay held after the file's after-hooks: a stopped worker's session ends a moment after it closed. */
const RELEASE_WAIT_MS = 10_000;

/** Drops the slots of every database this file created, once no session holds them. */
export async function dropLeftoverSlots(): Promise<void> {
  const entries = [...databases.values()];
  databases.clear();
  await Promise.all(entries.map(({ endpoint, names }) => dropSlotsOf(endpoint.url(), [...names])));
}

async function dropSlotsOf(serverUrl: string, names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  // A private server the file stopped is gone with its slots.
  if (!(await client.connect().then(() => true, () => false))) return;
  try {
    for (const deadline = Date.now() + RELEASE_WAIT_MS; ; ) {
      const { rows } = await client.query<{ slot: string; active: boolean }>(
        'SELECT slot_name::text AS slot, active FROM pg_replication_slots WHERE database = ANY($1::text[])',
        [names],
      );
      for (const { slot } of rows.filter((r) => !r.active)) {
        // Taken or dropped meanwhile by someone else: not ours to insist on.
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
      }
      if (!rows.some((r) => r.active) || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch {
    // The server went away meanwhile (a file that stops its own server).
  } finally {
    await client.end().catch(() => undefined);
  }
}
