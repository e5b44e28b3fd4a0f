/**
 * End to end through PostgreSQL and Kafka: the transactional outbox.
 *
 * A service transaction writes an order row and an outbox row. Two sinks:
 * - `events` takes only public.outbox, through the outbox transform with its
 *   defaults: the event lands on `outbox.event.order`, key = aggregateid,
 *   value = payload, header `id`; the order row goes nowhere from this sink;
 * - `mixed` takes every table; its outbox transform applies to public.outbox
 *   only (routing to `mixed.outbox.event.…`, type as a header, JSON expanded),
 *   so the order row goes to its normal topic beside the events.
 * The usual "insert then delete the outbox row in the same transaction" still
 * emits the insert; an update of an outbox row is skipped.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { startEnvelopeRun, type EnvelopeRun } from './envelope-support.ts';

const SETUP = `CREATE TABLE public.orders (id int PRIMARY KEY, total_cents int NOT NULL);
CREATE TABLE public.outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL, payload jsonb);`;

const EVENTS = `tables: [public.outbox]
schemas_enable: false
create_topics: { enabled: true }
transforms:
  - type: outbox`;

const MIXED = `topic: 'mixed.{prefix}.{schema}.{table}'
schemas_enable: false
create_topics: { enabled: true }
transforms:
  - type: outbox
    tables: [public.outbox]
    route_topic_replacement: 'mixed.outbox.event.{routedByValue}'
    table_fields_additional_placement: ['type:header:eventType']
    table_expand_json_payload: true`;

describe('outbox through Kafka', () => {
  const major = pgServers()[0].major;
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: 'transforms_outbox', major, setupSql: SETUP, extraSinks: { events: EVENTS, mixed: MIXED } });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('turns outbox inserts into events on outbox.event.<aggregatetype>, ignoring deletes and updates', async () => {
    const [created, paid]: string[] = [randomUUID(), randomUUID()];
    const outboxRow = (id: string, aggregateId: string, type: string, payload: object) =>
      `INSERT INTO public.outbox VALUES ('${id}', 'order', '${aggregateId}', '${type}', '${JSON.stringify(payload)}')`;
    await run.tx(["INSERT INTO public.orders VALUES (42, 950)", outboxRow(created, '42', 'OrderCreated', { orderId: 42, total: 9.5 })]);
    // The common pattern: the row is deleted in the transaction that wrote it; the insert is still the event.
    await run.tx([outboxRow(paid, '42', 'OrderPaid', { orderId: 42 }), `DELETE FROM public.outbox WHERE id = '${paid}'`]);
    const last = await run.tx(`UPDATE public.outbox SET type = 'Changed' WHERE id = '${created}'`);

    const { prefix } = run;
    const topics = ['outbox.event.order', 'mixed.outbox.event.order', `mixed.${prefix}.public.orders`, `${prefix}.public.orders`, `${prefix}.public.outbox`];
    const records = await run.drain(topics, last);
    const ours = (topic: string) => records.filter((r) => r.topic === topic && [created, paid].includes(r.headers.id));

    expect(ours('outbox.event.order').map((r) => [r.key, r.value, r.headers.id])).toEqual([
      // jsonb is text in Postgres's own form (keys sorted by length, ", " and ": ").
      ['"42"', JSON.stringify('{"total": 9.5, "orderId": 42}'), created],
      ['"42"', JSON.stringify('{"orderId": 42}'), paid],
    ]);
    // events takes no other table: the order row is only the main sink's (one record, an envelope).
    expect(records.filter((r) => r.topic === `${prefix}.public.orders`).map((r) => JSON.parse(r.value!).payload.op)).toEqual(['c']);

    expect(ours('mixed.outbox.event.order').map((r) => [r.key, r.value, r.headers.eventType])).toEqual([
      ['"42"', '{"total":9.5,"orderId":42}', 'OrderCreated'],
      ['"42"', '{"orderId":42}', 'OrderPaid'],
    ]);
    const orderRows = records.filter((r) => r.topic === `mixed.${prefix}.public.orders`);
    expect(orderRows.map((r) => [r.key, JSON.parse(r.value!).after])).toEqual([['{"id":42}', { id: 42, total_cents: 950 }]]);

    // The untransformed main sink still has every outbox change as an envelope: c, c, d, u.
    expect(records.filter((r) => r.topic === `${prefix}.public.outbox` && r.value !== null).map((r) => JSON.parse(r.value!).payload.op)).toEqual(['c', 'c', 'd', 'u']);
  });
});
