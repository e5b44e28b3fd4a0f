/**
 * The body of a Produce request (versions 3–7 share it) with its record
 * batches (magic 2), written into one buffer sized first. kafkajs writes a
 * record through several nested encoders, each a zero-filled buffer that
 * doubles and copies as it grows: ~42 KiB allocated per 4 KB record, outside
 * the V8 heap, and the full collections that external memory forces took half
 * of the worker's CPU into Kafka (docs/kafka-performance.md, step 6). Here a request
 * is one allocation and each key, value and header is copied once.
 *
 * The bytes are kafkajs' own for the same input (kafka-record-batch.test.ts
 * compares them), so acks, idempotent sequences, transactions and the broker's
 * answers are unchanged; kafka-produce-request.ts puts this in kafkajs' place.
 */
import { crc32c } from '@node-rs/crc32';

/** One record as kafkajs hands it to its Produce request. */
export interface BatchMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | null | undefined | Array<Buffer | string>>;
  timestamp?: string | number;
}

export interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: BatchMessage[];
}

export interface ProduceBody {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  /** kafkajs passes the broker's id as a string (or -1 before it has one). */
  producerId?: bigint | number | string;
  producerEpoch?: number;
  /** kafkajs' CompressionTypes: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression?: number;
  topicData: Array<{ topic: string; partitions: PartitionData[] }>;
}

/** Compresses a batch's records (kafkajs' codec registry, so the codecs a sink file registers apply). */
export type CompressRecords = (compression: number, records: Buffer) => Promise<Buffer>;

const MAGIC = 2;
const TRANSACTIONAL = 0x10;
/** attributes 2, lastOffsetDelta 4, firstTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2, firstSequence 4, record count 4 */
const CRC_COVERED_HEADER = 40;
/** firstOffset 8, length 4, partitionLeaderEpoch 4, magic 1, crc 4 */
const BATCH_PREFIX = 21;

/** A partition's batch, sized but not yet written; compressed batches carry their compressed records. */
interface PlannedBatch {
  partition: number;
  firstSequence: number;
  messages: BatchMessage[];
  sizes: number[];
  timestampDeltas: number[];
  /** Headers per record: an array value is one header per element. */
  headerCounts: number[];
  firstTimestamp: number;
  maxTimestamp: number;
  compressed: Buffer | undefined;
  bytes: number;
}

/**
 * The request body, one buffer of `place(bytes)`: by default a new one; the
 * sink's is a view into a buffer it reuses, with room in front for the
 * framing (kafka-produce-request.ts).
 */
export async function encodeProduceBody(body: ProduceBody, compress: CompressRecords, place: (bytes: number) => Buffer = Buffer.allocUnsafe): Promise<Buffer> {
  const compression = body.compression ?? 0;
  const transactionalId = body.transactionalId ?? null;
  const now = Date.now();
  const topics: Array<{ topic: string; batches: PlannedBatch[] }> = [];
  let total = nullableStringBytes(transactionalId) + 2 + 4 + 4;
  for (const { topic, partitions } of body.topicData) {
    const batches: PlannedBatch[] = [];
    total += 2 + Buffer.byteLength(topic) + 4;
    for (const data of partitions) {
      const batch = planBatch(data, now);
      if (compression !== 0) {
        const records = Buffer.allocUnsafe(batch.bytes);
        writeRecords(records, 0, batch);
        batch.compressed = await compress(compression, records);
        batch.bytes = batch.compressed.length;
      }
      batch.bytes += BATCH_PREFIX + CRC_COVERED_HEADER;
      total += 4 + 4 + batch.bytes;
      batches.push(batch);
    }
    topics.push({ topic, batches });
  }

  const b = place(total);
  let at = writeNullableString(b, 0, transactionalId);
  at = b.writeInt16BE(body.acks, at);
  at = b.writeInt32BE(body.timeout, at);
  at = b.writeInt32BE(topics.length, at);
  for (const { topic, batches } of topics) {
    at = writeNullableString(b, at, topic);
    at = b.writeInt32BE(batches.length, at);
    for (const batch of batches) {
      at = b.writeInt32BE(batch.partition, at);
      at = b.writeInt32BE(batch.bytes, at);
      at = writeBatch(b, at, batch, compression, transactionalId !== null, BigInt(body.producerId ?? -1), body.producerEpoch ?? 0);
    }
  }
  if (at !== total) throw new Error(`Produce request: wrote ${at} bytes, sized ${total}`);
  return b;
}

function planBatch(data: PartitionData, now: number): PlannedBatch {
  const { messages } = data;
  let firstTimestamp = Infinity;
  let maxTimestamp = -Infinity;
  for (const m of messages) {
    if (m.timestamp == null) continue;
    const t = Number(m.timestamp);
    if (t < firstTimestamp) firstTimestamp = t;
    if (t > maxTimestamp) maxTimestamp = t;
  }
  if (firstTimestamp === Infinity) firstTimestamp = maxTimestamp = now;
  const sizes = new Array<number>(messages.length);
  const timestampDeltas = new Array<number>(messages.length);
  const headerCounts = new Array<number>(messages.length);
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const delta = (m.timestamp ? Number(m.timestamp) : now) - firstTimestamp;
    // Header names and values walked in place, twice (here and writeRecords): no pair arrays per record.
    let count = 0;
    let size = 1 + varLongBytes(delta) + varLongBytes(i) + bytesFieldSize(m.key ?? null) + bytesFieldSize(m.value);
    const headers = m.headers;
    if (headers) {
      for (const name in headers) {
        const value = headers[name];
        if (Array.isArray(value)) {
          for (const one of value) size += bytesFieldSize(name) + bytesFieldSize(one);
          count += value.length;
        } else {
          size += bytesFieldSize(name) + bytesFieldSize(value ?? null);
          count++;
        }
      }
    }
    size += varLongBytes(count);
    sizes[i] = size;
    timestampDeltas[i] = delta;
    headerCounts[i] = count;
    bytes += varLongBytes(size) + size;
  }
  return { partition: data.partition, firstSequence: data.firstSequence ?? 0, messages, sizes, timestampDeltas, headerCounts, firstTimestamp, maxTimestamp, compressed: undefined, bytes };
}

