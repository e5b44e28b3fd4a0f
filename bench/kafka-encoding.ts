/**
 * What the Kafka client's record encoding costs, in isolation: CPU per record
 * to encode one ~1 MB Produce request (v3, one partition, the sink's two
 * headers per record) with kafkajs, against a minimal RecordBatch v2 encoder
 * that sizes the request first, writes it into one buffer and computes its
 * CRC-32C with slice-by-8 tables. The minimal encoder is a measuring stick for
 * issue 11 (docs/benchmark.md), not used by the sink; its batch is checked
 * against kafkajs' own decoder and CRC before timing.
 *
 *   node bench/kafka-encoding.ts [value bytes, default 4300 (schemas on); 700 is schemas off]
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js');
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const Decoder = require('kafkajs/src/protocol/decoder.js');
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');

const CRC_TABLES = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC_TABLES[0][n] = c;
}
for (let n = 0; n < 256; n++) for (let t = 1; t < 8; t++) CRC_TABLES[t][n] = (CRC_TABLES[t - 1][n] >>> 8) ^ CRC_TABLES[0][CRC_TABLES[t - 1][n] & 0xff];
const [T0, T1, T2, T3, T4, T5, T6, T7] = CRC_TABLES;

function crc32C(b: Buffer, start: number, end: number): number {
  let crc = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = crc ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    crc = T7[a & 0xff] ^ T6[(a >>> 8) & 0xff] ^ T5[(a >>> 16) & 0xff] ^ T4[a >>> 24] ^ T3[b[i + 4]] ^ T2[b[i + 5]] ^ T1[b[i + 6]] ^ T0[b[i + 7]];
  }
  for (; i < end; i++) crc = T0[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const zigZag = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0;
function varIntBytes(v: number): number {
  let n = 1;
  for (let u = zigZag(v); u >= 0x80; u >>>= 7) n++;
  return n;
}
function writeVarInt(b: Buffer, at: number, v: number): number {
  let u = zigZag(v);
  for (; u >= 0x80; u >>>= 7) b[at++] = (u & 0x7f) | 0x80;
  b[at++] = u;
  return at;
}

interface Rec { key: Buffer; value: Buffer; headers: Array<[Buffer, Buffer]> }

function recordBodyBytes(r: Rec, offsetDelta: number): number {
  let n = 1 + varIntBytes(0) + varIntBytes(offsetDelta) + varIntBytes(r.key.length) + r.key.length + varIntBytes(r.value.length) + r.value.length + varIntBytes(r.headers.length);
  for (const [k, v] of r.headers) n += varIntBytes(k.length) + k.length + varIntBytes(v.length) + v.length;
  return n;
}

const BATCH_HEADER_BYTES = 61; // firstOffset 8, length 4, leader epoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4, timestamps 16, producer 14, count 4

/** The Produce v3 body for one partition, and where its record batch starts. */
function encodeMinimal(topic: string, records: Rec[], producerId: bigint, epoch: number, sequence: number): { request: Buffer; batchAt: number } {
  const sizes = records.map(recordBodyBytes);
  let batchBytes = BATCH_HEADER_BYTES;
  for (const s of sizes) batchBytes += varIntBytes(s) + s;
  const topicBytes = Buffer.byteLength(topic);
  const total = 2 + 2 + 4 + 4 + 2 + topicBytes + 4 + 4 + 4 + batchBytes;
  const b = Buffer.allocUnsafe(total);
  let at = b.writeInt16BE(-1, 0); // transactional id: null
  at = b.writeInt16BE(-1, at); // acks=all
  at = b.writeInt32BE(30_000, at);
  at = b.writeInt32BE(1, at);
  at = b.writeInt16BE(topicBytes, at);
  at += b.write(topic, at, 'utf8');
  at = b.writeInt32BE(1, at);
  at = b.writeInt32BE(0, at); // partition
  at = b.writeInt32BE(batchBytes, at);
  const batchAt = at;
  const now = BigInt(Date.now());
  at = b.writeBigInt64BE(0n, at);
  at = b.writeInt32BE(batchBytes - 12, at);
  at = b.writeInt32BE(0, at);
  at = b.writeInt8(2, at);
  const crcAt = at;
  at += 4;
  at = b.writeInt16BE(0, at);
  at = b.writeInt32BE(records.length - 1, at);
  at = b.writeBigInt64BE(now, at);
  at = b.writeBigInt64BE(now, at);
  at = b.writeBigInt64BE(producerId, at);
  at = b.writeInt16BE(epoch, at);
  at = b.writeInt32BE(sequence, at);
  at = b.writeInt32BE(records.length, at);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    at = writeVarInt(b, at, sizes[i]);
    b[at++] = 0; // attributes
    at = writeVarInt(b, at, 0); // timestamp delta
    at = writeVarInt(b, at, i);
    at = writeVarInt(b, at, r.key.length);
    at += r.key.copy(b, at);
    at = writeVarInt(b, at, r.value.length);
    at += r.value.copy(b, at);
    at = writeVarInt(b, at, r.headers.length);
    for (const [k, v] of r.headers) {
      at = writeVarInt(b, at, k.length);
      at += k.copy(b, at);
      at = writeVarInt(b, at, v.length);
      at += v.copy(b, at);
    }
  }
  if (at !== total) throw new Error(`encoded ${at} bytes, sized ${total}`);
  b.writeUInt32BE(crc32C(b, crcAt + 4, at), crcAt);
  return { request: b, batchAt };
}

