/**
 * The rewind slot (source.rewind) against a real PostgreSQL: made with the
 * slot (or beside an existing one, saying so), moved forward on its own
 * connection so that it trails the main slot by the window — by commit time
 * or by WAL bytes — and never passes the main slot's confirmed position; its
 * retained WAL in the metrics and in `slotline status`; gone again with a
 * start that failed before confirming anything.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { esNode, freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { esClient, writeEsConfig } from './elasticsearch-support.ts';
import { eventually, runInProcess, runSlotline, spawnWorker, writeConfig } from './support.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

interface Positions {
  nowMs: number;
  main: bigint | null;
  rewind: bigint | null;
}

/** Both slots' confirmed positions and the server's clock, read at one instant. */
async function positions(db: FreshDatabase, slot: string): Promise<Positions> {
  const [row] = await db.sql(
    `SELECT (extract(epoch FROM now()) * 1000)::float8 AS now_ms,
            (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS main,
            (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1 || '_rewind') AS rewind`,
    [slot],
  );
  return { nowMs: row.now_ms, main: row.main ? parseLsn(row.main) : null, rewind: row.rewind ? parseLsn(row.rewind) : null };
}

async function prepare(name: string): Promise<{ db: FreshDatabase; slot: string; publication: string; topicPrefix: string }> {
  const db = await freshDatabase(name);
  await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n text NOT NULL)');
  return { db, slot: uniqueName(name), publication: uniqueName('pub'), topicPrefix: uniqueName(name) };
}

describe('by commit time', () => {
  it('is made with the slot, holds a transaction until it is older than the window, and never passes the slot', async () => {
    const target = await prepare('rewind_time');
    const retainMs = 6000;
    const config = await writeConfig({ ...target, tables: ['public.items'], sourceExtra: 'rewind: { retain: 6s, advance_interval_ms: 1000 }' });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await eventually(async () => (await positions(target.db, target.slot)).rewind !== null, 30_000, 'the rewind slot');
    const made = await positions(target.db, target.slot);
    expect(made.rewind).toBe(made.main); // a copy of the new slot

    // The transaction under test, then a marker whose source.sequence[0] is its end LSN.
    const [tx] = await target.db.sql(
      "WITH i AS (INSERT INTO public.items VALUES (1, 'one') RETURNING 1) SELECT (extract(epoch FROM now()) * 1000)::float8 AS started_ms FROM i",
    );
    const readings: Positions[] = [];
    await target.db.sql("INSERT INTO public.items VALUES (2, 'marker')");
    const console = join(dirname(config), 'console.jsonl');
    let txEnd: bigint | null = null;
    await eventually(async () => {
      readings.push(await positions(target.db, target.slot));
      txEnd ??= await endLsnBefore(console, 2);
      return txEnd !== null && readings.at(-1)!.rewind! >= txEnd;
    }, 60_000, 'the rewind slot to pass the transaction');
    // At every reading the rewind slot was behind the slot; it passed the transaction only once the
    // transaction (which committed after it started) was older than the window.
    for (const r of readings) {
      expect(r.rewind! <= r.main!, `rewind ${r.rewind} ≤ main ${r.main}`).toBe(true);
      if (r.rewind! >= txEnd!) expect(r.nowMs).toBeGreaterThan(tx.started_ms + retainMs);
    }
    expect(readings.some((r) => r.rewind! < txEnd!)).toBe(true);

    const metrics = await worker.operations.metricsText();
    expect(metrics).toMatch(/^slotline_rewind_slot_retained_wal_bytes \d+/m);
    expect(metrics).toMatch(/^slotline_rewind_advances_total [1-9]\d*/m);
    expect(metrics).toMatch(/^slotline_rewind_window_seconds \d/m);
    const status = worker.operations.status() as { rewind: { slot: string; retain: string; retainedWalBytes: number } };
    expect(status.rewind).toMatchObject({ slot: `${target.slot}_rewind`, retain: '6s' });
    expect(status.rewind.retainedWalBytes).toBeGreaterThanOrEqual(0);

    const cli = await runSlotline(['status', '--config', config]);
    expect(cli.stdout).toMatch(new RegExp(`rewind slot +${target.slot}_rewind \\(retain 6s\\): confirmed LSN [0-9A-F]+/[0-9A-F]+, retained WAL [0-9.]+ [KMG]?i?B`));
  });
});

