/**
 * pgoutput logical replication protocol, version 1: one XLogData payload in,
 * one PgoutputMessage out. Formats:
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 *
 * Contract:
 * - Stateless and synchronous: the relation cache lives with the caller, which
 *   sees every Relation message in stream order.
 * - Column values are the server's text output (we never request `binary`), decoded
 *   as UTF-8 (logical replication always sends the database encoding; slotline
 *   requires UTF8 databases for the same reason Debezium does).
 * - Strings and tuples are copied out of `buf`; `message.content` is a copy too, so
 *   the caller may keep results after the socket buffer is reused.
 * - Anything outside protocol v1 (streamed or two-phase transactions, binary
 *   columns, an unknown tag, a short or over-long frame) throws
 *   PgoutputProtocolError: the frame cannot be trusted, so nothing after it can be.
 *
 * Hot path: one call per change. Reads use Buffer's integer readers and
 * `toString('utf8', start, end)`; no per-byte work and no intermediate buffers.
 */
import type { Lsn } from '../lsn.ts';
import type { PgoutputMessage, Relation, RelationColumn, ReplicaIdentity, Tuple } from '../types.ts';
import { OperatorError } from '../errors.ts';

/** Microseconds between 1970-01-01 and 2000-01-01 (the Postgres epoch). */
const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

/** A frame slotline cannot decode. A bug or an unsupported server, never the operator's data. */
export class PgoutputProtocolError extends OperatorError {
  constructor(message: string) {
    super(message, {
      hint: 'slotline requests pgoutput proto_version 1 in text mode; report this with the server version and the frame',
    });
    this.name = 'PgoutputProtocolError';
  }
}

/** Tags of protocol versions 2–4 (streaming, two-phase): never requested by slotline. */
const NOT_REQUESTED: Record<string, string> = {
  S: 'Stream Start',
  E: 'Stream Stop',
  c: 'Stream Commit',
  A: 'Stream Abort',
  p: 'Stream Prepare',
  b: 'Begin Prepare',
  P: 'Prepare',
  K: 'Commit Prepared',
  r: 'Rollback Prepared',
};

const REPLICA_IDENTITY: Record<number, ReplicaIdentity> = {
  0x64: 'default', // 'd'
  0x6e: 'nothing', // 'n'
  0x66: 'full', // 'f'
  0x69: 'index', // 'i'
};

/**
 * Decoding is synchronous and never re-entered, so one module-level cursor serves
 * every call without allocating a reader per message.
 */
const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
let pos = 0;

export function decodePgoutput(frame: Buffer): PgoutputMessage {
  if (frame.length === 0) throw new PgoutputProtocolError('empty pgoutput frame');
  buf = frame;
  pos = 1;
  const tag = frame[0];
  let message: PgoutputMessage;
  try {
    message = decodeBody(tag);
  } catch (err) {
    if (err instanceof PgoutputProtocolError) throw err;
    // Buffer readers throw RangeError past the end: the frame is shorter than its own fields say.
    throw new PgoutputProtocolError(`truncated pgoutput ${describeTag(tag)} frame (${frame.length} bytes)`);
  } finally {
    buf = EMPTY;
  }
  if (pos !== frame.length) {
    throw new PgoutputProtocolError(
      `pgoutput ${describeTag(tag)} frame has ${frame.length - pos} unexpected trailing bytes (${frame.length} bytes)`,
    );
  }
  return message;
}

function decodeBody(tag: number): PgoutputMessage {
  switch (tag) {
    case 0x42: // 'B'
      return { tag: 'begin', finalLsn: readLsn(), commitTimeUs: readTimestamp(), xid: readUint32() };
    case 0x43: // 'C'
      return { tag: 'commit', flags: readUint8(), commitLsn: readLsn(), endLsn: readLsn(), commitTimeUs: readTimestamp() };
    case 0x4f: // 'O'
      return { tag: 'origin', originLsn: readLsn(), name: readString() };
    case 0x52: // 'R'
      return { tag: 'relation', relation: readRelation() };
    case 0x59: // 'Y'
      return { tag: 'type', typeOid: readUint32(), schema: readString(), name: readString() };
    case 0x49: // 'I'
      return readInsert();
    case 0x55: // 'U'
      return readUpdate();
    case 0x44: // 'D'
      return readDelete();
    case 0x54: // 'T'
      return readTruncate();
    case 0x4d: // 'M'
      return readMessage();
    default: {
      const name = NOT_REQUESTED[String.fromCharCode(tag)];
      if (name !== undefined) {
        throw new PgoutputProtocolError(
          `pgoutput ${describeTag(tag)} (${name}) belongs to protocol version 2 or later, which slotline does not request`,
        );
      }
      throw new PgoutputProtocolError(`unknown pgoutput message tag ${describeTag(tag)}`);
    }
  }
}

function readRelation(): Relation {
  const relationId = readUint32();
  const schema = readString();
  const table = readString();
  const identityByte = readUint8();
  const replicaIdentity = REPLICA_IDENTITY[identityByte];
  if (replicaIdentity === undefined) {
    throw new PgoutputProtocolError(`relation ${schema}.${table}: unknown replica identity ${describeTag(identityByte)}`);
  }
  const count = readUint16();
  const columns: RelationColumn[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const flags = readUint8();
    columns[i] = { name: readString(), isKey: (flags & 1) === 1, typeOid: readUint32(), typeMod: readInt32() };
  }
  return { relationId, schema, table, replicaIdentity, columns };
}