const valueBytes = Number(process.argv[2] ?? 4300);
const TOPIC = 'bench.public.bench_rows';
const key = Buffer.from('{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"bench.public.bench_rows.Key"},"payload":{"id":123456}}');
const perRequest = Math.floor(1_000_000 / (valueBytes + key.length + 60));
const records: Rec[] = Array.from({ length: perRequest }, (_, i) => ({
  key,
  value: Buffer.from(`{"payload":"${String(i).padStart(8, '0')}${'x'.repeat(valueBytes - 24)}"}`),
  headers: [[Buffer.from('slotline.lsn'), Buffer.from(`0/5A2B3C${(i % 100).toString().padStart(2, '0')}`)], [Buffer.from('slotline.txid'), Buffer.from('123456')]],
}));
const messages = records.map((r) => ({ key: r.key, value: r.value, headers: Object.fromEntries(r.headers.map(([k, v]) => [k.toString(), v.toString()])) }));

// The minimal batch must be what kafkajs reads, with the CRC kafkajs computes.
const { request, batchAt } = encodeMinimal(TOPIC, records, 7n, 0, 0);
const decoded = await decodeRecordBatch(new Decoder(request.subarray(batchAt)));
for (const [i, r] of records.entries()) {
  const d = decoded.records[i];
  const same = d.key.equals(r.key) && d.value.equals(r.value) && Number(d.offset) === i && r.headers.every(([k, v]) => d.headers[k.toString()].equals(v));
  if (!same) throw new Error(`record ${i} decodes differently`);
}
const crcFrom = batchAt + 21;
if (request.readUInt32BE(batchAt + 17) !== kafkajsCrc32C(request.subarray(crcFrom))) throw new Error('CRC-32C differs from kafkajs');

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
await produceV3({ acks: -1, timeout: 30_000, topicData: [{ topic: TOPIC, partitions: [{ partition: 0, firstSequence: 0, messages }] }] }).encode();
Buffer.alloc = alloc;

console.log(`${perRequest} records of ${key.length + valueBytes} B (key + value) and 2 headers per ~1 MB request; medians of 9 rounds of 20 requests`);
const kafkajs = await cpuPerRecord('kafkajs 2.2.4 Produce v3 encode', async () =>
  (await produceV3({ acks: -1, timeout: 30_000, topicData: [{ topic: TOPIC, partitions: [{ partition: 0, firstSequence: 0, messages }] }] }).encode()).buffer);
console.log(`${' '.repeat(46)} ${(allocated / perRequest / 1024).toFixed(0)} KiB zero-filled Buffer.alloc per record (before the connection frames the request)`);
const minimal = await cpuPerRecord('one buffer, slice-by-8 CRC-32C', () => encodeMinimal(TOPIC, records, 7n, 0, 0));
console.log(`kafkajs ÷ minimal: ${(kafkajs / minimal).toFixed(1)}×`);
