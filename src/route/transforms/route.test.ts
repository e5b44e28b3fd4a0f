import { describe, expect, it } from 'vitest';
import { routeTransformSchema } from '../../config/transform-schema.ts';
import { createTopicNamer } from '../../../connectors/kafka/kafka-topics.ts';
import { createIndexNamer } from '../../../connectors/elasticsearch/elasticsearch-names.ts';
import { orders, transforms } from './testing.ts';

describe('route transform', () => {
  const t = transforms({ type: 'route', topic: '{prefix}.tenant_{after.tenant_id}.{table}', tables: ['public.orders'] });

  it('names the topic (Kafka) or index (Elasticsearch) from the row', () => {
    const out = t.apply(orders.insert(1, 7))!;
    expect(out.destination).toBe('pg.tenant_7.orders');
    expect(createTopicNamer({ topic: '{prefix}.{schema}.{table}', message_topic: '{prefix}.message' }, 'pg')(out)).toBe('pg.tenant_7.orders');
    expect(createIndexNamer('{prefix}.{schema}.{table}', 'pg')({ ...out, destination: 'PG.Tenant_7' })).toBe('pg.tenant_7');
  });

  it('keeps the sink\'s own destination when the event lacks the value (a delete under REPLICA IDENTITY DEFAULT)', () => {
    expect(t.apply(orders.delete())!.destination).toBeUndefined();
  });

  it('rejects a bad template at validate, and a column the table lacks at start-up', async () => {
    expect(routeTransformSchema.safeParse({ type: 'route', topic: 'x.{after.tenant' }).error?.issues[0].message).toMatch(/unclosed "\{"/);
    const bad = transforms({ type: 'route', topic: '{after.tenant}', tables: ['public.orders'] });
    const describe = async () => ({ columns: ['id', 'tenant_id'], keyColumns: ['id'], replicaIdentity: 'default' as const, identityColumns: ['id'] });
    await expect(bad.check!(describe as never)).rejects.toThrow(/names column tenant, which public.orders does not have/);
  });
});
