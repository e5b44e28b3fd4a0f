/**
 * End to end through PostgreSQL and Kafka: `filter` and `route` on one sink.
 *
 * `paid` keeps paid orders (and deletes), routed to a topic per tenant from
 * the row; the last transaction holds only changes the filter drops, and the
 * run's drain waits for every sink's checkpoint to pass it — a filtered-out
 * transaction still moves the checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgServers } from '../harness/context.ts';
import { startEnvelopeRun, type EnvelopeRun } from './envelope-support.ts';

const SETUP = 'CREATE TABLE public.orders (id int PRIMARY KEY, tenant_id int NOT NULL, status text);\nALTER TABLE public.orders REPLICA IDENTITY FULL;';

const PAID = `topic: 'paid.{prefix}.{schema}.{table}'
schemas_enable: false
create_topics: { enabled: true }
transforms:
  - type: filter
    condition: "after.status == 'paid' or op == 'd'"
  - type: route
    tables: [public.orders]
    topic: 'paid.{prefix}.tenant_{tenant_id}'`;

describe('filter and route through Kafka', () => {
  const major = pgServers()[0].major;
  let run: EnvelopeRun;
  beforeAll(async () => {
    run = await startEnvelopeRun({ name: 'transforms_filter', major, setupSql: SETUP, extraSinks: { paid: PAID } });
  });
  afterAll(async () => {
    await run?.stop();
  });

  it('keeps what the condition holds for, routes it by tenant, and acknowledges what it dropped', async () => {
    await run.tx("INSERT INTO public.orders VALUES (1, 7, 'new'), (2, 7, 'paid'), (3, 8, 'paid')");
    await run.tx("UPDATE public.orders SET status = 'paid' WHERE id = 1");
    await run.tx('DELETE FROM public.orders WHERE id = 3');
    const last = await run.tx("INSERT INTO public.orders VALUES (4, 9, 'new')");

    const { prefix } = run;
    const records = await run.drain([`paid.${prefix}.tenant_7`, `paid.${prefix}.tenant_8`, `${prefix}.public.orders`], last);
    const on = (topic: string) => records.filter((r) => r.topic === topic).map((r) => [JSON.parse(r.value ?? 'null')?.op ?? null, r.key]);
    expect(on(`paid.${prefix}.tenant_7`)).toEqual([['c', '{"id":2}'], ['u', '{"id":1}']]);
    // The delete keeps its tombstone (the sink's tombstones_on_delete), both routed by the old row (REPLICA IDENTITY FULL).
    expect(on(`paid.${prefix}.tenant_8`)).toEqual([['c', '{"id":3}'], ['d', '{"id":3}'], [null, '{"id":3}']]);
    // No topic for tenant 9: its only change was filtered out.
    expect(records.some((r) => r.topic.endsWith('tenant_9'))).toBe(false);
    // The untransformed sink has all six changes.
    expect(records.filter((r) => r.topic === `${prefix}.public.orders` && r.value !== null)).toHaveLength(6);
  });
});
