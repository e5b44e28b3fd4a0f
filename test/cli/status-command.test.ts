/**
 * `slotline status` as a cron or CI check runs it, against real servers: a
 * healthy slot with a running worker and a Redis checkpoint exits 0 and says
 * what it found; each problem — the slot missing, retaining more WAL than
 * --max-retained, invalidated (on a private server with a tiny
 * max_slot_wal_keep_size), the worker unreachable — exits 1 with a hint, and
 * a bad --max-retained is a usage error (exit 2). Nothing is changed on the server.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../harness/context.ts';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { databaseOn, getJson } from '../e2e/operations-support.ts';
import { redisClient } from '../e2e/redis-support.ts';
import { eventually, runInProcess, runSlotline as run, writeConfig } from '../e2e/support.ts';

let server: PgServer;
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await server?.stop();
});

describe('slotline status', () => {
  it('a healthy slot and worker: exit 0, with slot, WAL, publication, checkpoints and the worker', async () => {
    server = await startPostgres({ major: 17 });
    const db = await databaseOn(server, uniqueName('status_ok'));
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY, n int NOT NULL)');
    const [slot, prefix] = [uniqueName('status'), uniqueName('st')];
    const config = await writeConfig({ db, slot, publication: uniqueName('pub'), topicPrefix: prefix, tables: ['public.items'] });
    await writeFile(join(dirname(config), 'sinks', 'cache.yaml'),
      `name: cache\ntype: redis\nurl: ${redisUrl()}\ncheckpoint_key: "${prefix}:checkpoint"\nrules:\n  - tables: ["public.items"]\n    invalidate: ["${prefix}:item:{id}"]\n`);
    const worker = await runInProcess(config);
    cleanup.push(() => worker.stop());
    const url = worker.operations.http!.url;
    await db.sql('INSERT INTO public.items VALUES (1, 1)');
    const redis = redisClient(redisUrl());
    cleanup.push(async () => redis.disconnect());
    await eventually(async () => (await redis.get(`${prefix}:checkpoint`)) !== null, 30_000, 'the Redis checkpoint');
    await eventually(async () => (await getJson(`${url}/readyz`)).status === 200, 30_000, 'ready');
    const [{ confirmed }] = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [slot]);

    const result = await run(['status', '--config', config, '--url', url, '--max-retained', '1GiB']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^slot ${slot} in database ${db.database} at 127\\.0\\.0\\.1:${server.port}`));
    expect(result.stdout).toMatch(/state +active \(PID \d+, slotline\)/);
    expect(result.stdout).toMatch(/retained WAL +\d/);
    expect(result.stdout).toMatch(/wal_status +reserved/);
    expect(result.stdout).toMatch(/publication +pub_\w+: public\.items/);
    expect(result.stdout).toMatch(new RegExp(`sink cache +redis: [0-9A-F]+/[0-9A-F]+ \\(redis://127\\.0\\.0\\.1:\\d+ key ${prefix}:checkpoint\\)`));
    expect(result.stdout).toMatch(/sink console +console: no stored checkpoint/);
    expect(result.stdout).toMatch(/worker http:\/\/127\.0\.0\.1:\d+: streaming, ready, lag/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('healthy');

    const json = await run(['status', '--config', config, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ slot, problems: [], reading: { active: true, walStatus: 'reserved' }, publication: { tables: ['public.items'] } });

    // Read-only: the slot did not move for the status command.
    await worker.stop();
    const [after] = await db.sql('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    expect(BigInt(`0x${after.confirmed.replace('/', '').padStart(16, '0')}`) >= BigInt(`0x${confirmed.replace('/', '').padStart(16, '0')}`)).toBe(true);

    // Stopped: inactive, still healthy; but past --max-retained and with the worker gone, two problems.
    const stopped = await run(['status', '--config', config, '--url', url, '--max-retained', '1']);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/state +inactive: no worker reads it/);
    expect(stopped.stdout).toMatch(/problem: replication slot "\w+" retains .* of WAL, above --max-retained 1 B\n  hint: no worker is reading the slot/);
    expect(stopped.stdout).toMatch(/problem: the worker at http:\/\/127\.0\.0\.1:\d+ cannot be read: .*\n  hint: is it running/);
    expect(stopped.stdout.trim().split('\n').at(-1)).toBe('2 problems');
  });

  it('a missing slot: exit 1 with a hint', async () => {
    const db = await databaseOn(server, uniqueName('status_missing'));
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
    const config = await writeConfig({ db, slot: uniqueName('nope'), publication: uniqueName('pub'), topicPrefix: 'x', tables: ['public.items'] });
    const result = await run(['status', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/state +missing/);
    expect(result.stdout).toMatch(/publication +missing/);
    expect(result.stdout).toMatch(/problem: replication slot "nope_\w+" does not exist in database "status_missing_\w+"\n  hint: slotline run creates it/);
  });

  it('an invalidated slot (max_slot_wal_keep_size): exit 1, naming what was lost and how to recover', async () => {
    const small = await startPostgres({ major: 17, postgresFlags: ['-c', 'max_slot_wal_keep_size=1MB'] });
    cleanup.push(() => small.stop());
    const db = await databaseOn(small, uniqueName('status_lost'));
    await db.sql('CREATE TABLE public.items (id int PRIMARY KEY)');
    const slot = uniqueName('lost');
    await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    for (let i = 0; i < 3; i++) {
      await db.sql('CREATE TABLE IF NOT EXISTS junk AS SELECT 1 AS g');
      await db.sql('INSERT INTO junk SELECT generate_series(1, 50000)');
      await db.sql('SELECT pg_switch_wal()');
    }
    await db.sql('CHECKPOINT');
    const config = await writeConfig({ db, slot, publication: uniqueName('pub'), topicPrefix: 'x', tables: ['public.items'] });
    const result = await run(['status', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/wal_status +lost/);
    expect(result.stdout).toMatch(/problem: replication slot "lost_\w+" is invalidated \(wal_status lost.*\): changes after its position are gone\n  hint: drop it .* snapshot\.mode when_needed/);
  });

  it('a bad --max-retained and a missing --config are usage errors', async () => {
    const db = await databaseOn(server, uniqueName('status_bad'));
    const config = await writeConfig({ db, slot: uniqueName('s'), publication: uniqueName('pub'), topicPrefix: 'x' });
    const bad = await run(['status', '--config', config, '--max-retained', 'lots']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/^slotline status: --max-retained: invalid size "lots".*\n  hint: e\.g\. --max-retained 2GiB\n$/);
    const usage = await run(['status']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing --config/);
  });
});
