/**
 * Puts our Produce request encoding (kafka-record-batch.ts) in kafkajs' place
 * for the versions that carry record batches (3–7, all a Kafka ≥ 0.11 broker
 * speaks). Only the bytes of the request body change hands: kafkajs still
 * picks the version, assigns idempotent sequences and transactions, frames,
 * sends, decodes the response and raises its errors, so every guarantee and
 * error mapping of the sink is what it was. The hook is kafkajs' request table
 * (`protocol/requests/produce`), looked up on every produce; kafkajs 2.2.4 is
 * pinned in package.json, and the bytes are compared with its own encoder in
 * kafka-record-batch.test.ts, so a change there cannot pass unnoticed.
 *
 * kafkajs frames a request (size, apiKey, apiVersion, correlationId,
 * clientId) by copying the body twice into zero-filled encoders that grow to
 * the next power of two (protocol/request.js): 4 MiB allocated, zeroed and
 * written per 1 MB request, outside the V8 heap. Our body leaves room in front
 * of itself, and kafkajs' Encoder#writeEncoder, given such a body, writes the
 * framing into that room instead: the bytes sent are the same and the request
 * is one allocation (docs/kafka-performance.md, step 9).
 *
 * That allocation is reused: a body of up to SLAB_BYTES is written into a
 * slab that goes back to a small pool once the broker's answer to the
 * request arrives (the broker answers only what it has read in full). A slab
 * whose request goes unanswered (a timeout, a closed connection) is left to
 * the garbage collector. Freed 1 MB request buffers were otherwise garbage
 * outside the V8 heap until a full collection.
 */
import { createRequire } from 'node:module';
import { encodeProduceBody, type CompressRecords, type ProduceBody } from './kafka-record-batch.ts';

const require = createRequire(import.meta.url);

/** What we touch of kafkajs' table: a version's request keeps its apiKey, apiVersion and expectResponse; we replace encode. */
interface KafkajsProduceTable {
  protocol: (args: { version: number }) => (body: ProduceBody) => { request: { encode: () => Promise<unknown> }; response: unknown };
}
type KafkajsResponse = { decode: (payload: unknown) => Promise<unknown> };
type KafkajsEncoder = { buf: Buffer; offset: number; [ROOM]?: number };
type KafkajsEncoderClass = (new (initialSize?: number) => KafkajsEncoder) & { prototype: { writeEncoder(this: KafkajsEncoder, value: KafkajsEncoder): KafkajsEncoder } };

const OURS = Symbol.for('slotline.produce-request');
/** On an encoder whose buf is a view into a larger buffer of ours: how many bytes before it are free for framing. */
const ROOM = Symbol.for('slotline.framing-room');
/** Framing before a request body: size 4, apiKey 2, apiVersion 2, correlationId 4, clientId (2 + its bytes). A longer clientId takes kafkajs' copying path. */
const FRAMING_ROOM = 14 + 256;
/** A 1 MB request (MAX_REQUEST_BYTES of records) with its batch headers and framing room. */
const SLAB_BYTES = 1_310_720;
/** Slabs kept for reuse: one request in flight per broker. */
const SPARE_SLABS = 4;
const FIRST_BATCH_VERSION = 3;
const LAST_KNOWN_VERSION = 7;

/** Installs our encoder once per process; later calls do nothing. */
export function useOwnProduceEncoding(): void {
  const table = require('kafkajs/src/protocol/requests/produce/index.js') as KafkajsProduceTable & { [OURS]?: true };
  if (table[OURS]) return;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as KafkajsEncoderClass;
  frameInPlace(Encoder);
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodec: (type: number) => { compress: (encoder: { buffer: Buffer }) => Promise<Buffer> } | null;
  };
  const compress: CompressRecords = async (compression, records) => {
    const codec = lookupCodec(compression);
    if (!codec) throw new Error(`no codec for compression type ${compression}`);
    return codec.compress({ buffer: records });
  };
  const slabs = createSlabs();
  const kafkajsProtocol = table.protocol;
  table.protocol = ({ version }) => {
    const kafkajsVersion = kafkajsProtocol({ version });
    if (version < FIRST_BATCH_VERSION || version > LAST_KNOWN_VERSION) return kafkajsVersion;
    return (body) => {
      const { request, response } = kafkajsVersion(body) as { request: { encode: () => Promise<unknown> }; response: KafkajsResponse };
      /** The slabs this request's encodings took; with one, the answer proves the broker read it. */
      const taken: Buffer[] = [];
      const place = (bytes: number): Buffer => {
        const slab = slabs.take(FRAMING_ROOM + bytes);
        if (slab) taken.push(slab);
        return (slab ?? Buffer.allocUnsafe(FRAMING_ROOM + bytes)).subarray(FRAMING_ROOM, FRAMING_ROOM + bytes);
      };
      const decode = (payload: unknown) => {
        // Encoded twice (kafkajs resent it), the other copy may still be queued on a socket.
        if (taken.length === 1 && body.acks !== 0) slabs.giveBack(taken[0]);
        taken.length = 0;
        return response.decode(payload);
      };
      const encode = async () => {
        const bytes = await encodeProduceBody(body, compress, place);
        // kafkajs frames what encode() returns by reading an Encoder's buffer and size.
        const encoder = new Encoder(0);
        encoder.buf = bytes;
        encoder.offset = bytes.length;
        encoder[ROOM] = FRAMING_ROOM;
        return encoder;
      };
      return { request: { ...request, encode }, response: { ...response, decode } };
    };
  };
  table[OURS] = true;
}

/**
 * kafkajs' Encoder#writeEncoder(value) appends value's bytes. When value has
 * room in front (ROOM) for what this encoder holds, the bytes so far go into
 * that room and this encoder takes value's buffer as its own: the same bytes,
 * no copy. Every other call is kafkajs' own.
 */
function frameInPlace(Encoder: KafkajsEncoderClass): void {
  const copying = Encoder.prototype.writeEncoder;
  Encoder.prototype.writeEncoder = function (value) {
    const room = value?.[ROOM];
    if (room === undefined || this.offset > room) return copying.call(this, value);
    const start = value.buf.byteOffset - this.offset;
    const joined = Buffer.from(value.buf.buffer, start, this.offset + value.offset);
    this.buf.copy(joined, 0, 0, this.offset);
    this[ROOM] = room - this.offset;
    this.buf = joined;
    this.offset = joined.length;
    return this;
  };
}

/** Reusable request buffers of SLAB_BYTES; take() gives one out, giveBack() only what it gave and has not had back. */
function createSlabs(): { take(bytes: number): Buffer | null; giveBack(slab: Buffer): void } {
  const spare: ArrayBufferLike[] = [];
  const lent = new WeakSet<ArrayBufferLike>();
  return {
    take(bytes) {
      if (bytes > SLAB_BYTES) return null;
      const memory = spare.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES).buffer;
      lent.add(memory);
      return Buffer.from(memory, 0, SLAB_BYTES);
    },
    giveBack(slab) {
      const memory = slab.buffer;
      if (lent.delete(memory) && spare.length < SPARE_SLABS) spare.push(memory);
    },
  };
}
