import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crc32C, encodeProduceBody, type ProduceBody } from './kafka-record-batch.ts';
import { useOwnProduceEncoding } from './kafka-produce-request.ts';

const require = createRequire(import.meta.url);
const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (body: ProduceBody) => { encode: () => Promise<{ buffer: Buffer }> };
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodec: (type: number) => { compress: (encoder: { buffer: Buffer }) => Promise<Buffer> };
};
const produceTable = require('kafkajs/src/protocol/requests/produce/index.js') as {
  protocol: (a: { version: number }) => (body: ProduceBody) => { request: { apiVersion: number; encode: () => Promise<{ buffer: Buffer }> } };
};

const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: Array<{ headers: Record<string, Buffer | null> }> }>;
const compress = (type: number, records: Buffer) => lookupCodec(type).compress({ buffer: records });
const NOW = 1_796_500_000_123;

async function kafkajsBytes(body: ProduceBody): Promise<Buffer> {
  return (await kafkajsProduceV3(body).encode()).buffer;
}

const sinkRecords = Array.from({ length: 300 }, (_, i) => ({
  key: Buffer.from(`{"schema":{"type":"struct"},"payload":{"id":${i}}}`),
  value: i % 10 === 9 ? null : Buffer.from(`{"payload":{"id":${i},"note":"${'é'.repeat(i * 7)}"}}`),
  headers: { 'slotline.lsn': `0/1A2B${i.toString(16)}`, 'slotline.txid': String(1000 + i) },
}));

const cases: Array<[string, ProduceBody]> = [
  ['the sink’s records: byte keys and values, tombstones, string headers', {
    acks: -1, timeout: 30_000, producerId: '4711', producerEpoch: 3,
    topicData: [{ topic: 'bench.public.rows', partitions: [{ partition: 2, firstSequence: 1200, messages: sinkRecords }] }],
  }],
  ['no producer id, null keys, no headers, string values', {
    acks: 1, timeout: 5_000,
    topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: null, value: 'plain' }, { value: 'no key field' }, { key: 'k', value: 'ü', headers: {} }] }] }],
  }],
  ['repeated and byte headers', {
    acks: -1, timeout: 30_000, producerId: -1,
    topicData: [{ topic: 'h', partitions: [{ partition: 1, messages: [
      { key: 'a', value: 'v', headers: { __debezium: ['x', Buffer.from([0, 1, 2])], solo: Buffer.from('b'), empty: '' } },
      { key: 'b', value: null, headers: { tomb: 'stone' } },
      { key: 'c', value: 'v', headers: { 'naïve': 'ünïcödé', ascii: 'x'.repeat(40), long: 'é'.repeat(40), 'ß': ['1', 'ö'] } },
    ] }] }],
  }],
  ['record timestamps, some missing', {
    acks: -1, timeout: 30_000,
    topicData: [{ topic: 'ts', partitions: [{ partition: 0, messages: [
      { key: 'a', value: '1', timestamp: String(NOW - 5_000) },
      { key: 'b', value: '2' },
      { key: 'c', value: '3', timestamp: String(NOW - 9_000_000_000) },
    ] }] }],
  }],
  ['transactional, several topics and partitions', {
    acks: -1, timeout: 30_000, transactionalId: 'slotline-orders-ß', producerId: '9007199254740993', producerEpoch: 32767,
    topicData: [
      { topic: 'a', partitions: [{ partition: 0, firstSequence: 2_147_483_000, messages: sinkRecords.slice(0, 3) }, { partition: 5, firstSequence: 0, messages: sinkRecords.slice(3, 200) }] },
      { topic: 'slotline.checkpoints', partitions: [{ partition: 0, firstSequence: 7, messages: [{ key: 'orders', value: '{"lsn":"0/16B3748"}' }] }] },
    ],
  }],
  ['large values: multi-byte lengths', {
    acks: -1, timeout: 30_000,
    topicData: [{ topic: 'big', partitions: [{ partition: 0, messages: [{ key: randomBytes(200), value: randomBytes(70_000) }, { key: null, value: randomBytes(20_000) }] }] }],
  }],
];

