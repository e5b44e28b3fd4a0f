/**
 * The decoder against golden frames captured from PostgreSQL 17
 * (test/fixtures/capture-pgoutput.ts), plus hand-made frames for what a healthy
 * server never sends. Expected messages are written out in full; Begin/Commit
 * pairs are checked by their invariants (see checkTransactionFrames) and once
 * with literal values.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLsn } from '../lsn.ts';
import type { PgoutputMessage, RelationColumn } from '../types.ts';
import { decodePgoutput, PgoutputProtocolError } from './pgoutput-decoder.ts';

interface Fixture {
  server_version: string;
  frames: { lsn: string; xid: number; hex: string }[];
}

const fixtureDir = path.join(import.meta.dirname, '../../test/fixtures/pgoutput');

function load(name: string): { fixture: Fixture; messages: PgoutputMessage[] } {
  const fixture = JSON.parse(readFileSync(path.join(fixtureDir, `${name}.json`), 'utf8')) as Fixture;
  return { fixture, messages: fixture.frames.map((f) => decodePgoutput(Buffer.from(f.hex, 'hex'))) };
}

const col = (name: string, typeOid: number, isKey = false, typeMod = -1): RelationColumn => ({ name, isKey, typeOid, typeMod });
const BEGIN = { tag: 'begin' } as const;
/** A Message's LSN is its WAL record's, which the slot reports as the frame's LSN. */
const FRAME_LSN = -1n;
const COMMIT = { tag: 'commit' } as const;
type Expected = PgoutputMessage | typeof BEGIN | typeof COMMIT;

const INT4 = 23, INT8 = 20, TEXT = 25, NUMERIC = 1700, TIMESTAMPTZ = 1184, JSONB = 3802, BYTEA = 17;
const CREATED = '2024-01-02 03:04:05.123456+00';

const customers = {
  relationId: 16385, schema: 'public', table: 'customers', replicaIdentity: 'default' as const,
  // `legacy` was dropped before the capture: dropped columns are not sent.
  columns: [col('id', INT4, true), col('name', TEXT), col('email', TEXT), col('score', NUMERIC, false, (5 << 16 | 2) + 4), col('created_at', TIMESTAMPTZ)],
};
const orders = {
  relationId: 16393, schema: 'public', table: 'orders', replicaIdentity: 'full' as const,
  // With FULL identity every column is flagged as key.
  columns: [col('id', INT4, true), col('status', TEXT, true), col('note', TEXT, true)],
};
const eventsLog = {
  relationId: 16400, schema: 'public', table: 'events_log', replicaIdentity: 'full' as const,
  columns: [col('at', TIMESTAMPTZ, true), col('payload', JSONB, true)],
};
const accounts = {
  relationId: 16405, schema: 'public', table: 'accounts', replicaIdentity: 'index' as const,
  columns: [col('id', INT4), col('code', TEXT, true), col('balance', INT8)],
};
const parents = { relationId: 16419, schema: 'public', table: 'parents', replicaIdentity: 'default' as const, columns: [col('id', INT4, true)] };
const children = {
  relationId: 16426, schema: 'public', table: 'children', replicaIdentity: 'default' as const,
  columns: [col('id', INT4, true), col('parent_id', INT4)],
};
const lonely = { relationId: 16437, schema: 'public', table: 'lonely', replicaIdentity: 'default' as const, columns: [col('id', INT4)] };
const body = 'lorem '.repeat(500);

