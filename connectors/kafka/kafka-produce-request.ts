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
 */
import { createRequire } from 'node:module';
import { encodeProduceBody, type CompressRecords, type ProduceBody } from './kafka-record-batch.ts';

const require = createRequire(import.meta.url);

/** What we touch of kafkajs' table: a version's request keeps its apiKey, apiVersion and expectResponse; we replace encode. */
interface KafkajsProduceTable {
  protocol: (args: { version: number }) => (body: ProduceBody) => { request: { encode: () => Promise<unknown> }; response: unknown };
}
type KafkajsEncoder = { buf: Buffer; offset: number };

const OURS = Symbol.for('slotline.produce-request');
const FIRST_BATCH_VERSION = 3;
const LAST_KNOWN_VERSION = 7;

/** Installs our encoder once per process; later calls do nothing. */
export function useOwnProduceEncoding(): void {
  const table = require('kafkajs/src/protocol/requests/produce/index.js') as KafkajsProduceTable & { [OURS]?: true };
  if (table[OURS]) return;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new (initialSize?: number) => KafkajsEncoder;
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodec: (type: number) => { compress: (encoder: { buffer: Buffer }) => Promise<Buffer> } | null;
  };
  const compress: CompressRecords = async (compression, records) => {
    const codec = lookupCodec(compression);
    if (!codec) throw new Error(`no codec for compression type ${compression}`);
    return codec.compress({ buffer: records });
  };
  const kafkajsProtocol = table.protocol;
  table.protocol = ({ version }) => {
    const kafkajsVersion = kafkajsProtocol({ version });
    if (version < FIRST_BATCH_VERSION || version > LAST_KNOWN_VERSION) return kafkajsVersion;
    return (body) => {
      const { request, response } = kafkajsVersion(body);
      const encode = async () => {
        const bytes = await encodeProduceBody(body, compress);
        // kafkajs frames what encode() returns by reading an Encoder's buffer and size.
        const encoder = new Encoder(0);
        encoder.buf = bytes;
        encoder.offset = bytes.length;
        return encoder;
      };
      return { request: { ...request, encode }, response };
    };
  };
  table[OURS] = true;
}
