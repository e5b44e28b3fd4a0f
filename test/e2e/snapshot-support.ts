/**
 * What the snapshot end-to-end tests share: an application write load that
 * runs while slotline snapshots and streams, a Redis cache beside the sink
 * under test, and the checks that a sink equals the table.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import { kafkaBrokers, type FreshDatabase } from '../harness/context.ts';
import { readIndex } from './elasticsearch-support.ts';
import { openTopicAdmin } from './failure-support.ts';
import { eventually, readTopics, type TopicReader } from './support.ts';

export interface Writer {
  /** Statements committed so far, and of those the inserts. */
  readonly committed: number;
  readonly inserted: number;
  /** Stops after the statement in flight; resolves with the number of statements committed. */
  stop(): Promise<number>;
}

/** One statement per transaction, as fast as it goes: inserts of new ids, updates (and deletes) of random ones. */
export function startWriter(
  db: FreshDatabase, tables: string[], firstId: number, options: { deletes: boolean; pauseMs?: number }, random: () => number,
): Writer {
  let running = true;
  let committed = 0;
  let inserted = 0;
  let nextId = firstId;
  const loop = (async () => {
    while (running) {
      const table = tables[Math.floor(random() * tables.length)];
      const pick = random();
      const id = 1 + Math.floor(random() * (nextId - 1));
      if (pick < 0.3) {
        await db.sql(`INSERT INTO ${table} (id, n) VALUES ($1, 0)`, [nextId++]);
        inserted++;
      }
      else if (pick < 0.9 || !options.deletes) await db.sql(`UPDATE ${table} SET n = n + 1 WHERE id = $1`, [id]);
      else await db.sql(`DELETE FROM ${table} WHERE id = $1`, [id]);
      committed++;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  })();
  return {
    get committed() {
      return committed;
    },
    get inserted() {
      return inserted;
    },
    async stop() {
      running = false;
      await loop;
      return committed;
    },
  };
}

/** Adds a Redis sink file to a config: `refresh` keys `<prefix>:item:{id}` for public.items. */
export async function addCacheSink(configPath: string, prefix: string, url: string): Promise<void> {
  await writeFile(join(dirname(configPath), 'sinks', 'cache.yaml'), `name: cache
type: redis
url: ${url}
checkpoint_key: "${prefix}:checkpoint"
fence_prefix: "${prefix}:fence:"
rules:
  - tables: ["public.items"]
    refresh: { key: "${prefix}:item:{id}" }
`);
}

export interface ItemRow {
  id: number;
  n: number;
}

/** Waits until the writer has committed `statements` more statements, `inserts` more of them inserts. */
export async function writerProgress(writer: Writer, statements: number, inserts: number): Promise<void> {
  const [committed, inserted] = [writer.committed, writer.inserted];
  await eventually(() => writer.committed >= committed + statements && writer.inserted >= inserted + inserts, 60_000, `${statements} more statements (${inserts} inserts) from the writer`);
}

/** Waits until `mismatches()` is empty; on timeout, fails with the first ten. */
export async function waitUntilEqual(mismatches: () => Promise<string[]>, what: string): Promise<void> {
  await eventually(async () => (await mismatches()).length === 0, 60_000, what).catch(async (err) => {
    throw new Error(`${err.message}\n${(await mismatches()).slice(0, 10).join('\n')}`);
  });
}

/** Rows whose document is missing or holds another `n`, and a count mismatch (a document for a deleted row). */
export async function indexMismatches(es: Client, index: string, rows: readonly ItemRow[]): Promise<string[]> {
  const docs = await readIndex(es, index);
  const out = rows.filter((r) => docs.get(String(r.id))?.n !== r.n).map((r) => `${r.id}: ${JSON.stringify(docs.get(String(r.id)))} (table n=${r.n})`);
  if (docs.size !== rows.length) out.push(`${docs.size} documents for ${rows.length} rows`);
  return out;
}

/** Rows whose `refresh` key is missing or holds another `n`. */
export async function cacheMismatches(redis: Redis, prefix: string, rows: readonly ItemRow[]): Promise<string[]> {
  const values = await redis.mget(...rows.map((r) => `${prefix}:item:${r.id}`));
  return rows.flatMap((r, i) => (values[i] !== null && JSON.parse(values[i]!).n === r.n ? [] : [`item:${r.id}: ${values[i]} (table n=${r.n})`]));
}

/**
 * A consumer of `topics`, created first (one partition each, so a table's
 * records keep their order): the consumer resolves its topics when it subscribes.
 */
export async function readNewTopics(topics: readonly string[]): Promise<TopicReader> {
  const admin = await openTopicAdmin(kafkaBrokers());
  try {
    for (const topic of topics) await admin.create(topic);
  } finally {
    await admin.close();
  }
  return readTopics(kafkaBrokers(), new RegExp(`^(${topics.map((t) => t.replace(/\./g, '\\.')).join('|')})$`));
}
