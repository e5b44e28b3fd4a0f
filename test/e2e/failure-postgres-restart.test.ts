/**
 * PostgreSQL restarted under slotline (a private server: `restart()` is a fast
 * shutdown and a start on the same port and data). The replication connection,
 * the catalog pool and the heartbeat all lose their connections; slotline must
 * not exit, must reconnect with backoff from the slot's confirmed position,
 * and deliver every committed change, in order per key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { readTopics, runInProcess, writeConfig } from './support.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, openTopicAdmin, perKeyOrder, prepareCapture, readerCaughtUp,
  seededRandom, sleep, startLoad, testSeed, withRuntime, type LoadOptions, type LoadSummary,
} from './failure-support.ts';

describe('PostgreSQL restart', () => {
  let server: PgServer;
  let db: FreshDatabase;

  beforeAll(async () => {
    server = await startPostgres({ major: 17 });
    const database = 'restart';
    await server.createDatabase(database);
    db = { ...server, database, databaseUrl: server.url(database), sql: (sql, params) => server.query(sql, params, database) };
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('reconnects from the confirmed position and loses nothing', async () => {
    const seed = testSeed();
    const brokers = kafkaBrokers();
    const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName('slot'), uniqueName('oracle'), uniqueName('restart')];
    const topic = `${prefix}.public.${table}`;
    const oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
    const admin = await openTopicAdmin(brokers);
    await admin.create(topic);
    const config = await writeConfig({ db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle', heartbeatIntervalMs: 200 });
    await withRuntime(config, { batch_max_events: 20 }); // small batches: a backlog is in flight when the server goes
    const worker = await runInProcess(config);
    let ended: string | null = null;
    worker.running.then(() => (ended ??= 'returned'), (err) => (ended ??= `failed: ${err}`));
    const reader = await readTopics(brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    try {
      const random = seededRandom(seed);
      const loadOptions: LoadOptions = { table, keys: 30, opsPerTx: [1, 5], payloadBytes: 200, pauseMs: 2, random };
      let changes = 0;
      let summary: LoadSummary | undefined;
      for (let round = 0; round < 3; round++) {
        // Each round continues the previous one's keys and event numbers.
        const load = startLoad(db, { ...loadOptions, resume: summary });
        await sleep(1500);
        summary = await load.stop();
        changes += summary.changes;
        await server.restart();
        expect(ended).toBeNull();
      }
      await oracle.sync();
      await reader.waitFor((all) => allDelivered(oracle.txs, changeRecords(all, topic)), 60_000);
      expect(ended).toBeNull();
      await worker.stop('test done');
      await readerCaughtUp(reader, admin, topic);
      const records = changeRecords(reader.records, topic);
      const report = analyzeDelivery(oracle.txs, records);
      expect(report.expected).toBe(changes);
      expect(report.missing).toEqual([]);
      expect(report.problems).toEqual([]);
      expect(perKeyOrder(records, summary!.lastEvent)).toEqual([]);
      console.log(`[failure-postgres-restart] seed ${seed}: ${changes} changes over 3 restarts, ${report.duplicates} replayed`);
    } finally {
      await reader.close();
      await admin.close();
      await worker.stop().catch(() => undefined);
    }
  }, 180_000);
});
