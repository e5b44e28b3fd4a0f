/**
 * End to end through PostgreSQL and Kafka: a sink's `transforms:` list.
 *
 * Three Kafka sinks on one slot:
 * - `kafka`: no transforms — Debezium envelopes, the raw e-mail (one sink's
 *   transforms never touch another's records);
 * - `flat`: mask (e-mail → `*****`), key (tenant_id), unwrap (rewrite, add_fields,
 *   add_headers), schemas off, 4 partitions;
 * - `dropper`: unwrap with deletes dropped, orders only. The last transaction
 *   is a delete it drops: the run's drain waits for every sink's checkpoint to
 *   pass it, so a sink that wrote nothing for a transaction still acknowledges it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/lsn.ts';
import { murmur2 } from '../../connectors/kafka/kafka-partitioner.ts';
import { pgServers } from '../harness/context.ts';
import { startEnvelopeRun, type EnvelopeRun } from './envelope-support.ts';

const SETUP = `CREATE TABLE public.orders (id int PRIMARY KEY, tenant_id int NOT NULL, status text, email varchar(64));
CREATE TABLE public.notes (id int PRIMARY KEY, body text);`;

const FLAT = `topic: 'flat.{prefix}.{schema}.{table}'
schemas_enable: false
create_topics: { enabled: true, partitions: 4 }
transforms:
  - type: mask
    rules:
      - columns: ['public.orders.email']
        mask_with_chars: 5
  - type: key
    columns: { public.orders: [tenant_id] }
  - type: unwrap
    delete_tombstone_handling_mode: rewrite
    add_fields: [op, table, source.ts_ms]
    add_headers: [op]`;

const DROPPER = `topic: 'dropper.{prefix}.{schema}.{table}'
tables: [public.orders]
schemas_enable: false
create_topics: { enabled: true }
transforms:
  - type: unwrap
    delete_tombstone_handling_mode: drop`;

describe('transforms through Kafka', () => {
  const major = pgServers()[0].major;
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: 'transforms_kafka', major, setupSql: SETUP, extraSinks: { flat: FLAT, dropper: DROPPER } });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('masks, re-keys and unwraps for one sink only, and acknowledges transactions whose events it dropped', async () => {
    await run.tx("INSERT INTO public.orders VALUES (1, 7, 'new', 'ann@example.com'), (2, 7, 'new', 'bob@example.com'), (3, 8, 'new', 'cy@example.com')");
    await run.tx("UPDATE public.orders SET status = 'paid' WHERE id = 2");
    await run.tx("INSERT INTO public.notes VALUES (1, 'hello')");
    const last = await run.tx('DELETE FROM public.orders WHERE id = 1');

    const { prefix } = run;
    const flatOrders = `flat.${prefix}.public.orders`;
    const records = await run.drain([`${prefix}.public.orders`, flatOrders, `flat.${prefix}.public.notes`, `dropper.${prefix}.public.orders`], last);
    const on = (topic: string) => records.filter((r) => r.topic === topic);

    // The untransformed sink: envelopes with the raw e-mail, keyed by id.
    const raw = on(`${prefix}.public.orders`);
    expect(raw.map((r) => JSON.parse(r.value ?? 'null')?.payload.op ?? null)).toEqual(['c', 'c', 'c', 'u', 'd', null]);
    expect(raw[0].value).toContain('ann@example.com');

    // flat: rows, masked, keyed by tenant, in order per tenant.
    // Across partitions, in change order.
    const flat = on(flatOrders).sort((a, b) => Number(parseLsn(a.headers['slotline.lsn']) - parseLsn(b.headers['slotline.lsn'])));
    const rows = flat.map((r) => ({ key: r.key, value: JSON.parse(r.value!), op: r.headers.__op, partition: r.partition }));
    expect(rows.map(({ key, value, op }) => ({ key, value: { ...value, __source_ts_ms: typeof value.__source_ts_ms }, op }))).toEqual(
      [
        { key: '{"tenant_id":7}', value: { id: 1, tenant_id: 7, status: 'new', email: '*****', __deleted: 'false', __op: 'c', __table: 'orders', __source_ts_ms: 'number' }, op: 'c' },
        { key: '{"tenant_id":7}', value: { id: 2, tenant_id: 7, status: 'new', email: '*****', __deleted: 'false', __op: 'c', __table: 'orders', __source_ts_ms: 'number' }, op: 'c' },
        { key: '{"tenant_id":8}', value: { id: 3, tenant_id: 8, status: 'new', email: '*****', __deleted: 'false', __op: 'c', __table: 'orders', __source_ts_ms: 'number' }, op: 'c' },
        { key: '{"tenant_id":7}', value: { id: 2, tenant_id: 7, status: 'paid', email: '*****', __deleted: 'false', __op: 'u', __table: 'orders', __source_ts_ms: 'number' }, op: 'u' },
        // REPLICA IDENTITY DEFAULT: the delete's before row has the key only (NOT NULL tenant_id reads 0, as in Debezium;
        // the NULL e-mail is masked too, as Debezium's MaskingValueConverter does).
        { key: '{"tenant_id":0}', value: { id: 1, tenant_id: 0, status: null, email: '*****', __deleted: 'true', __op: 'd', __table: 'orders', __source_ts_ms: 'number' }, op: 'd' },
      ],
    );
    // The partition is the Java client's murmur2 of the key bytes.
    for (const r of flat) expect(r.partition).toBe((murmur2(Buffer.from(r.key!)) & 0x7fffffff) % 4);
    // No masked value anywhere in this sink's records.
    expect(JSON.stringify(on(flatOrders))).not.toMatch(/@example\.com/);
    // Unkeyed tables keep their primary key; unwrap still applies.
    expect(on(`flat.${prefix}.public.notes`).map((r) => [r.key, r.value])).toEqual([
      ['{"id":1}', '{"id":1,"body":"hello","__deleted":"false","__op":"c","__table":"notes","__source_ts_ms":' + on(`flat.${prefix}.public.notes`)[0].value!.match(/"__source_ts_ms":(\d+)/)![1] + '}'],
    ]);

    // dropper: the delete is gone (and its tombstone), the rest are rows.
    expect(on(`dropper.${prefix}.public.orders`).map((r) => JSON.parse(r.value!).status)).toEqual(['new', 'new', 'new', 'paid']);
  });
});
