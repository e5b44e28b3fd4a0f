/**
 * `source.failover` and `source.hosts` short of a real failover
 * (failover-slots.test.ts does that):
 * - on PostgreSQL 15 `failover: true` stops the start: exit 78, one line and a hint, no slot;
 * - preflight warns about physical standbys while synchronized_standby_slots is unset, and only then;
 * - the primary is found past a host that refuses and a standby, whatever the order;
 *   with no primary, the error names what each host answered;
 * - a worker given [standby, primary] creates a failover slot on the primary,
 *   and switches an existing slot without failover to one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, freshDatabase, uniqueName } from '../harness/context.ts';
import { freePort } from '../harness/ports.ts';
import { runPreflight } from '../../src/source/preflight.ts';
import { findPrimary } from '../../src/runtime/pg-primary.ts';
import { RetryableError } from '../../src/errors.ts';
import { readConfig, runInProcess, runSlotline, writeConfig } from './support.ts';
import { setStandbySlots, startFailoverPair, type FailoverPair } from './failover-support.ts';

describe('failover: true on PostgreSQL 15', () => {
  it('stops the start with one line and a hint (exit 78) and creates no slot', async () => {
    const db = await freshDatabase('failover_pg15', 15);
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
    const slot = uniqueName('failover_pg15');
    const config = await writeConfig({ db, slot, publication: uniqueName('pub'), topicPrefix: uniqueName('f15'), tables: ['public.items'], sourceExtra: 'failover: true' });
    const run = await runSlotline(['run', '--config', config]);
    expect(run.code, run.stderr).toBe(78);
    expect(run.stderr).toMatch(/source\.failover needs PostgreSQL 17 or later, and 127\.0\.0\.1:\d+ runs PostgreSQL 15\.\d+/);
    expect(run.stderr).toMatch(/hint: .*set source\.failover: false/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).toEqual([]);
  });
});

describe('failover slots and several hosts on PostgreSQL 17', () => {
  let pair: FailoverPair;
  let closed: number;
  const preflightOf = (failover: boolean) =>
    runPreflight({
      connection: { host: pair.primary.host, port: pair.primary.port, user: pair.primary.user, password: pair.primary.password, database: pair.db.database },
      slot: { name: 'checks', create: true, failover },
      publication: { name: 'checks', create: true, all: true },
    });
  const source = (hosts: Array<{ host: string; port: number }>) => ({
    hosts, user: pair.primary.user, password: pair.primary.password, database: pair.db.database, ssl: false as const, connect_timeout_ms: 5000,
  });

  beforeAll(async () => {
    pair = await startFailoverPair('app');
    closed = await freePort();
  }, 180_000);
  afterAll(() => pair?.stop());

  it('preflight warns about standbys without synchronized_standby_slots, only with failover on, and not once it is set', async () => {
    const warned = await preflightOf(true);
    expect(warned.warnings).toContainEqual(
      expect.stringMatching(/^the server has physical standbys \(standby1\) but synchronized_standby_slots is not set: .*fix: ALTER SYSTEM SET synchronized_standby_slots = 'standby1'; SELECT pg_reload_conf\(\);$/),
    );
    expect((await preflightOf(false)).warnings.join('\n')).not.toMatch(/synchronized_standby_slots/);
    await setStandbySlots(pair);
    expect((await preflightOf(true)).warnings.join('\n')).not.toMatch(/synchronized_standby_slots/);
  });

  it('finds the primary past a refused host and a standby, in any order', async () => {
    const { primary, standby } = pair;
    const orders = [
      [{ host: '127.0.0.1', port: closed }, { host: standby.host, port: standby.port }, { host: primary.host, port: primary.port }],
      [{ host: primary.host, port: primary.port }, { host: '127.0.0.1', port: closed }, { host: standby.host, port: standby.port }],
    ];
    for (const hosts of orders) {
      const found = await findPrimary(source(hosts));
      expect(found).toMatchObject({ host: primary.host, port: primary.port, hosts: undefined });
    }
  });

  it('with no primary among the hosts, a retryable error says what each one answered', async () => {
    const { standby } = pair;
    const err = await findPrimary(source([{ host: '127.0.0.1', port: closed }, { host: standby.host, port: standby.port }])).catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toMatch(
      new RegExp(`^no writable primary among the 2 configured hosts: 127\\.0\\.0\\.1:${closed}/app: .*refused.*; 127\\.0\\.0\\.1:${standby.port}/app is a standby \\(in recovery\\)$`, 'i'),
    );
    expect(err.hint).toMatch(/promote a standby/);
  });

  it('a worker given [standby, primary] creates a failover slot on the primary; an existing slot is switched to failover', async () => {
    const { db, primary, standby } = pair;
    await db.sql('CREATE TABLE IF NOT EXISTS public.items (id int PRIMARY KEY)');
    const hosts = `hosts: ["${standby.host}:${standby.port}", "${primary.host}:${primary.port}"]\nfailover: true`;
    const fresh = uniqueName('fresh');
    const existing = uniqueName('existing');
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [existing]);
    for (const slot of [fresh, existing]) {
      const config = await writeConfig({ db, slot, publication: 'checks_pub', topicPrefix: uniqueName('fc'), tables: ['public.items'], brokers: kafkaBrokers(), sourceExtra: hosts, mainExtra: 'snapshot: { mode: no_data }' });
      expect((await readConfig(config)).source.hosts).toHaveLength(2);
      const worker = await runInProcess(config);
      await worker.stop();
      await worker.running;
      const rows = await db.sql('SELECT failover FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      expect(rows, slot).toEqual([{ failover: true }]);
    }
  });
});