const cases: { fixture: string; expected: Expected[] }[] = [
  {
    fixture: 'insert-update-delete',
    expected: [
      BEGIN,
      { tag: 'relation', relation: customers },
      { tag: 'insert', relationId: 16385, newTuple: ['1', 'Ada', 'ada@example.com', '12.50', CREATED] },
      { tag: 'insert', relationId: 16385, newTuple: ['2', 'Grace', null, null, CREATED] },
      COMMIT,
      BEGIN,
      { tag: 'update', relationId: 16385, newTuple: ['2', 'Grace', 'grace@example.com', null, CREATED] },
      COMMIT,
      BEGIN,
      { tag: 'update', relationId: 16385, keyTuple: ['2', null, null, null, null], newTuple: ['3', 'Grace', 'grace@example.com', null, CREATED] },
      COMMIT,
      BEGIN,
      { tag: 'delete', relationId: 16385, keyTuple: ['1', null, null, null, null] },
      COMMIT,
    ],
  },
  {
    fixture: 'replica-identity-full',
    expected: [
      BEGIN, { tag: 'relation', relation: orders }, { tag: 'insert', relationId: 16393, newTuple: ['10', 'new', null] }, COMMIT,
      BEGIN, { tag: 'update', relationId: 16393, oldTuple: ['10', 'new', null], newTuple: ['10', 'paid', 'card'] }, COMMIT,
      BEGIN, { tag: 'delete', relationId: 16393, oldTuple: ['10', 'paid', 'card'] }, COMMIT,
      BEGIN,
      { tag: 'relation', relation: eventsLog },
      { tag: 'insert', relationId: 16400, newTuple: ['2024-05-06 07:08:09+00', '{"a": [1, 2]}'] },
      COMMIT,
      BEGIN,
      { tag: 'update', relationId: 16400, oldTuple: ['2024-05-06 07:08:09+00', '{"a": [1, 2]}'], newTuple: ['2024-05-06 07:08:09+00', '{"a": []}'] },
      COMMIT,
      BEGIN, { tag: 'delete', relationId: 16400, oldTuple: ['2024-05-06 07:08:09+00', '{"a": []}'] }, COMMIT,
    ],
  },
  {
    fixture: 'replica-identity-kinds',
    expected: [
      BEGIN, { tag: 'relation', relation: accounts }, { tag: 'insert', relationId: 16405, newTuple: ['1', 'A-1', '100'] }, COMMIT,
      // The identity index did not change: no key tuple.
      BEGIN, { tag: 'update', relationId: 16405, newTuple: ['1', 'A-1', '90'] }, COMMIT,
      BEGIN, { tag: 'update', relationId: 16405, keyTuple: [null, 'A-1', null], newTuple: ['1', 'A-2', '90'] }, COMMIT,
      BEGIN, { tag: 'delete', relationId: 16405, keyTuple: [null, 'A-2', null] }, COMMIT,
      BEGIN,
      { tag: 'relation', relation: { relationId: 16413, schema: 'public', table: 'audit', replicaIdentity: 'nothing', columns: [col('msg', TEXT)] } },
      { tag: 'insert', relationId: 16413, newTuple: ['hello'] },
      COMMIT,
    ],
  },
  {
    fixture: 'truncate',
    expected: [
      BEGIN, { tag: 'relation', relation: parents }, { tag: 'insert', relationId: 16419, newTuple: ['1'] }, COMMIT,
      BEGIN, { tag: 'relation', relation: children }, { tag: 'insert', relationId: 16426, newTuple: ['1', '1'] }, COMMIT,
      BEGIN,
      { tag: 'relation', relation: parents },
      { tag: 'relation', relation: children },
      { tag: 'truncate', cascade: true, restartIdentity: true, relationIds: [16419, 16426] },
      COMMIT,
      BEGIN,
      { tag: 'relation', relation: lonely },
      { tag: 'truncate', cascade: false, restartIdentity: false, relationIds: [16437] },
      COMMIT,
    ],
  },
  {
    fixture: 'messages',
    expected: [
      { tag: 'message', transactional: false, lsn: FRAME_LSN, prefix: 'slotline.heartbeat', content: Buffer.from('deadbeef00ff', 'hex') },
      { tag: 'message', transactional: false, lsn: FRAME_LSN, prefix: 'empty', content: Buffer.alloc(0) },
      BEGIN,
      { tag: 'relation', relation: { relationId: 16447, schema: 'public', table: 'notes', replicaIdentity: 'default', columns: [col('id', INT4, true), col('body', TEXT)] } },
      { tag: 'insert', relationId: 16447, newTuple: ['1', 'first'] },
      { tag: 'message', transactional: true, lsn: FRAME_LSN, prefix: 'slotline.watermark', content: Buffer.from('ünïcode ✓', 'utf8') },
      COMMIT,
    ],
  },
  {
    fixture: 'toast-unchanged',
    expected: [
      BEGIN,
      { tag: 'relation', relation: { relationId: 16454, schema: 'public', table: 'documents', replicaIdentity: 'default', columns: [col('id', INT4, true), col('title', TEXT), col('body', TEXT)] } },
      { tag: 'insert', relationId: 16454, newTuple: ['1', 'draft', body] },
      COMMIT,
      BEGIN, { tag: 'update', relationId: 16454, newTuple: ['1', 'final', undefined] }, COMMIT,
      BEGIN, { tag: 'delete', relationId: 16454, keyTuple: ['1', null, null] }, COMMIT,
    ],
  },
  {
    fixture: 'unicode',
    expected: [
      BEGIN,
      {
        tag: 'relation',
        relation: { relationId: 16463, schema: 'Ünïcödé', table: 'Café ☕', replicaIdentity: 'default', columns: [col('naïve', TEXT, true), col('数量', INT4), col('Mixed Case', TEXT)] },
      },
      { tag: 'insert', relationId: 16463, newTuple: ['crème brûlée 🍮', '42', 'Ω≈ç'] },
      COMMIT,
      BEGIN, { tag: 'update', relationId: 16463, newTuple: ['crème brûlée 🍮', null, 'line1\nline2\t"quoted"'] }, COMMIT,
    ],
  },
  {
    fixture: 'custom-types',
    expected: [
      BEGIN,
      { tag: 'type', typeOid: 16471, schema: 'public', name: 'mood' },
      // A domain's Type message names its base type; the namespace of pg_catalog is sent as ''.
      { tag: 'type', typeOid: 16478, schema: '', name: 'int4' },
      {
        tag: 'relation',
        relation: {
          relationId: 16480, schema: 'public', table: 'people', replicaIdentity: 'default',
          // `doubled` (GENERATED ALWAYS … STORED) is not sent by proto_version 1.
          columns: [col('id', INT4, true), col('mood', 16471), col('score', 16478), col('tags', 1009), col('price', NUMERIC, false, (10 << 16 | 2) + 4), col('name', 1043, false, 24), col('at', TIMESTAMPTZ), col('raw', BYTEA)],
        },
      },
      { tag: 'insert', relationId: 16480, newTuple: ['1', 'happy', '7', '{a,"b c",NULL}', '19.99', 'Zoë', '2024-02-29 10:00:00.5+00', '\\x00ff'] },
      COMMIT,
    ],
  },
  {
    fixture: 'origin',
    expected: [BEGIN, { tag: 'origin', originLsn: 0xabcdefn, name: 'upstream-east' }, { tag: 'relation', relation: { relationId: 16488, schema: 'public', table: 'replicated', replicaIdentity: 'default', columns: [col('id', INT4, true)] } }, { tag: 'insert', relationId: 16488, newTuple: ['1'] }, COMMIT],
  },
];

