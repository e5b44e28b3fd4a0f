/**
 * Smoke test of the shared servers: if this file fails, every integration test
 * after it would fail for the harness's reasons, not slotline's.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, kafkaBrokers, kafkaVersion, pgServers, slotMade, uniqueName } from './context.ts';
import { pgMajorsFromEnv } from './global-setup.ts';
import { dropLeftoverSlots } from './slot-cleanup.ts';

describe('shared PostgreSQL servers', () => {
  const servers = pgServers();

  it('are the majors SLOTLINE_PG_MAJORS asks for', () => {
    expect(servers.map((s) => s.major)).toEqual(pgMajorsFromEnv());
  });

  describe.each(servers.map((s) => [s.major]))('PostgreSQL %i', (major) => {
    it('runs the expected major with logical decoding settings', async () => {
      const [row] = await pgServers().find((s) => s.major === major)!.query(
        `SELECT current_setting('server_version_num')::int / 10000 AS major,
                current_setting('wal_level') AS wal_level,
                current_setting('max_replication_slots')::int AS slots,
                current_setting('max_wal_senders')::int AS senders`,
      );
      expect(row).toEqual({ major, wal_level: 'logical', slots: expect.any(Number), senders: expect.any(Number) });
      expect(row.slots).toBeGreaterThanOrEqual(20);
      expect(row.senders).toBeGreaterThanOrEqual(20);
    });

    it('creates a pgoutput slot that decodes a committed insert', async () => {
      const db = await freshDatabase('harness_smoke', major);
      const slot = uniqueName('harness_slot');
      await db.sql('CREATE TABLE item (id int PRIMARY KEY, name text)');
      await db.sql('CREATE PUBLICATION harness_pub FOR TABLE item');
      await db.sql("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
      await db.sql("INSERT INTO item VALUES (1, 'one')");
      // pgoutput is binary: read the raw messages and look for Begin, Insert and Commit.
      const changes = await db.sql(
        `SELECT substr(data, 1, 1) AS tag FROM pg_logical_slot_get_binary_changes($1, NULL, NULL,
           'proto_version', '1', 'publication_names', 'harness_pub')`,
        [slot],
      );
      const tags = changes.map((c: { tag: Buffer }) => c.tag.toString('latin1'));
      expect(tags).toEqual(['B', 'R', 'I', 'C']);
      const [info] = await db.sql('SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      expect(info).toEqual({ plugin: 'pgoutput', database: db.database });
      await db.sql('SELECT pg_drop_replication_slot($1)', [slot]);
    });

    // Why tests wait with slotMade() before they write: another file's open transaction on the
    // shared server holds a new slot at its start, listed, while commits pass it by.
    it('lists a slot being made before it captures changes; slotMade() waits for its consistent point', async () => {
      const db = await freshDatabase('harness_slot_made', major);
      const slot = uniqueName('harness_slot');
      await db.sql('CREATE TABLE item (id int PRIMARY KEY)');
      await db.sql('CREATE PUBLICATION harness_pub FOR TABLE item');
      const holder = new pg.Client({ connectionString: db.databaseUrl });
      const maker = new pg.Client({ connectionString: db.databaseUrl });
      await Promise.all([holder.connect(), maker.connect()]);
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_current_xact_id()');
        const making = maker.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
        const listed = async () => (await db.sql('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).length === 1;
        while (!(await listed())) await new Promise((r) => setTimeout(r, 20));
        expect(await slotMade(db, slot)).toBe(false);
        await db.sql('INSERT INTO item VALUES (1)'); // committed while the slot is listed but not made
        await holder.query('COMMIT');
        await making;
        expect(await slotMade(db, slot)).toBe(true);
        await db.sql('INSERT INTO item VALUES (2)');
        const inserts = await db.sql(
          `SELECT count(*)::int AS n FROM pg_logical_slot_get_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', 'harness_pub')
            WHERE substr(data, 1, 1) = 'I'`,
          [slot],
        );
        expect(inserts).toEqual([{ n: 1 }]);
      } finally {
        await Promise.allSettled([holder.end(), maker.end()]);
        await db.sql('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
      }
    });

    it('refuses a wrong password', async () => {
      const server = pgServers().find((s) => s.major === major)!;
      const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: 'not-the-password', database: 'postgres' });
      await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
    });
  });
});

describe('slots a test file leaves on a shared server', () => {
  // What the setup file does when a file ends (./slot-cleanup.ts); called here directly.
  it('are dropped, in the databases the file created and no others', async () => {
    const db = await freshDatabase('harness_leftover');
    const server = pgServers()[0];
    const notOurs = uniqueName('harness_not_ours');
    await server.query(`CREATE DATABASE ${notOurs}`); // not through createDatabase: not remembered
    const slots = [uniqueName('left'), uniqueName('left'), uniqueName('kept')];
    try {
      await db.sql("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slots[0]]);
      await db.sql("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slots[1]]);
      await server.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slots[2]], notOurs);
      await dropLeftoverSlots();
      const left = await server.query('SELECT slot_name::text AS slot FROM pg_replication_slots WHERE slot_name = ANY($1::text[])', [slots]);
      expect(left).toEqual([{ slot: slots[2] }]);
    } finally {
      await server.query('SELECT pg_drop_replication_slot($1)', [slots[2]]).catch(() => undefined);
      await server.query(`DROP DATABASE ${notOurs}`).catch(() => undefined);
    }
  });
});

describe('shared Kafka broker', () => {
  const kafka = new Kafka({ clientId: 'harness-smoke', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: uniqueName('harness_group') });
  afterAll(async () => {
    await Promise.allSettled([producer.disconnect(), consumer.disconnect()]);
  });

  it(`round-trips keyed messages through an idempotent producer and a consumer group`, async () => {
    expect(kafkaVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    const topic = uniqueName('harness_topic');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    const sent = [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'a', value: null }];
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: sent });

    const received: { key: string; value: string | null }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: message.key!.toString(), value: message.value === null ? null : message.value.toString() });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    // Order holds per key (per partition), not across keys.
    expect(received.filter((m) => m.key === 'a')).toEqual([{ key: 'a', value: '1' }, { key: 'a', value: null }]);
    expect(received.filter((m) => m.key === 'b')).toEqual([{ key: 'b', value: '2' }]);
  });
});

describe('uniqueName', () => {
  it.each([
    ['Harness Slot', /^harness_slot_[0-9a-f]{12}$/],
    ['--', /^t_[0-9a-f]{12}$/],
    ['x'.repeat(80), /^x{40}_[0-9a-f]{12}$/],
  ])('%j gives a valid Postgres/Kafka name', (prefix, pattern) => {
    expect(uniqueName(prefix)).toMatch(pattern);
  });
});

describe('pgMajorsFromEnv', () => {
  it.each([
    ['17,15', [17, 15]],
    [' 14 , 18 ,14', [14, 18]],
  ])('%j -> %j', (value, majors) => {
    expect(pgMajorsFromEnv(value)).toEqual(majors);
  });

  it.each(['', '13', '17,abc'])('rejects %j', (value) => {
    expect(() => pgMajorsFromEnv(value)).toThrow(/SLOTLINE_PG_MAJORS/);
  });
});
