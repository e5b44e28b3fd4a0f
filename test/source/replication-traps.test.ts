/**
 * pg-logical-replication's traps (see src/source/replication-stream.ts), each
 * shown not to reach Postgres: nothing is confirmed before every sink has it,
 * not after 10 s either, never lsn+1, and a reconnect resumes from the
 * confirmed position rather than from the last received one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePgoutput } from '../../src/source/pgoutput-decoder.ts';
import { formatLsn, parseLsn, type Lsn } from '../../src/lsn.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, runInProcess, writeConfig } from '../e2e/support.ts';
import { createGatedSink, type GatedSink } from '../e2e/gated-sink.ts';

describe('replication traps', () => {
  let db: FreshDatabase;
  let slot: string;
  let publication: string;
  const peek = uniqueName('peek');
  const gated: GatedSink = createGatedSink('gated', true);
  let worker: Awaited<ReturnType<typeof runInProcess>>;

  const slotState = async (): Promise<{ confirmed: Lsn; pid: number | null }> => {
    const [row] = await db.sql('SELECT confirmed_flush_lsn::text AS lsn, active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    return { confirmed: parseLsn(row.lsn), pid: row.active_pid };
  };

  /** End LSNs of the commits so far, read from a second slot created beside ours. */
  const commitEnds = async (): Promise<Lsn[]> => {
    const rows = await db.sql(`SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`, [peek, publication]);
    return rows.map((r) => decodePgoutput(r.data)).flatMap((m) => (m.tag === 'commit' ? [m.endLsn] : []));
  };

  const eventsFor = (value: string) => gated.received.filter((e) => (e.after as any)?.v === value);

  beforeAll(async () => {
    db = await freshDatabase('traps');
    slot = uniqueName('slot');
    publication = uniqueName('pub');
    await db.sql('CREATE TABLE public.t (id int PRIMARY KEY, v text)');
    const config = await writeConfig({ db, slot, publication, topicPrefix: 'traps', tables: ['public.t'], batchMaxEvents: 1 });
    worker = await runInProcess(config, { sinks: [gated] });
    await eventually(async () => (await slotState()).pid !== null, 20_000, 'slot active');
    // The sink's first write goes through first: the tests below hold a later write and
    // watch what is read and confirmed meanwhile.
    await db.sql(`INSERT INTO public.t VALUES (0, 'first')`);
    await eventually(() => gated.written.length === 1, 20_000, 'the first write');
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [peek]);
  });

  afterAll(async () => {
    gated.open();
    await worker?.stop();
  });

  it('confirms exactly the end of the last transaction every sink has, and nothing later, even after 10 s', async () => {
    // One event per write, and tx2 queued before tx1 is acknowledged: the pipeline is never
    // idle in between, so WAL that other databases write cannot move the confirmed position.
    gated.close();
    const routed = worker.pipeline.stats().events;
    await db.sql(`INSERT INTO public.t VALUES (1, 'tx1')`);
    await db.sql(`INSERT INTO public.t VALUES (2, 'tx2')`);
    await eventually(() => worker.pipeline.stats().events >= routed + 2 && eventsFor('tx1').length === 1, 20_000, 'tx1 and tx2 received');
    gated.allow(1);
    await eventually(() => gated.written.some((e) => (e.after as any)?.v === 'tx1'), 20_000, 'tx1 written');
    await eventually(() => eventsFor('tx2').length === 1, 20_000, 'tx2 handed to the sink');
    const [endTx1, endTx2] = await commitEnds();

    // The library's timer would confirm the last received LSN after 10 s; watch for 11 s.
    const seen = new Set<string>();
    for (const until = Date.now() + 11_000; Date.now() < until; ) {
      seen.add(formatLsn((await slotState()).confirmed));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...seen].filter((lsn) => parseLsn(lsn) > endTx1)).toEqual([]);
    // exactly the commit end: not lsn+1, and reached although tx2 is still in flight
    expect(formatLsn((await slotState()).confirmed)).toBe(formatLsn(endTx1));

    gated.open();
    await eventually(async () => (await slotState()).confirmed >= endTx2, 20_000, 'confirmed reaches tx2');
  }, 60_000);

  it('after the connection drops, resumes from the confirmed position, not the last received one', async () => {
    gated.close();
    await db.sql(`INSERT INTO public.t VALUES (3, 'tx3')`);
    await eventually(() => eventsFor('tx3').length === 1, 20_000, 'tx3 received');
    const before = await slotState();
    const ends = await commitEnds();
    const endTx3 = ends[ends.length - 1];
    expect(before.confirmed < endTx3).toBe(true);

    await db.sql('SELECT pg_terminate_backend($1)', [before.pid]);
    await eventually(async () => {
      const s = await slotState();
      return s.pid !== null && s.pid !== before.pid;
    }, 20_000, 'reconnected');
    expect((await slotState()).confirmed < endTx3).toBe(true);

    gated.open();
    // tx3 arrives a second time: the new session started before it, at the confirmed position.
    await eventually(() => eventsFor('tx3').length === 2, 20_000, 'tx3 re-sent after reconnect');
    await eventually(async () => (await slotState()).confirmed >= endTx3, 20_000, 'confirmed reaches tx3');
  }, 60_000);

  it('advances an idle slot while other databases write WAL', async () => {
    const other = await freshDatabase('traps_other');
    await other.sql('CREATE TABLE busy (id serial PRIMARY KEY, v text)');
    await other.sql(`INSERT INTO busy (v) SELECT 'x' FROM generate_series(1, 1000)`);
    const [{ lsn }] = await other.sql('SELECT pg_current_wal_lsn()::text AS lsn');
    const target = parseLsn(lsn);
    await eventually(async () => (await slotState()).confirmed >= target, 30_000, `idle slot confirmed past ${lsn}`);
  }, 60_000);
});
