/**
 * Record batch compression: the codecs Debezium users set (`compression.type`
 * of the Java producer), registered with kafkajs, which ships only gzip.
 *
 * - zstd: Node's own zlib (Node ≥ 22.15), standard zstd frames as zstd-jni reads them.
 * - lz4: `lz4-napi` (lz4_flex through N-API, prebuilt): the LZ4 frame format
 *   with independent blocks and no content size, which Kafka's
 *   KafkaLZ4BlockInputStream reads for v2 record batches.
 * - snappy: `snappy` (the Snappy C++ library through N-API, prebuilt; by far
 *   the most used Node binding), in the xerial stream framing that the Java
 *   producer writes (snappy-java's SnappyOutputStream): a magic header, then
 *   length-prefixed raw Snappy blocks. Reading also takes a bare Snappy block,
 *   which some producers write.
 *
 * The N-API packages load their platform's binary (an optional dependency)
 * only when a sink uses the codec, so a missing binary stops that sink at
 * start with a hint, and no other sink cares. kafkajs keeps codecs in one
 * table per process, so registering is global and idempotent; consumers in
 * the same process (tests) can then read these batches.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { OperatorError } from '../../src/errors.ts';
import type { Compression } from './kafka-config.ts';
import { CompressionCodecs, CompressionTypes } from './kafkajs.ts';


type ZstdCodec = { compress: (data: Buffer) => Promise<Buffer>; decompress: (data: Buffer) => Promise<Buffer> };
let zstd: ZstdCodec | null = null;

/** Node's own zstd (zlib gained it in 22.15); an OperatorError on an older Node, which the sink reports at start. */
function loadZstd(): ZstdCodec {
  if (zstd) return zstd;
  // A namespace import, so that an older Node loads this module and only zstd is unavailable.
  const { zstdCompress, zstdDecompress } = zlib as Partial<Pick<typeof zlib, 'zstdCompress' | 'zstdDecompress'>>;
  if (!zstdCompress || !zstdDecompress) {
    throw new OperatorError(`compression zstd needs Node 22.15 or later; this is Node ${process.versions.node}`, {
      hint: 'run slotline on Node 22.15+ (the container image has Node 24), or choose gzip, snappy or lz4',
      permanent: true,
    });
  }
  return (zstd = { compress: promisify(zstdCompress), decompress: promisify(zstdDecompress) });
}

/** snappy-java's stream header: magic, then format version 1 and minimum compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
/** snappy-java's default block size: the Java consumer reads blocks of any size, this bounds each step. */
const XERIAL_BLOCK = 32 * 1024;

type Snappy = typeof import('snappy');
type Lz4 = typeof import('lz4-napi');
let snappy: Snappy | null = null;
let lz4: Lz4 | null = null;

export async function xerialSnappy(data: Buffer): Promise<Buffer> {
  const { compress: snappyCompress } = snappy ?? (await loadNative('snappy'));
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) {
    const block = await snappyCompress(data.subarray(at, at + XERIAL_BLOCK));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

export async function unxerialSnappy(data: Buffer): Promise<Buffer> {
  const { uncompress: snappyUncompress } = snappy ?? (await loadNative('snappy'));
  if (data.length < XERIAL_HEADER.length || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return (await snappyUncompress(data, { asBuffer: true })) as Buffer;
  }
  const parts: Buffer[] = [];
  for (let at = XERIAL_HEADER.length; at < data.length; ) {
    const length = data.readInt32BE(at);
    parts.push((await snappyUncompress(data.subarray(at + 4, at + 4 + length), { asBuffer: true })) as Buffer);
    at += 4 + length;
  }
  return Buffer.concat(parts);
}

/** kafkajs hands a codec its encoder; the bytes so far are `buffer`. */
type Encoded = { buffer: Buffer };
const codec = (compress: (data: Buffer) => Promise<Buffer>, decompress: (data: Buffer) => Promise<Buffer>) => () => ({
  compress: (encoder: Encoded) => compress(encoder.buffer),
  decompress,
});

/** Loads a codec's N-API package; an OperatorError when its binary for this platform is missing. */
async function loadNative(name: 'snappy'): Promise<Snappy>;
async function loadNative(name: 'lz4-napi'): Promise<Lz4>;
async function loadNative(name: 'snappy' | 'lz4-napi'): Promise<Snappy | Lz4> {
  try {
    if (name === 'snappy') return (snappy = await import('snappy'));
    return (lz4 = await import('lz4-napi'));
  } catch (err) {
    throw new OperatorError(`compression needs the ${name} package, which cannot load here: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      hint: `install slotline's dependencies with their optional ones (npm ci without --omit=optional): ${name} ships its binary for ${process.platform}-${process.arch} as one`,
      permanent: true,
    });
  }
}

let registered = false;

/** Makes kafkajs able to write and read snappy, lz4 and zstd batches (gzip it has). */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  // A CommonJS export Node's ES module loader does not see by name.
  const codecs = CompressionCodecs as unknown as Record<number, unknown>;
  codecs[CompressionTypes.Snappy] = codec(xerialSnappy, unxerialSnappy);
  codecs[CompressionTypes.LZ4] = codec(
    async (data) => (lz4 ?? (await loadNative('lz4-napi'))).compressFrame(data),
    async (data) => (lz4 ?? (await loadNative('lz4-napi'))).decompressFrame(data),
  );
  codecs[CompressionTypes.ZSTD] = codec(
    async (data) => loadZstd().compress(data),
    async (data) => loadZstd().decompress(data),
  );
}

/**
 * The kafkajs compression type of a sink file's `compression`, its codec
 * registered and its native package loaded (called at sink start).
 */
export async function compressionType(compression: Compression): Promise<CompressionTypes> {
  registerCompressionCodecs();
  if (compression === 'snappy') await loadNative('snappy');
  if (compression === 'lz4') await loadNative('lz4-napi');
  if (compression === 'zstd') loadZstd();
  const types: Record<Compression, CompressionTypes> = {
    none: CompressionTypes.None,
    gzip: CompressionTypes.GZIP,
    snappy: CompressionTypes.Snappy,
    lz4: CompressionTypes.LZ4,
    zstd: CompressionTypes.ZSTD,
  };
  return types[compression];
}