function writeBatch(b: Buffer, at: number, batch: PlannedBatch, compression: number, transactional: boolean, producerId: bigint, producerEpoch: number): number {
  at = b.writeBigInt64BE(0n, at); // firstOffset: the broker assigns offsets
  at = b.writeInt32BE(batch.bytes - 12, at);
  at = b.writeInt32BE(0, at); // partitionLeaderEpoch
  at = b.writeInt8(MAGIC, at);
  const crcAt = at;
  at += 4;
  at = b.writeInt16BE(compression | (transactional ? TRANSACTIONAL : 0), at);
  at = b.writeInt32BE(batch.messages.length - 1, at);
  at = b.writeBigInt64BE(BigInt(batch.firstTimestamp), at);
  at = b.writeBigInt64BE(BigInt(batch.maxTimestamp), at);
  at = b.writeBigInt64BE(producerId, at);
  at = b.writeInt16BE(producerEpoch, at);
  at = b.writeInt32BE(batch.firstSequence, at);
  at = b.writeInt32BE(batch.messages.length, at);
  at = batch.compressed ? at + batch.compressed.copy(b, at) : writeRecords(b, at, batch);
  b.writeUInt32BE(crc32C(b, crcAt + 4, at), crcAt);
  return at;
}

function writeRecords(b: Buffer, at: number, batch: PlannedBatch): number {
  const { messages, sizes, timestampDeltas, headerCounts } = batch;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    at = writeVarLong(b, at, sizes[i]);
    b[at++] = 0; // record attributes: none defined
    at = writeVarLong(b, at, timestampDeltas[i]);
    at = writeVarLong(b, at, i);
    at = writeBytesField(b, at, m.key ?? null);
    at = writeBytesField(b, at, m.value);
    at = writeVarLong(b, at, headerCounts[i]);
    const headers = m.headers;
    if (!headers) continue;
    for (const name in headers) {
      const value = headers[name];
      if (Array.isArray(value)) {
        for (const one of value) {
          at = writeBytesField(b, at, name);
          at = writeBytesField(b, at, one);
        }
      } else {
        at = writeBytesField(b, at, name);
        at = writeBytesField(b, at, value ?? null);
      }
    }
  }
  return at;
}

function nullableStringBytes(s: string | null): number {
  return 2 + (s === null ? 0 : Buffer.byteLength(s));
}

function writeNullableString(b: Buffer, at: number, s: string | null): number {
  if (s === null) return b.writeInt16BE(-1, at);
  const length = b.write(s, at + 2, 'utf8');
  b.writeInt16BE(length, at);
  return at + 2 + length;
}

function bytesFieldSize(v: Buffer | string | null): number {
  if (v === null) return 1;
  const n = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  return varLongBytes(n) + n;
}

function writeBytesField(b: Buffer, at: number, v: Buffer | string | null): number {
  if (v === null) return writeVarLong(b, at, -1);
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v);
    at = writeVarLong(b, at, n);
    return at + b.write(v, at, 'utf8');
  }
  at = writeVarLong(b, at, v.length);
  return at + v.copy(b, at);
}

/** Zig-zag varint in plain numbers: exact to 2^52, far beyond any length or timestamp delta. */
function zigZag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function varLongBytes(v: number): number {
  let n = 1;
  for (let u = zigZag(v); u >= 0x80; u = Math.floor(u / 0x80)) n++;
  return n;
}

function writeVarLong(b: Buffer, at: number, v: number): number {
  let u = zigZag(v);
  while (u >= 0x80) {
    b[at++] = (u % 0x80) | 0x80;
    u = Math.floor(u / 0x80);
  }
  b[at++] = u;
  return at;
}

/**
 * CRC-32C (Castagnoli): a record batch's checksum, over everything after the CRC
 * field. Native (@node-rs/crc32, SSE 4.2 / ARMv8 CRC instructions): 12 GB/s here
 * against 0.7 GB/s for slice-by-8 tables in JavaScript, which took 5–8 % of the
 * worker's CPU into Kafka.
 */
export function crc32C(b: Buffer, start: number, end: number): number {
  return crc32c(b.subarray(start, end));
}
