/**
 * Hot standby (source.standby): two `slotline run` processes on one config and
 * a write load into Kafka. The second waits, alive and not ready, while the
 * first streams the slot; once the server releases the slot it takes over:
 * - SIGKILL of the active worker: its socket closes, the server ends its
 *   walsender at once, and the standby streams within seconds (measured);
 * - SIGSTOP (a hung worker): the socket stays open, so the server keeps the
 *   slot until wal_sender_timeout ends the stalled walsender; only then does
 *   the standby take over.
 * Either way every committed change reaches Kafka, each key in order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, uniqueName } from '../harness/context.ts';
import { eventually, httpAddress, readTopics, spawnWorker, writeConfig, type TopicReader, type WorkerProcess } from './support.ts';
import {
  allDelivered, analyzeDelivery, changeRecords, dropSlots, openProbe, openTopicAdmin, perKeyOrder, prepareCapture,
  readerCaughtUp, seededRandom, startLoad, testSeed, type Probe, type TopicAdmin,
} from './failure-support.ts';

async function readyz(worker: WorkerProcess, query = ''): Promise<{ status: number; reasons: string[] } | null> {
  const address = httpAddress(worker.output());
  if (address === null) return null;
  const response = await fetch(`${address}/readyz${query}`).catch(() => null);
  if (response === null) return null;
  const body = (await response.json()) as { reasons?: string[] };
  return { status: response.status, reasons: body.reasons ?? [] };
}

async function healthz(worker: WorkerProcess): Promise<number | null> {
  const address = httpAddress(worker.output());
  if (address === null) return null;
  return (await fetch(`${address}/healthz`).catch(() => null))?.status ?? null;
}

describe('hot standby: a second worker takes the slot over', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  /** A pair of workers on one config, a write load, and what the test reads. */
  async function setUp(name: string) {
    const brokers = kafkaBrokers();
    const db = await freshDatabase(name);
    const [table, publication, slot, oracleSlot, prefix] = ['items', uniqueName('pub'), uniqueName('standby'), uniqueName('oracle'), uniqueName(name)];
    const topic = `${prefix}.public.${table}`;
    const oracle = await prepareCapture(db, { table, publication, slot, oracleSlot });
    cleanup.push(() => oracle.close(), () => dropSlots(db, [slot, oracleSlot]));
    const probe: Probe = await openProbe(db);
    cleanup.push(() => probe.close());
    const admin: TopicAdmin = await openTopicAdmin(brokers);
    cleanup.push(() => admin.close());
    await admin.create(topic);
    const reader: TopicReader = await readTopics(brokers, new RegExp(`^${topic.replace(/\./g, '\\.')}$`));
    cleanup.push(() => reader.close());
    const config = await writeConfig({
      db, slot, publication, topicPrefix: prefix, tables: [`public.${table}`], brokers, logLevel: 'info',
      sourceExtra: 'standby: { enabled: true, poll_interval_ms: 200 }\nwal_sender_timeout_ms: 4000',
      mainExtra: 'schemas_enable: false\nsnapshot: { mode: no_data } # the slot is made by the test, for the oracle',
    });
    const seed = testSeed();
    const load = startLoad(db, { table, keys: 25, opsPerTx: [1, 4], payloadBytes: 120, pauseMs: 5, random: seededRandom(seed) });
    const workers: WorkerProcess[] = [];
    cleanup.push(async () => {
      for (const w of workers) w.child.kill('SIGKILL');
    });
    const spawn = (): WorkerProcess => {
      const w = spawnWorker(config);
      workers.push(w);
      return w;
    };
    return { db, slot, topic, oracle, probe, admin, reader, load, seed, spawn };
  }

  type Setup = Awaited<ReturnType<typeof setUp>>;

  /** Starts the active worker and the standby; returns them once the standby reports that it waits. */
  async function startPair(s: Setup): Promise<{ active: WorkerProcess; standby: WorkerProcess; activePid: number }> {
    const active = s.spawn();
    await eventually(async () => (await readyz(active))?.status === 200 || active.child.exitCode !== null, 60_000, 'the first worker to stream');
    expect(active.child.exitCode, active.output()).toBeNull();
    const activePid = (await s.probe.slot(s.slot)).activePid!;
    const standby = s.spawn();
    await eventually(async () => ((await readyz(standby))?.reasons ?? []).some((r) => r.startsWith('standby:')) || standby.child.exitCode !== null, 60_000, 'the second worker to wait as a standby');
    expect(standby.child.exitCode, standby.output()).toBeNull();
    expect((await readyz(standby))?.status).toBe(503);
    expect(await healthz(standby)).toBe(200); // alive: a liveness probe must not restart a waiting standby
    // The Kubernetes readiness probe's form: a standby is ready to take over, so both replicas count as available.
    expect(await readyz(standby, '?exclude=standby')).toEqual({ status: 200, reasons: [] });
    expect((await readyz(active, '?exclude=standby'))?.status).toBe(200);
    expect((await s.probe.slot(s.slot)).activePid).toBe(activePid);
    // Changes flow through the first worker meanwhile.
    const before = await s.admin.endOffset(s.topic);
    await eventually(async () => (await s.admin.endOffset(s.topic)) > before, 30_000, 'the first worker writing to Kafka');
    return { active, standby, activePid };
  }

  /** Stops the load, waits until every committed change is in Kafka, stops the standby cleanly and checks order. */
  async function finish(s: Setup, standby: WorkerProcess, label: string): Promise<void> {
    const summary = await s.load.stop();
    await s.oracle.sync();
    await s.reader.waitFor((all) => allDelivered(s.oracle.txs, changeRecords(all, s.topic)), 60_000).catch((err) => {
      throw new Error(`${err.message}\nstandby output:\n${standby.output()}`);
    });
    standby.child.kill('SIGTERM');
    expect(await standby.exited, standby.output()).toBe(0);
    await readerCaughtUp(s.reader, s.admin, s.topic);
    const records = changeRecords(s.reader.records, s.topic);
    const report = analyzeDelivery(s.oracle.txs, records);
    console.log(`[hot-standby] ${label}, seed ${s.seed}: ${summary.transactions} txs, ${summary.changes} changes, ${records.length} records (${report.duplicates} replayed)`);
    expect(summary.changes).toBe(report.expected);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(perKeyOrder(records, summary.lastEvent)).toEqual([]);
  }

  it('SIGKILL of the active worker: the standby streams within seconds, and nothing is lost', async () => {
    const s = await setUp('standby_kill');
    const { active, standby, activePid } = await startPair(s);
    // A third one, stopped while it waits: a clean exit, nothing touched.
    const third = s.spawn();
    await eventually(async () => ((await readyz(third))?.reasons ?? []).some((r) => r.startsWith('standby:')) || third.child.exitCode !== null, 60_000, 'a third worker to wait');
    third.child.kill('SIGTERM');
    expect(await third.exited, third.output()).toBe(0);
    expect(third.output()).toContain('stopped while waiting as a standby (SIGTERM)');

    const killedAt = Date.now();
    active.child.kill('SIGKILL');
    expect(await active.exited).toBe('SIGKILL');
    await eventually(async () => (await readyz(standby))?.status === 200 || standby.child.exitCode !== null, 60_000, 'the standby to take over');
    const takeoverMs = Date.now() - killedAt;
    expect(standby.child.exitCode, standby.output()).toBeNull();
    const slot = await s.probe.slot(s.slot);
    expect(slot.active).toBe(true);
    expect(slot.activePid).not.toBe(activePid);
    expect(standby.output()).toContain('standby: the slot was released; taking over');
    console.log(`[hot-standby] takeover after SIGKILL: ${takeoverMs} ms from the kill to the standby's /readyz 200 (poll interval 200 ms)`);

    await finish(s, standby, `SIGKILL, takeover ${takeoverMs} ms`);
  }, 180_000);

  it('SIGSTOP of the active worker: the standby waits for wal_sender_timeout to end the stalled session, then takes over', async () => {
    const s = await setUp('standby_stop');
    const { active, standby, activePid } = await startPair(s);

    const stoppedAt = Date.now();
    active.child.kill('SIGSTOP');
    // The hung worker's socket is open: the server keeps its walsender, and so the slot, until the timeout.
    let heldWhileStopped = 0;
    await eventually(async () => {
      const slot = await s.probe.slot(s.slot);
      if (slot.active && slot.activePid === activePid) {
        heldWhileStopped++;
        // While the old session lives, the standby must not be streaming.
        expect((await readyz(standby))?.status).toBe(503);
        return false;
      }
      return true;
    }, 60_000, 'the server to end the stalled walsender');
    const releasedMs = Date.now() - stoppedAt;
    const sessions = await s.db.sql('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [activePid]);
    expect(sessions[0].n).toBe(0); // released because the server ended the walsender, not while it lived
    expect(heldWhileStopped).toBeGreaterThan(0);
    await eventually(async () => (await readyz(standby))?.status === 200 || standby.child.exitCode !== null, 60_000, 'the standby to take over');
    const takeoverMs = Date.now() - stoppedAt;
    expect(standby.child.exitCode, standby.output()).toBeNull();
    console.log(`[hot-standby] SIGSTOP: the server released the slot after ${releasedMs} ms (wal_sender_timeout_ms 4000), the standby streamed after ${takeoverMs} ms`);
    // A hung worker is killed by its supervisor (a liveness probe); it must not write again.
    active.child.kill('SIGKILL');
    await active.exited;

    await finish(s, standby, `SIGSTOP, takeover ${takeoverMs} ms`);
  }, 180_000);
});
