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

  it('names each event of interleaved tables, a routed one and a message after its own', () => {
    const named = createTopicNamer({ topic: '{prefix}.{schema}.{table}', message_topic: '{prefix}.message' }, 'app');
    const routed = { ...event('c', 'public', 'a'), destination: 'elsewhere' } as ChangeEvent;
    const sequence = [event('c', 'public', 'a'), event('u', 'public', 'a'), event('c', 'other', 'a'), routed, event('m', '', ''), event('d', 'public', 'b'), event('c', 'public', 'a')];
    expect(sequence.map(named)).toEqual(['app.public.a', 'app.public.a', 'app.other.a', 'elsewhere', 'app.message', 'app.public.b', 'app.public.a']);
  });
});
