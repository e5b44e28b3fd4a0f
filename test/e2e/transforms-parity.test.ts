/**
 * Transforms beside the real thing: Debezium 3.6.1 on Kafka Connect with its
 * column masks, message.key.columns, ExtractNewRecordState and Outbox Event
 * Router, and slotline with the same settings as transforms, stream the same
 * changes into the same Kafka. Keys and values must be the same text, byte for
 * byte, and the headers the transforms add the same strings.
 *
 * One Debezium connector and one slotline worker per variant, sharing the
 * topic prefix (so schema names match); slotline's topics are `slotline.`-prefixed.
 * - flat: mask (N chars, SHA-256 hash with salt), key from tenant_id, unwrap
 *   (rewrite, add.fields, add.headers), schemas on;
 * - plain: unwrap with defaults (a delete becomes a null payload), schemas off;
 * - tombstones: rewrite-with-tombstone, renamed fields with another prefix, headers on the tombstone;
 * - outbox: the router's defaults, type as a header, schemas on;
 * - outboxjson: expanded JSON payload, aggregatetype in the envelope, schemas on.
 */
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorProperties, ensureConnectClasspath, startConnect } from '../harness/debezium-connect.ts';
import { freshDatabase, kafkaBrokers, kafkaVersion, uniqueName } from '../harness/context.ts';
import { logTail } from '../harness/server-process.ts';
import { run, streaming } from './debezium-parity-support.ts';
import { compareTopic } from './parity-compare.ts';
import { eventually, readTopics, runInProcess, writeConfig, type ConsumedRecord } from './support.ts';

const SETUP_SQL = [
  'CREATE TABLE public.tr_orders (id int PRIMARY KEY, tenant_id int NOT NULL, status text, email varchar(64), note text)',
  `CREATE TABLE public.tr_outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL,
     type varchar(255) NOT NULL, payload jsonb)`,
];

const EVENT_1 = '5b0c1e8e-6a55-4a8b-9d64-6f1c2b3a4d5e';
const EVENT_2 = '0d3f9a7c-2b1e-4c5d-8e6f-7a8b9c0d1e2f';
const CHANGE_SQL = [
  "INSERT INTO public.tr_orders VALUES (1, 7, 'new', 'ann@example.com', 'leave at the door'), (2, 8, 'new', 'bob@example.com', NULL)",
  "UPDATE public.tr_orders SET status = 'paid', note = 'ünïcode 😀 note' WHERE id = 1",
  'DELETE FROM public.tr_orders WHERE id = 2',
  `INSERT INTO public.tr_outbox VALUES ('${EVENT_1}', 'order', '42', 'OrderCreated', '{"orderId": 42, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}], "total": 9.5, "big": 12345678901, "gift": false, "memo": null}')`,
  `BEGIN; INSERT INTO public.tr_outbox VALUES ('${EVENT_2}', 'invoice', '7', 'InvoiceSent', '{"invoice": 7}'); DELETE FROM public.tr_outbox WHERE id = '${EVENT_2}'; COMMIT`,
  `UPDATE public.tr_outbox SET type = 'Changed' WHERE id = '${EVENT_1}'`,
];

interface Variant {
  table: string;
  debezium: (prefix: string) => Record<string, string>;
  slotline: (prefix: string) => string;
  /** Topics of Debezium's records → slotline's, with the record count each must reach. */
  topics: (prefix: string) => Array<{ debezium: string; slotline: string; count: number }>;
  /** Headers the transforms add, compared as strings. */
  headers: string[];
}

const SCHEMALESS = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter', 'key.converter.schemas.enable': 'false',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false',
};
const ROUTER = 'io.debezium.transforms.outbox.EventRouter';
const UNWRAP = 'io.debezium.transforms.ExtractNewRecordState';

