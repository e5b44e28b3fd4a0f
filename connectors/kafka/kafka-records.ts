/**
 * Record keys and values as bytes, written once into large chunks: a record
 * is its schema prefix's bytes (serialized once per relation version, see
 * RecordJson) copied in, its payload encoded as UTF-8 right after, and a `}`;
 * the record is a view of those bytes. Joining the parts as a string first
 * would make V8 flatten a ~4 KB string per record on the heap (schemas on) and
 * the Kafka client encode all of it again; here each payload is encoded once
 * and the schema is a memcpy. Chunks are never zero-filled; one lives as long
 * as a record that views it.
 */
import type { RecordJson } from '../../src/normalize/json-converter.ts';

const CLOSE_BRACE = 0x7d;
/** Chunk size: a few hundred records with schemas, so allocations are rare and the tail waste small. */
const CHUNK_BYTES = 1 << 20;

export interface RecordBytes {
  /** The bytes of `json`: prefix + payload + `}`, or the payload alone. */
  of(json: RecordJson): Buffer;
}

export function createRecordBytes(chunkBytes = CHUNK_BYTES): RecordBytes {
  let chunk = Buffer.allocUnsafe(chunkBytes);
  let at = 0;
  return {
    of(json) {
      const prefix = json.prefix?.bytes;
      // UTF-8 takes at most 3 bytes per UTF-16 code unit, so this much room never truncates.
      const room = (prefix?.length ?? 0) + json.payload.length * 3 + 1;
      if (at + room > chunk.length) {
        chunk = Buffer.allocUnsafe(Math.max(chunkBytes, room));
        at = 0;
      }
      const start = at;
      if (prefix !== undefined) at += prefix.copy(chunk, at);
      at += chunk.write(json.payload, at, 'utf8');
      if (prefix !== undefined) chunk[at++] = CLOSE_BRACE;
      return chunk.subarray(start, at);
    },
  };
}