/** The end LSN of the transaction before the row `id`: that row's source.sequence[0], from the console sink's file; null until it is there. */
async function endLsnBefore(file: string, id: number): Promise<bigint | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n').filter(Boolean)) {
    const { value } = JSON.parse(line);
    if (value?.payload?.after?.id === id) return BigInt(JSON.parse(value.payload.source.sequence)[0]);
  }
  return null;
}

describe('by WAL size', () => {
  it('stays at least the window behind the confirmed position, and moves', async () => {
    const target = await prepare('rewind_wal');
    const config = await writeConfig({ ...target, tables: ['public.items'], sourceExtra: 'rewind: { retain: 1MiB, advance_interval_ms: 1000 }' });
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    await eventually(async () => (await positions(target.db, target.slot)).rewind !== null, 30_000, 'the rewind slot');
    const made = (await positions(target.db, target.slot)).rewind!;
    // About 4 MiB of WAL through the slot.
    for (let i = 0; i < 8; i++) await target.db.sql(`INSERT INTO public.items SELECT g, repeat('x', 200) FROM generate_series(${i * 2000 + 1}, ${(i + 1) * 2000}) g`);
    const [end] = await target.db.sql('SELECT pg_current_wal_lsn()::text AS lsn');
    await eventually(async () => {
      const p = await positions(target.db, target.slot);
      // Behind by the window at the moment of each advance; the slot only moved on since.
      expect(p.main! - p.rewind!).toBeGreaterThanOrEqual(2n ** 20n);
      return p.main! >= parseLsn(end.lsn) && p.rewind! > made && p.rewind! >= parseLsn(end.lsn) - 2n * 2n ** 20n;
    }, 60_000, 'the rewind slot to follow within the window');
  });
});

describe('beside a slot that already exists', () => {
  it('is made at start, and the log says it holds history only from then on', async () => {
    const target = await prepare('rewind_existing');
    await target.db.sql(`CREATE PUBLICATION ${target.publication} FOR TABLE public.items`);
    await target.db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [target.slot]);
    const config = await writeConfig({ ...target, tables: ['public.items'], logLevel: 'info', mainExtra: 'snapshot: { mode: no_data }', sourceExtra: 'rewind: { retain: 1h }' });
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    await eventually(() => worker.output().includes('created the rewind slot, which was missing: it holds history only from'), 30_000, worker.output());
    const p = await positions(target.db, target.slot);
    expect(p.rewind).toBe(p.main);
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
  });
});

describe('a start that fails before confirming anything', () => {
  it('drops the rewind slot it created, with the slot', async () => {
    const target = await prepare('rewind_failed');
    await target.db.sql("INSERT INTO public.items VALUES (3, 'not a number')");
    const index = `${target.topicPrefix}-items`;
    const es = esClient(esNode());
    cleanup.push(() => es.close());
    await es.indices.create({ index, mappings: { dynamic: 'strict', properties: { id: { type: 'integer' }, n: { type: 'integer' } } } });
    const config = await writeEsConfig({
      ...target, tables: ['public.items'], node: esNode(), logLevel: 'info',
      sourceExtra: 'rewind: { retain: 1h }', sinkExtra: `index: "${index}"\non_record_error: fail`,
    });
    const worker = spawnWorker(config);
    cleanup.push(async () => worker.child.kill('SIGKILL'));
    expect(await worker.exited, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/created the rewind slot beside the new slot/);
    expect(worker.output()).toMatch(/dropped the rewind slot this start created/);
    expect(worker.output()).toMatch(/dropped the replication slot this start created/);
    expect(await positions(target.db, target.slot)).toMatchObject({ main: null, rewind: null });
  });
});
