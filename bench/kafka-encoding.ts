/**
 * What the Kafka client's record encoding costs, in isolation: CPU per record
 * to encode one ~1 MB Produce request (v3, one partition, the sink's two
 * headers per record) with kafkajs, against the sink's own encoder
 * (connectors/kafka/kafka-record-batch.ts: sized first, one buffer, slice-by-8
 * CRC-32C), which the sink puts in kafkajs' place. The two must write the same
 * bytes; that is checked before timing.
 *
 *   node bench/kafka-encoding.ts [value bytes, default 4300 (schemas on); 700 is schemas off]
 */
import { createRequire } from 'node:module';
import { encodeProduceBody } from '../connectors/kafka/kafka-record-batch.ts';

const require = createRequire(import.meta.url);
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js');

const valueBytes = Number(process.argv[2] ?? 4300);
const TOPIC = 'bench.public.bench_rows';
const key = Buffer.from('{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"bench.public.bench_rows.Key"},"payload":{"id":123456}}');
const perRequest = Math.floor(1_000_000 / (valueBytes + key.length + 60));
// The sink's shape: byte keys and values, string headers.
const messages = Array.from({ length: perRequest }, (_, i) => ({
  key,
  value: Buffer.from(`{"payload":"${String(i).padStart(8, '0')}${'x'.repeat(valueBytes - 24)}"}`),
  headers: { 'slotline.lsn': `0/5A2B3C${(i % 100).toString().padStart(2, '0')}`, 'slotline.txid': '123456' },
}));

const body = () => ({ acks: -1, timeout: 30_000, producerId: '7', topicData: [{ topic: TOPIC, partitions: [{ partition: 0, firstSequence: 0, messages }] }] });
const noCompression = () => Promise.reject(new Error('not compressed'));
const now = Date.now;
Date.now = () => 1_796_500_000_000;
const same = (await encodeProduceBody(body(), noCompression)).equals((await produceV3(body()).encode()).buffer);
Date.now = now;
if (!same) throw new Error('the sink\'s encoder and kafkajs wrote different bytes');

async function cpuPerRecord(label: string, encode: () => unknown): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 9; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < 20; i++) await encode();
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / (20 * perRequest));
  }
  const median = rounds.sort((a, b) => a - b)[4];
  console.log(`${label.padEnd(46)} ${median.toFixed(2)} µs CPU/record`);
  return median;
}

// Bytes kafkajs allocates (zero-filled, outside the V8 heap) per record it encodes.
const alloc = Buffer.alloc;
let allocated = 0;
Buffer.alloc = ((size: number, ...rest: never[]) => ((allocated += size), alloc(size, ...rest))) as typeof Buffer.alloc;
await produceV3(body()).encode();
Buffer.alloc = alloc;

console.log(`${perRequest} records of ${key.length + valueBytes} B (key + value) and 2 headers per ~1 MB request; medians of 9 rounds of 20 requests`);
const kafkajs = await cpuPerRecord('kafkajs 2.2.4 Produce v3 encode', async () =>
  (await produceV3(body()).encode()).buffer);
console.log(`${' '.repeat(46)} ${(allocated / perRequest / 1024).toFixed(0)} KiB zero-filled Buffer.alloc per record (before the connection frames the request)`);
const ours = await cpuPerRecord('the sink\'s encoder (kafka-record-batch.ts)', () => encodeProduceBody(body(), noCompression));
console.log(`kafkajs ÷ the sink's: ${(kafkajs / ours).toFixed(1)}×`);
