/**
 * Record keys and values as bytes, written once into large chunks: the JSON
 * writers (src/normalize/json-converter.ts) write each record's UTF-8 straight
 * into the current chunk, the schema prefix being a copy of bytes serialized
 * once per relation version, and the record is a view of those bytes. No
 * string is built, flattened or encoded again by the client. Chunks are never
 * zero-filled; one lives as long as a record that views it.
 *
 * createKafkaMessages turns a change event into the sink's Kafka records
 * (key, value, headers, a tombstone after a delete): the bytes a consumer reads.
 */
import type { IHeaders, Message } from 'kafkajs';
import { formatLsn } from '../../src/lsn.ts';
import { serializeKey, writeKeyRecord, writeSchemaValueRecord, writeValueRecord } from '../../src/normalize/json-converter.ts';
import { JsonOut } from '../../src/normalize/json-bytes.ts';
import type { ChangeEvent, TransformedRecord } from '../../src/types.ts';

/** Chunk size: a few hundred records with schemas, so allocations are rare and the tail waste small. */
const CHUNK_BYTES = 1 << 20;
/** Released chunks kept for reuse: a write holds two or three at once (a 1 MB produce request in flight, the next one being built). */
const SPARE_CHUNKS = 4;

export interface RecordBytes {
  /** Where a record is written: out.begin(), the JSON writers, then out.end() gives its bytes. */
  readonly out: JsonOut;
  /** Where the next record's bytes will start, for release(). */
  position(): number;
  /**
   * The records whose bytes start before `position` will not be read again
   * (their produce requests were acknowledged): chunks holding only such bytes
   * are written again instead of being left to the garbage collector. Every
   * chunk freed is otherwise garbage outside the V8 heap that lives until a
   * full collection: 40-50 MiB of a Kafka worker's peak RSS (issue 11).
   */
  release(position: number): void;
  /**
   * After a failed send: no chunk written so far is written again. The
   * client may still encode a request it had queued for another broker
   * (kafkajs rejects on the first broker's error), and it must read the bytes
   * the records had.
   */
  forget(): void;
}

export function createRecordBytes(chunkBytes = CHUNK_BYTES): RecordBytes {
  /** The position of out.buf[0]: positions count every byte written, across chunks. */
  let base = 0;
  /** Full chunks still read by records, oldest first, each with the position after its last byte. */
  const full: Array<{ chunk: Buffer; end: number }> = [];
  const spare: Buffer[] = [];
  // A record that does not fit moves, with what it has written so far, to a spare or new chunk.
  const out = new JsonOut(Buffer.allocUnsafe(chunkBytes), (chunk, kept, need) => {
    full.push({ chunk, end: base + kept });
    base += kept;
    return (need <= chunkBytes && spare.pop()) || Buffer.allocUnsafe(Math.max(chunkBytes, need));
  });
  return {
    out,
    position: () => base + out.at,
    release(position) {
      while (full.length > 0 && full[0].end <= position) {
        const freed = full.shift()!.chunk;
        if (freed.length === chunkBytes && spare.length < SPARE_CHUNKS) spare.push(freed);
      }
      if (position >= base + out.at) {
        base += out.at;
        out.at = 0;
        out.start = 0;
      }
    },
    forget() {
      full.length = 0;
      base += out.at;
      out.buf = spare.pop() ?? Buffer.allocUnsafe(chunkBytes);
      out.at = 0;
      out.start = 0;
    },
  };
}

export interface KafkaMessageOptions {
  /** The sink file's `headers`: the change's LSN and transaction id on each record. */
  headers: boolean;
  schemasEnable: boolean;
  /** A null-value record after each delete. */
  tombstones: boolean;
  /** Where the records' bytes are written; by default chunks of their own that are never released. */
  recordBytes?: RecordBytes;
}

/** Appends the records of one change event to `out`; their bytes live in chunks (createRecordBytes). */
export function createKafkaMessages(options: KafkaMessageOptions): (event: ChangeEvent, out: Message[]) => void {
  const { schemasEnable, tombstones } = options;
  const recordBytes = options.recordBytes ?? createRecordBytes();
  const { out: json } = recordBytes;
  const jsonOptions = { schemasEnable };
  const key = (event: ChangeEvent): Buffer | null => {
    const part = event.record?.key;
    json.begin();
    if (part === undefined) return writeKeyRecord(event, jsonOptions, json) ? json.end() : null;
    if (part === null) return null;
    writeSchemaValueRecord(part, jsonOptions, json);
    return json.end();
  };
  /** The last transaction id printed: every change of a transaction has the same. */
  let txId: bigint | null = null;
  let txIdText = '';
  const headersOf = (event: ChangeEvent): IHeaders => {
    const id = event.source.txId;
    if (id !== null && id !== txId) {
      txId = id;
      txIdText = String(id);
    }
    return recordHeaders(event, schemasEnable, id === null ? null : txIdText);
  };
  return (event, out) => {
    const record = event.record;
    const keyBytes = key(event);
    const own: IHeaders | undefined = options.headers ? headersOf(event) : undefined;
    if (record === undefined) {
      const headers = own;
      json.begin();
      writeValueRecord(event, jsonOptions, json);
      out.push({ key: keyBytes, value: json.end(), headers });
      if (event.op === 'd' && tombstones) out.push({ key: keyBytes, value: null, headers });
      return;
    }
    const headers = withHeaders(own, record.headers);
    const placed: Partial<Message> = {};
    if (record.timestamp !== undefined) placed.timestamp = String(record.timestamp);
    if (record.partition !== undefined) placed.partition = record.partition;
    let value: Buffer | null = null;
    if (record.value !== null) {
      json.begin();
      writeSchemaValueRecord(record.value, jsonOptions, json);
      value = json.end();
    }
    out.push({ key: keyBytes, value, headers, ...placed });
    if (record.tombstone) out.push({ key: keyBytes, value: null, headers: record.tombstoneHeaders ? withHeaders(own, record.tombstoneHeaders) : headers });
  };
}

/** `base` plus a transform's headers; a name given twice is two headers (Kafka allows it; Debezium's tombstones have them). */
function withHeaders(base: IHeaders | undefined, extra: TransformedRecord['headers']): IHeaders | undefined {
  if (extra.length === 0) return base;
  const headers: IHeaders = { ...base };
  const seen = new Set<string>();
  for (const [name, value] of extra) {
    if (!seen.has(name)) {
      seen.add(name);
      headers[name] = value ?? undefined;
      continue;
    }
    const before = headers[name];
    const values = (Array.isArray(before) ? before : before === undefined ? [] : [before]) as Array<Buffer | string>;
    headers[name] = value === null ? values : [...values, value];
  }
  return headers;
}

/** Headers a consumer can use to de-duplicate or trace: the change's LSN and transaction. */
function recordHeaders(event: ChangeEvent, schemasEnable: boolean, txId: string | null): IHeaders {
  const headers: IHeaders = { 'slotline.lsn': formatLsn(event.lsn) };
  if (txId !== null) headers['slotline.txid'] = txId;
  if (event.keyChange) {
    // Debezium's headers on a primary-key change: the d carries the new key, the c the old one.
    headers[event.keyChange.header] = serializeKey({ ...event, key: event.keyChange.key }, { schemasEnable }) ?? '';
  }
  return headers;
}
