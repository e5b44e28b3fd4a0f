/**
 * A PostgreSQL failover under a write load, with a failover slot (PG 17):
 * a primary and a physical standby that synchronizes the slot
 * (sync_replication_slots, hot_standby_feedback, synchronized_standby_slots),
 * slotline given both hosts. Mid-load the primary stops and the standby is
 * promoted; slotline streams from the synced slot on the new primary, every
 * committed change reaches Kafka, and `slotline verify` finds no drift. Twice:
 * with the worker following the promotion (it resumes from its own
 * checkpoint), and with the worker killed and started again (it resumes from
 * the synced slot's position, which may lag: changes come again, at least once).
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName } from '../harness/context.ts';
import type { PgEndpoint } from '../harness/postgres.ts';
import { eventually, readTopics, runInProcess, spawnWorker, writeConfig, type ConsumedRecord, type TopicReader } from './support.ts';
import { runVerify } from './verify-support.ts';
import { setStandbySlots, startFailoverPair, waitForSyncedSlot, type FailoverPair } from './failover-support.ts';

const SEED = 200;
const BEFORE = 150; // load transactions before the failover
const AFTER = 150; // and after it, on the new primary

/** Inserts new ids and updates earlier ones, one transaction each, on whichever server `target()` names; records what committed. */
function startLoad(target: () => PgEndpoint) {
  const committed: number[] = [];
  let failures = 0;
  let running = true;
  let nextId = SEED + 1;
  const loop = (async () => {
    while (running) {
      const id = nextId;
      try {
        await target().query('INSERT INTO public.items (id, n) VALUES ($1, 0)', [id], 'app');
        nextId++;
        committed.push(id);
        await target().query('UPDATE public.items SET n = n + 1 WHERE id = $1', [1 + ((id * 7) % SEED)], 'app');
      } catch {
        // The primary is gone, or the standby is still read-only: try again shortly.
        failures++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    committed,
    failures: () => failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

const idsIn = (records: ConsumedRecord[]): Set<number> => {
  const ids = new Set<number>();
  for (const r of records) {
    if (r.value === null) continue;
    const value = JSON.parse(r.value);
    const after = (value.payload ?? value).after;
    if (after) ids.add(after.id);
  }
  return ids;
};

/**
 * reconnect: the worker keeps running and follows the promotion (from its own checkpoint);
 * restart: the worker is SIGKILLed as the primary stops, and a new one starts on the
 * promoted standby, from the synced slot's position, which may lag: changes re-sent.
 */
describe.each(['reconnect', 'restart'] as const)('failover slots: promotion of a standby under load (%s)', (mode) => {
  let pair: FailoverPair;
  let reader: TopicReader | undefined;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    pair = await startFailoverPair('app');
    await setStandbySlots(pair);
  }, 180_000);
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await reader?.close();
    await pair?.stop();
  });

  it('streams from the promoted standby, loses no committed change, and verify finds no drift', async () => {
    const { db, primary, standby } = pair;
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL)');
    await db.sql(`INSERT INTO public.items SELECT i, 0 FROM generate_series(1, ${SEED}) i`);
    const slot = uniqueName('failover');
    const prefix = uniqueName('fo');
    const config = await writeConfig({
      db, slot, publication: 'failover_pub', topicPrefix: prefix, tables: ['public.items'], brokers: kafkaBrokers(),
      sourceExtra: `hosts: ["${primary.host}:${primary.port}", "${standby.host}:${standby.port}"]\nfailover: true\nconnect_timeout_ms: 3000`,
      mainExtra: 'snapshot: { mode: initial }',
    });
    const startWorker = async (): Promise<() => Promise<unknown>> => {
      if (mode === 'reconnect') {
        const worker = await runInProcess(config);
        return () => worker.stop();
      }
      const worker = spawnWorker(config);
      return async () => {
        worker.child.kill('SIGKILL');
        await worker.exited;
      };
    };
    let stopWorker = await startWorker();
    stops.push(() => stopWorker());
    // A consumer subscribes to the topics that match when it starts: wait for the broker to have it.
    const topic = `${prefix}.public.items`;
    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await eventually(async () => (await admin.listTopics()).includes(topic), 60_000, `topic ${topic} to exist`).finally(() => admin.disconnect());
    reader = await readTopics(kafkaBrokers(), new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    await reader.waitFor((records) => idsIn(records).size >= SEED, 120_000);
    await waitForSyncedSlot(pair, slot);

    let target: PgEndpoint = primary;
    const load = startLoad(() => target);
    stops.push(() => load.stop());
    await eventually(() => load.committed.length >= BEFORE, 120_000, `${BEFORE} transactions on the primary`);
    // The slot on the standby trails the primary's (at least once from here on).
    const [synced] = await standby.query('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (mode === 'restart') await stopWorker();
    await primary.stop();
    await standby.promote();
    target = standby;
    if (mode === 'restart') stopWorker = await startWorker();
    const atPromotion = load.committed.length;
    await eventually(() => load.committed.length >= atPromotion + AFTER, 120_000, `${AFTER} transactions on the new primary`);
    await load.stop();
    expect(load.failures()).toBeGreaterThan(0); // the load did see the outage

    // Every change the load saw commit is on the new primary (fast shutdown sent the standby all WAL) …
    const onNewPrimary = new Set((await standby.query('SELECT id FROM public.items', [], 'app')).map((r) => r.id as number));
    expect(load.committed.filter((id) => !onNewPrimary.has(id))).toEqual([]);
    // … and in Kafka: nothing lost (what the synced slot had not confirmed may come twice).
    await reader.waitFor((records) => load.committed.every((id) => idsIn(records).has(id)), 120_000);
    // slotline streams the slot on the new primary, which moved past where it was synced.
    await eventually(async () => {
      const [row] = await standby.query(
        `SELECT s.active, a.application_name, s.confirmed_flush_lsn > $2::pg_lsn AS moved
           FROM pg_replication_slots s LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid WHERE s.slot_name = $1`,
        [slot, synced.lsn],
      );
      return row?.active === true && row.application_name === 'slotline' && row.moved === true;
    }, 60_000, 'slotline to stream the slot on the new primary');

    const run = await runVerify(config, 'kafka', ['--tables', 'public.items']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.report).toMatchObject({ drift: false, totals: { missing: 0, stale: 0, extra: 0 } });
    expect(run.report!.totals.rows).toBe(onNewPrimary.size);
  }, 600_000);
});