/** Begin/Commit invariants: xid matches the slot's, Begin's final LSN is Commit's LSN, the commit frame sits at the end LSN. */
function checkTransactionFrames(fixture: Fixture, messages: PgoutputMessage[]): void {
  let open: Extract<PgoutputMessage, { tag: 'begin' }> | null = null;
  messages.forEach((m, i) => {
    const frame = fixture.frames[i];
    if (m.tag === 'begin') {
      expect(open).toBeNull();
      expect(m.xid).toBe(frame.xid);
      // Captured in 2024 or later, and not absurdly far out: catches a wrong epoch or unit.
      expect(m.commitTimeUs).toBeGreaterThan(1_704_067_199_000_000n);
      expect(m.commitTimeUs).toBeLessThan(4_102_444_800_000_000n);
      open = m;
    } else if (m.tag === 'commit') {
      expect(open).not.toBeNull();
      expect(m).toMatchObject({ flags: 0, commitLsn: open!.finalLsn, commitTimeUs: open!.commitTimeUs, endLsn: parseLsn(frame.lsn) });
      expect(m.endLsn).toBeGreaterThan(m.commitLsn);
      open = null;
    }
  });
  expect(open).toBeNull();
}

describe('decodePgoutput on golden frames', () => {
  it.each(cases)('$fixture', ({ fixture: name, expected }) => {
    const { fixture, messages } = load(name);
    expect(fixture.server_version).toMatch(/^17\./);
    expect(messages.map((m) => m.tag)).toEqual(expected.map((m) => m.tag));
    messages.forEach((m, i) => {
      const want = expected[i];
      if (want.tag === 'message' && want.lsn === FRAME_LSN) expect(m).toStrictEqual({ ...want, lsn: parseLsn(fixture.frames[i].lsn) });
      else if (want.tag !== 'begin' && want.tag !== 'commit') expect(m).toStrictEqual(want);
    });
    checkTransactionFrames(fixture, messages);
  });

  it('decodes Begin and Commit fields exactly, times in µs since the Unix epoch', () => {
    const { messages } = load('origin');
    // pg_replication_origin_xact_setup set the commit time to 2024-01-01 00:00:00 UTC.
    const t = BigInt(Date.UTC(2024, 0, 1)) * 1000n;
    expect(messages[0]).toStrictEqual({ tag: 'begin', finalLsn: parseLsn('0/1516DE8'), commitTimeUs: t, xid: 790 });
    expect(messages[4]).toStrictEqual({ tag: 'commit', flags: 0, commitLsn: parseLsn('0/1516DE8'), endLsn: parseLsn('0/1516E30'), commitTimeUs: t });
  });

  it('returns message content as a copy that outlives the frame', () => {
    const frame = Buffer.from(load('messages').fixture.frames[0].hex, 'hex');
    const m = decodePgoutput(frame);
    frame.fill(0);
    expect(m.tag === 'message' && m.content.toString('hex')).toBe('deadbeef00ff');
  });
});

