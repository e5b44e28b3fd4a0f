import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner, murmur2 } from './kafka-partitioner.ts';

describe('murmur2', () => {
  // org.apache.kafka.common.utils.UtilsTest.testMurmur2
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) = %i, as in Kafka', (text, hash) => {
    expect(murmur2(Buffer.from(text))).toBe(hash);
  });
});

describe('Java-compatible partitioner', () => {
  const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

  it('picks the same partition as kafkajs\' (Long-based) DefaultPartitioner for Debezium-shaped keys', () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 2000; i++) {
      const key = i % 2 ? `{"id":${i * 7919}}` : `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"app.public.t.Key"},"payload":{"id":${i}}}`;
      for (const n of [1, 3, 6, 12]) {
        const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('round-robins records without a key over partitions with a leader', () => {
    const partition = javaCompatiblePartitioner();
    const meta = [...metadata(3), { partitionId: 3, leader: -1, replicas: [1], isr: [], partitionErrorCode: 0 }];
    const seen = new Set(Array.from({ length: 30 }, () => partition({ topic: 't', partitionMetadata: meta, message: { key: null, value: 'x' } })));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});
