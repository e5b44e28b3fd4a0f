import { describe, expect, it } from 'vitest';
import { OperatorError } from '../errors.ts';
import type { Sink, WriteInfo } from '../sink.ts';
import type { ChangeEvent } from '../types.ts';
import { orders, outbox, transforms } from '../route/transforms/testing.ts';
import { withTransforms } from './transformed-sink.ts';

/** A sink that keeps what it was given (the decorator's contract is with the Sink interface only). */
function recordingSink(writesRecords: boolean): Sink & { writes: Array<{ events: ChangeEvent[]; info: WriteInfo }> } {
  const writes: Array<{ events: ChangeEvent[]; info: WriteInfo }> = [];
  return { name: 's', writesRecords, writes, start: async () => undefined, write: async (events, info) => void writes.push({ events, info }), stop: async () => undefined };
}

const noTable = async () => null;
const info: WriteInfo = { commits: [{ commitLsn: 0x2000n, endLsn: 0x2100n }] };

describe('withTransforms', () => {
  it('resolves a write whose events were all dropped without writing, so the runner still acknowledges its commits', async () => {
    const inner = recordingSink(true);
    const sink = withTransforms(inner, transforms({ type: 'unwrap', delete_tombstone_handling_mode: 'drop' }), { describeTable: noTable });
    await sink.start();
    await sink.write([orders.delete()], info);
    expect(inner.writes).toEqual([]);
    await sink.write([orders.delete(), orders.insert()], info);
    expect(inner.writes.map((w) => [w.events.map((e) => e.after?.id), w.info])).toEqual([[[1], info]]);
  });

  it('hands a retried write the same transformed array (the Kafka sink resumes a partial write by it)', async () => {
    const inner = recordingSink(true);
    const sink = withTransforms(inner, transforms({ type: 'unwrap' }), { describeTable: noTable });
    const events = [orders.insert()];
    await sink.write(events, info);
    await sink.write(events, info);
    expect(inner.writes[0].events).toBe(inner.writes[1].events);
  });

  it('refuses the outbox transform on a sink that does not write records', async () => {
    const sink = withTransforms(recordingSink(false), transforms({ type: 'outbox' }), { describeTable: noTable });
    const err = await sink.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as Error).message).toMatch(/only Kafka and console sinks write/);
    const kafkaLike = withTransforms(recordingSink(true), transforms({ type: 'outbox' }), { describeTable: noTable });
    await kafkaLike.start();
    await kafkaLike.write([outbox.insert()], info);
  });

  it('is the sink itself when there are no transforms', () => {
    const inner = recordingSink(false);
    expect(withTransforms(inner, null, { describeTable: noTable })).toBe(inner);
  });
});