const VARIANTS: Record<string, Variant> = {
  flat: {
    table: 'public.tr_orders',
    debezium: () => ({
      'column.mask.with.5.chars': 'public.tr_orders.email',
      'column.mask.hash.SHA-256.with.salt.pepper': 'public.tr_orders.note',
      'message.key.columns': 'public.tr_orders:tenant_id',
      transforms: 'unwrap', 'transforms.unwrap.type': UNWRAP,
      'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
      'transforms.unwrap.add.fields': 'op,table,lsn,source.ts_ms',
      'transforms.unwrap.add.headers': 'op,db',
    }),
    slotline: () => `transforms:
  - type: mask
    rules:
      - columns: [public.tr_orders.email]
        mask_with_chars: 5
      - columns: [public.tr_orders.note]
        hash: { algorithm: SHA-256, salt: pepper }
  - type: key
    columns: { public.tr_orders: [tenant_id] }
  - type: unwrap
    delete_tombstone_handling_mode: rewrite
    add_fields: [op, table, lsn, source.ts_ms]
    add_headers: [op, db]`,
    topics: (p) => [{ debezium: `${p}.public.tr_orders`, slotline: `slotline.${p}.public.tr_orders`, count: 4 }],
    headers: ['__op', '__db'],
  },
  plain: {
    table: 'public.tr_orders',
    debezium: () => ({ ...SCHEMALESS, transforms: 'unwrap', 'transforms.unwrap.type': UNWRAP }),
    slotline: () => 'schemas_enable: false\ntransforms:\n  - type: unwrap',
    topics: (p) => [{ debezium: `${p}.public.tr_orders`, slotline: `slotline.${p}.public.tr_orders`, count: 4 }],
    headers: [],
  },
  tombstones: {
    table: 'public.tr_orders',
    debezium: () => ({
      ...SCHEMALESS, transforms: 'unwrap', 'transforms.unwrap.type': UNWRAP,
      'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite-with-tombstone',
      'transforms.unwrap.add.fields': 'source.lsn:wal_position,op', 'transforms.unwrap.add.fields.prefix': 'meta_',
      'transforms.unwrap.add.headers': 'op,table',
    }),
    slotline: () => `schemas_enable: false
transforms:
  - type: unwrap
    delete_tombstone_handling_mode: rewrite-with-tombstone
    add_fields: ['source.lsn:wal_position', op]
    add_fields_prefix: meta_
    add_headers: [op, table]`,
    topics: (p) => [{ debezium: `${p}.public.tr_orders`, slotline: `slotline.${p}.public.tr_orders`, count: 5 }],
    headers: ['__op', '__table'],
  },
  outbox: {
    table: 'public.tr_outbox',
    debezium: (p) => ({
      transforms: 'outbox', 'transforms.outbox.type': ROUTER,
      'transforms.outbox.route.topic.replacement': `${p}.outbox.event.\${routedByValue}`,
      'transforms.outbox.table.fields.additional.placement': 'type:header:eventType',
    }),
    slotline: (p) => `transforms:
  - type: outbox
    route_topic_replacement: 'slotline.${p}.outbox.event.{routedByValue}'
    table_fields_additional_placement: ['type:header:eventType']`,
    topics: (p) => ['order', 'invoice'].map((t) => ({ debezium: `${p}.outbox.event.${t}`, slotline: `slotline.${p}.outbox.event.${t}`, count: 1 })),
    headers: ['id', 'eventType'],
  },
  outboxjson: {
    table: 'public.tr_outbox',
    debezium: (p) => ({
      transforms: 'outbox', 'transforms.outbox.type': ROUTER,
      'transforms.outbox.route.topic.replacement': `${p}.outbox.event.\${routedByValue}`,
      'transforms.outbox.table.expand.json.payload': 'true',
      'transforms.outbox.table.fields.additional.placement': 'aggregatetype:envelope:kind',
    }),
    slotline: (p) => `transforms:
  - type: outbox
    route_topic_replacement: 'slotline.${p}.outbox.event.{routedByValue}'
    table_expand_json_payload: true
    table_fields_additional_placement: ['aggregatetype:envelope:kind']`,
    topics: (p) => ['order', 'invoice'].map((t) => ({ debezium: `${p}.outbox.event.${t}`, slotline: `slotline.${p}.outbox.event.${t}`, count: 1 })),
    headers: ['id'],
  },
};

