/**
 * What the snapshot end-to-end tests share: an application write load that
 * runs while slotline snapshots and streams.
 */
import type { FreshDatabase } from '../harness/context.ts';

export interface Writer {
  /** Stops after the statement in flight; resolves with the number of statements committed. */
  stop(): Promise<number>;
}

/** One statement per transaction, as fast as it goes: inserts of new ids, updates (and deletes) of random ones. */
export function startWriter(
  db: FreshDatabase, tables: string[], firstId: number, options: { deletes: boolean; pauseMs?: number }, random: () => number,
): Writer {
  let running = true;
  let committed = 0;
  let nextId = firstId;
  const loop = (async () => {
    while (running) {
      const table = tables[Math.floor(random() * tables.length)];
      const pick = random();
      const id = 1 + Math.floor(random() * (nextId - 1));
      if (pick < 0.3) await db.sql(`INSERT INTO ${table} (id, n) VALUES ($1, 0)`, [nextId++]);
      else if (pick < 0.9 || !options.deletes) await db.sql(`UPDATE ${table} SET n = n + 1 WHERE id = $1`, [id]);
      else await db.sql(`DELETE FROM ${table} WHERE id = $1`, [id]);
      committed++;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return committed;
    },
  };
}