describe('Produce request body', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(cases)('%s: the bytes kafkajs writes', async (_name, body) => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    expect((await encodeProduceBody(body, compress)).equals(await kafkajsBytes(body))).toBe(true);
  });

  it('a gzip batch: the bytes kafkajs writes', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    const body: ProduceBody = { ...cases[0][1], compression: 1 };
    const ours = await encodeProduceBody(body, compress);
    expect(ours.equals(await kafkajsBytes(body))).toBe(true);
    expect(ours.length).toBeLessThan((await encodeProduceBody(cases[0][1], compress)).length / 2);
  });

  it('a header without a value is written as a null header (kafkajs throws a TypeError on it)', async () => {
    const body: ProduceBody = { acks: -1, timeout: 30_000, topicData: [{ topic: 'h', partitions: [{ partition: 0, messages: [
      { key: 'a', value: 'v', headers: { 'id': 'x', 'note': null, 'gone': undefined } },
    ] }] }] };
    await expect(kafkajsBytes(body)).rejects.toThrow(TypeError);
    const bytes = await encodeProduceBody(body, compress);
    const batchAt = 2 + 2 + 4 + 4 + 2 + 1 + 4 + 4 + 4;
    const batch = await decodeRecordBatch(new Decoder(bytes.subarray(batchAt)));
    expect(batch.records[0].headers).toEqual({ id: Buffer.from('x'), note: null, gone: null });
  });

  it('a codec that fails fails the request, as kafkajs does', async () => {
    const body: ProduceBody = { ...cases[1][1], compression: 3 };
    await expect(encodeProduceBody(body, async () => { throw new Error('lz4 not loaded'); })).rejects.toThrow('lz4 not loaded');
  });

  it('CRC-32C agrees with kafkajs on every length around the 8-byte stride', () => {
    for (let n = 0; n < 40; n++) {
      const b = randomBytes(n + 1000);
      expect(crc32C(b, 0, b.length)).toBe(kafkajsCrc32C(b));
    }
  });

  it('kafkajs sends our bytes for Produce v3–v7 once installed, and its own for older versions', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    const body = cases[0][1];
    const v2Before = (await produceTable.protocol({ version: 2 })({ ...body, topicData: [] }).request.encode()).buffer;
    useOwnProduceEncoding();
    useOwnProduceEncoding();
    for (const version of [3, 4, 5, 6, 7]) {
      const { request } = produceTable.protocol({ version })(body);
      expect(request.apiVersion).toBe(version);
      expect((await request.encode()).buffer.equals(await encodeProduceBody(body, compress))).toBe(true);
    }
    expect((await produceTable.protocol({ version: 2 })({ ...body, topicData: [] }).request.encode()).buffer.equals(v2Before)).toBe(true);
  });

  it('kafkajs frames our body in the room left in front of it: the same bytes, one buffer', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    useOwnProduceEncoding();
    const createRequest = require('kafkajs/src/protocol/request.js') as (a: { correlationId: number; clientId: string; request: unknown }) => Promise<{ buffer: Buffer }>;
    const body = cases[5][1];
    const expectedBody = await encodeProduceBody(body, compress);
    for (const clientId of ['slotline', 'ß'.repeat(200)]) {
      const { request } = produceTable.protocol({ version: 7 })(body);
      let encoded: { buf: Buffer } | undefined;
      const encode = async () => (encoded = (await request.encode()) as unknown as { buf: Buffer; buffer: Buffer });
      const framed = (await createRequest({ correlationId: 42, clientId, request: { ...request, encode } })).buffer;
      const header = Buffer.alloc(10);
      header.writeInt16BE(0, 0); // apiKey Produce
      header.writeInt16BE(7, 2);
      header.writeInt32BE(42, 4);
      header.writeInt16BE(Buffer.byteLength(clientId), 8);
      const payload = Buffer.concat([header, Buffer.from(clientId), expectedBody]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      expect(framed.equals(Buffer.concat([size, payload]))).toBe(true);
      // A clientId of 400 bytes does not fit the room: kafkajs copies, as it always did.
      expect(framed.buffer === encoded!.buf.buffer).toBe(clientId === 'slotline');
    }
  });
});