describe('transforms beside Debezium 3.6.1', () => {
  const stop: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    await ensureConnectClasspath(kafkaVersion());
  });
  afterAll(async () => {
    for (const step of stop.reverse()) await step().catch(() => undefined);
  });

  it('writes the records Debezium\'s column mappers and SMTs write', { timeout: 600_000 }, async () => {
    const db = await freshDatabase('tr_parity');
    const stem = uniqueName('trp');
    const brokers = kafkaBrokers();
    const publication = `${stem}_pub`;
    await run(db.databaseUrl, [...SETUP_SQL, `CREATE PUBLICATION ${publication} FOR TABLE public.tr_orders, public.tr_outbox`]);
    const prefix = (v: string): string => `${stem}_${v}`;
    const names = Object.keys(VARIANTS);
    const connect = await startConnect({
      brokers, kafkaVersion: kafkaVersion(), schemasEnable: true,
      connectors: Object.fromEntries(names.map((v) => [v, connectorProperties(
        { server: db, database: db.database, topicPrefix: prefix(v), slot: `${stem}_dbz_${v}`, publication, table: VARIANTS[v].table },
        VARIANTS[v].debezium(prefix(v)),
      )])),
    });
    stop.push(() => connect.stop());
    for (const v of names) {
      const config = await writeConfig({
        db, slot: `${stem}_sl_${v}`, publication, topicPrefix: prefix(v), tables: ['public.tr_orders', 'public.tr_outbox'], brokers,
        kafkaExtra: `topic: "slotline.{prefix}.{schema}.{table}"\ntables: [${VARIANTS[v].table}]\n${VARIANTS[v].slotline(prefix(v))}\n`,
        mainExtra: 'debezium_compat: strict\nsnapshot:\n  mode: no_data\n',
      });
      const worker = await runInProcess(config);
      stop.push(() => worker.stop());
    }
    await streaming(db.databaseUrl, names.flatMap((v) => [`${stem}_dbz_${v}`, `${stem}_sl_${v}`]), connect);
    await run(db.databaseUrl, CHANGE_SQL);

    const pairs = names.flatMap((v) => VARIANTS[v].topics(prefix(v)).map((t) => ({ variant: v, ...t })));
    const counts = new Map(pairs.flatMap((p) => [[p.debezium, p.count], [p.slotline, p.count]]));
    // A consumer subscribes to the topics that exist when it starts: wait for all of them first.
    const admin = new Kafka({ brokers, clientId: 'slotline-transforms-parity', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await eventually(async () => {
        if (!connect.running()) throw new Error(`Kafka Connect exited:\n${await logTail(connect.logFile)}`);
        for (const [topic, n] of counts) {
          const high = await admin.fetchTopicOffsets(topic).then((o) => o.reduce((sum, q) => sum + Number(q.high), 0), () => 0);
          if (high < n) return false;
        }
        return true;
      }, 240_000, `records on ${[...counts.keys()].join(', ')}`).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await logTail(connect.logFile)}`);
      });
    } finally {
      await admin.disconnect();
    }
    const reader = await readTopics(brokers, new RegExp(`^(slotline\\.)?${stem}_`));
    stop.push(() => reader.close());
    const byTopic = (records: ConsumedRecord[], topic: string) => records.filter((r) => r.topic === topic);
    const records = await reader.waitFor((all) => [...counts].every(([topic, n]) => byTopic(all, topic).length >= n), 60_000);

    const differences = pairs.flatMap((p) => {
      const debezium = byTopic(records, p.debezium);
      const slotline = byTopic(records, p.slotline);
      const found = compareTopic(debezium, slotline).map((d) => ({ variant: p.variant, topic: p.debezium, ...d }));
      const headers = (r: ConsumedRecord) => VARIANTS[p.variant].headers.map((h) => [h, r.headers[h]]);
      debezium.forEach((r, i) => {
        if (slotline[i] && JSON.stringify(headers(r)) !== JSON.stringify(headers(slotline[i]))) {
          found.push({ variant: p.variant, topic: p.debezium, path: `#${i}.headers`, expected: JSON.stringify(headers(r)), actual: JSON.stringify(headers(slotline[i])) });
        }
      });
      return found;
    });
    expect(differences).toEqual([]);
    // What was compared: the masked, re-keyed, rewritten rows and the routed events.
    expect(byTopic(records, `slotline.${prefix('flat')}.public.tr_orders`).map((r) => r.key)).toContain(
      `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"tenant_id"}],"optional":false,"name":"${prefix('flat')}.public.tr_orders.Key"},"payload":{"tenant_id":7}}`,
    );
    expect(byTopic(records, `slotline.${prefix('plain')}.public.tr_orders`).map((r) => r.value)).toContain('null');
  });
});
