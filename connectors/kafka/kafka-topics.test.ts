import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/types.ts';
import { createTopicNamer } from './kafka-topics.ts';

const event = (op: string, schema: string, table: string) => ({ op, schema, table }) as ChangeEvent;

describe('topic names', () => {
  const defaults = createTopicNamer({ topic: '{prefix}.{schema}.{table}', message_topic: '{prefix}.message' }, 'app');
  it.each([
    [event('c', 'public', 'products'), 'app.public.products'],
    [event('u', 'Sales', 'Order Items'), 'app.Sales.Order_Items'],
    [event('d', 'public', 'Ünïcode'), 'app.public._n_code'],
    [event('c', 'public', 'we"ird'), 'app.public.we_ird'],
    [event('m', '', ''), 'app.message'],
  ])('%o → %s', (e, topic) => {
    expect(defaults(e)).toBe(topic);
  });

  it('applies a custom template', () => {
    const custom = createTopicNamer({ topic: 'cdc-{table}', message_topic: 'cdc-messages' }, 'app');
    expect(custom(event('c', 'public', 'products'))).toBe('cdc-products');
    expect(custom(event('m', '', ''))).toBe('cdc-messages');
  });
});
