import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../errors.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { verifySink } from './verify-sink.ts';

describe('verifySink', () => {
  it('refuses a sink whose transforms change what it holds, before connecting anywhere', async () => {
    const sink = { name: 'flat', type: 'kafka', transforms: [{ type: 'unwrap' }, { type: 'route' }] } as unknown as SinkConfig;
    const err = await verifySink({ config: {} as SlotlineConfig, sink, logger: pino({ level: 'silent' }) } as Parameters<typeof verifySink>[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as Error).message).toBe('sink "flat" has transforms (unwrap, route), so it does not hold the source rows verify compares with');
  });
});