function readInsert(): PgoutputMessage {
  const relationId = readUint32();
  expectSubmessage(0x4e, 'Insert', relationId); // 'N'
  return { tag: 'insert', relationId, newTuple: readTuple(relationId) };
}

function readUpdate(): PgoutputMessage {
  const relationId = readUint32();
  const kind = readUint8();
  if (kind === 0x4e) return { tag: 'update', relationId, newTuple: readTuple(relationId) }; // 'N'
  if (kind !== 0x4b && kind !== 0x4f) throw badSubmessage(kind, 'Update', relationId);
  const old = readTuple(relationId);
  expectSubmessage(0x4e, 'Update', relationId);
  const newTuple = readTuple(relationId);
  return kind === 0x4b
    ? { tag: 'update', relationId, keyTuple: old, newTuple } // 'K': the replica identity key changed
    : { tag: 'update', relationId, oldTuple: old, newTuple }; // 'O': REPLICA IDENTITY FULL
}

function readDelete(): PgoutputMessage {
  const relationId = readUint32();
  const kind = readUint8();
  if (kind === 0x4b) return { tag: 'delete', relationId, keyTuple: readTuple(relationId) };
  if (kind === 0x4f) return { tag: 'delete', relationId, oldTuple: readTuple(relationId) };
  throw badSubmessage(kind, 'Delete', relationId);
}

function readTruncate(): PgoutputMessage {
  const count = readUint32();
  const options = readUint8();
  const relationIds: number[] = new Array(count);
  for (let i = 0; i < count; i++) relationIds[i] = readUint32();
  return { tag: 'truncate', cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0, relationIds };
}

function readMessage(): PgoutputMessage {
  const flags = readUint8();
  const lsn = readLsn();
  const prefix = readString();
  const length = readUint32();
  const end = checkedEnd(length);
  // A copy: the socket buffer under `buf` is not ours to keep.
  const content = Buffer.from(buf.subarray(pos, end));
  pos = end;
  return { tag: 'message', transactional: (flags & 1) !== 0, lsn, prefix, content };
}

function readTuple(relationId: number): Tuple {
  const count = readUint16();
  const tuple: Tuple = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = buf[pos++];
    if (kind === 0x74) {
      // 't'
      const length = readUint32();
      const end = checkedEnd(length);
      tuple[i] = buf.toString('utf8', pos, end);
      pos = end;
    } else if (kind === 0x6e) {
      tuple[i] = null; // 'n'
    } else if (kind === 0x75) {
      tuple[i] = undefined; // 'u': unchanged TOASTed value, not sent
    } else if (kind === 0x62) {
      throw new PgoutputProtocolError(
        `pgoutput column ${i + 1} of relation ${relationId} arrived in binary format ('b'); slotline requests text format`,
      );
    } else if (kind === undefined) {
      throw new RangeError('past end');
    } else {
      throw new PgoutputProtocolError(`relation ${relationId} column ${i + 1}: unknown tuple data kind ${describeTag(kind)}`);
    }
  }
  return tuple;
}

function expectSubmessage(expected: number, message: string, relationId: number): void {
  const kind = readUint8();
  if (kind !== expected) throw badSubmessage(kind, message, relationId);
}

function badSubmessage(kind: number, message: string, relationId: number): PgoutputProtocolError {
  return new PgoutputProtocolError(`pgoutput ${message} for relation ${relationId}: unexpected tuple marker ${describeTag(kind)}`);
}

// ─── primitive readers over the module cursor ─────────────────────────────────

function readUint8(): number {
  const value = buf.readUInt8(pos);
  pos += 1;
  return value;
}

function readUint16(): number {
  const value = buf.readUInt16BE(pos);
  pos += 2;
  return value;
}

function readUint32(): number {
  const value = buf.readUInt32BE(pos);
  pos += 4;
  return value;
}

function readInt32(): number {
  const value = buf.readInt32BE(pos);
  pos += 4;
  return value;
}

function readLsn(): Lsn {
  const value = buf.readBigUInt64BE(pos);
  pos += 8;
  return value;
}

function readTimestamp(): bigint {
  const value = buf.readBigInt64BE(pos);
  pos += 8;
  return value + PG_EPOCH_OFFSET_US;
}

/** A NUL-terminated UTF-8 string. */
function readString(): string {
  const end = buf.indexOf(0, pos);
  if (end < 0) throw new RangeError('unterminated string');
  const value = buf.toString('utf8', pos, end);
  pos = end + 1;
  return value;
}

/** `toString` and `subarray` clamp silently past the end; a length field must not. */
function checkedEnd(length: number): number {
  const end = pos + length;
  if (end > buf.length) throw new RangeError('length past end');
  return end;
}

function describeTag(byte: number): string {
  const hex = '0x' + byte.toString(16).padStart(2, '0');
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}' (${hex})` : hex;
}