/** Frames a healthy v1 stream never carries. */
const begin = (us: bigint): Buffer => {
  const b = Buffer.alloc(21);
  b.write('B', 0);
  b.writeBigUInt64BE(0x16b3748n, 1);
  b.writeBigInt64BE(us, 9);
  b.writeUInt32BE(7, 17);
  return b;
};
const insertWith = (kind: string, extra = ''): Buffer => Buffer.from('49' + '00004001' + '4e' + '0001' + Buffer.from(kind).toString('hex') + extra, 'hex');
const goodInsert = load('insert-update-delete').fixture.frames[2].hex;

describe('decodePgoutput timestamps', () => {
  it.each([
    { pgUs: 0n, unixUs: 946_684_800_000_000n },
    { pgUs: -1n, unixUs: 946_684_799_999_999n },
    { pgUs: 1_000_000n, unixUs: 946_684_801_000_000n },
  ])('Postgres epoch $pgUs µs → Unix $unixUs µs', ({ pgUs, unixUs }) => {
    expect(decodePgoutput(begin(pgUs))).toStrictEqual({ tag: 'begin', finalLsn: 0x16b3748n, commitTimeUs: unixUs, xid: 7 });
  });
});

describe('decodePgoutput rejects what it cannot trust', () => {
  it.each([
    { name: 'an empty frame', frame: Buffer.alloc(0), error: 'empty pgoutput frame' },
    { name: 'an unknown tag', frame: Buffer.from('5a00', 'hex'), error: "unknown pgoutput message tag 'Z' (0x5a)" },
    { name: 'an unprintable tag', frame: Buffer.from('ff', 'hex'), error: 'unknown pgoutput message tag 0xff' },
    { name: 'Stream Start (v2)', frame: Buffer.from('530000000101', 'hex'), error: "pgoutput 'S' (0x53) (Stream Start) belongs to protocol version 2 or later" },
    { name: 'Stream Stop (v2)', frame: Buffer.from('45', 'hex'), error: '(Stream Stop) belongs to protocol version 2' },
    { name: 'Stream Commit (v2)', frame: Buffer.from('63', 'hex'), error: '(Stream Commit) belongs to protocol version 2' },
    { name: 'Stream Abort (v2)', frame: Buffer.from('41', 'hex'), error: '(Stream Abort) belongs to protocol version 2' },
    { name: 'a binary column', frame: insertWith('b', '0000000100'), error: "pgoutput column 1 of relation 16385 arrived in binary format ('b'); slotline requests text format" },
    { name: 'an unknown tuple kind', frame: insertWith('x'), error: "relation 16385 column 1: unknown tuple data kind 'x' (0x78)" },
    { name: 'a truncated frame', frame: Buffer.from(goodInsert.slice(0, -2), 'hex'), error: "truncated pgoutput 'I' (0x49) frame" },
    { name: 'a text value longer than the frame', frame: insertWith('t', '000000ff41'), error: "truncated pgoutput 'I' (0x49) frame" },
    { name: 'trailing bytes', frame: Buffer.from(goodInsert + '00', 'hex'), error: "pgoutput 'I' (0x49) frame has 1 unexpected trailing bytes" },
    { name: 'an Update with a bad marker', frame: Buffer.from('55000040015800', 'hex'), error: "pgoutput Update for relation 16385: unexpected tuple marker 'X' (0x58)" },
    { name: 'a Delete with a new tuple', frame: Buffer.from('44000040014e0000', 'hex'), error: "pgoutput Delete for relation 16385: unexpected tuple marker 'N' (0x4e)" },
    { name: 'an unterminated string', frame: Buffer.from('4f00000000000000016162', 'hex'), error: "truncated pgoutput 'O' (0x4f) frame" },
    { name: 'an unknown replica identity', frame: Buffer.from('5200000001' + '7300' + '7400' + '7a' + '0000', 'hex'), error: "relation s.t: unknown replica identity 'z' (0x7a)" },
  ])('$name', ({ frame, error }) => {
    const thrown = (() => {
      try {
        decodePgoutput(frame);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(PgoutputProtocolError);
    expect((thrown as Error).message).toContain(error);
    expect((thrown as PgoutputProtocolError).kind).toBe('operator');
  });

  it('keeps decoding after a rejected frame', () => {
    expect(() => decodePgoutput(Buffer.from('5a', 'hex'))).toThrow(PgoutputProtocolError);
    expect(decodePgoutput(Buffer.from(goodInsert, 'hex'))).toStrictEqual({
      tag: 'insert', relationId: 16385, newTuple: ['1', 'Ada', 'ada@example.com', '12.50', CREATED],
    });
  });
});
