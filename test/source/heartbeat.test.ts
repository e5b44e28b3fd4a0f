/**
 * Heartbeats: with heartbeat_interval_ms set, slotline writes
 * pg_logical_emit_message records into the captured database's WAL, so its slot
 * sees traffic and advances even when its tables are idle — and no sink ever
 * receives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePgoutput } from '../../src/source/pgoutput-decoder.ts';
import { HEARTBEAT_PREFIX } from '../../src/runtime/change-router.ts';
import { parseLsn } from '../../src/lsn.ts';
import { freshDatabase, uniqueName, type FreshDatabase } from '../harness/context.ts';
import { eventually, runInProcess, writeConfig } from '../e2e/support.ts';
import { createGatedSink } from '../e2e/gated-sink.ts';

describe('heartbeats', () => {
  let db: FreshDatabase;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  const peek = uniqueName('peek');
  const sink = createGatedSink('recorder', true);
  let worker: Awaited<ReturnType<typeof runInProcess>>;

  beforeAll(async () => {
    db = await freshDatabase('heartbeat');
    await db.sql('CREATE TABLE public.quiet (id int PRIMARY KEY)');
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [peek]);
    const config = await writeConfig({ db, slot, publication, topicPrefix: 'hb', tables: ['public.quiet'], heartbeatIntervalMs: 200 });
    worker = await runInProcess(config, { sinks: [sink] });
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('writes heartbeat messages into the WAL, advances the slot past them, and routes none to sinks', async () => {
    const heartbeats = async () => {
      const rows = await db.sql(
        `SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2, 'messages', 'true')`,
        [peek, publication],
      );
      return rows.filter((r) => {
        const m = decodePgoutput(r.data);
        return m.tag === 'message' && m.prefix === HEARTBEAT_PREFIX && !m.transactional;
      });
    };
    await eventually(async () => (await heartbeats()).length >= 3, 20_000, 'three heartbeats in the WAL');
    const third = parseLsn((await heartbeats())[2].lsn);
    await eventually(async () => {
      const [row] = await db.sql('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return parseLsn(row.lsn) >= third;
    }, 20_000, 'slot confirmed past the third heartbeat');
    expect(sink.received).toEqual([]);
  });
});
