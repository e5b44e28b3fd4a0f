import { describe, expect, it } from 'vitest';
import { utf8, writeRaw, writeString } from '../../src/normalize/json-bytes.ts';
import type { Message } from 'kafkajs';
import { normalizeInsert, type TxContext } from '../../src/normalize/change-events.ts';
import { buildTableModel } from '../../src/normalize/table-model.ts';
import { lookup, options, relation } from '../../src/normalize/testing.ts';
import { createKafkaMessages, createRecordBytes, type RecordBytes } from './kafka-records.ts';

/** Writes one record as the JSON writers do, in pieces (a record may move to a new chunk between two). */
function put(bytes: RecordBytes, ...pieces: string[]): Buffer {
  bytes.out.begin();
  for (const piece of pieces) writeRaw(bytes.out, utf8(piece));
  return bytes.out.end();
}
const withSchema = ['{"schema":{"type":"string","optional":false,"name":"é"},"payload":', '"x"', '}'];
/** A record of one piece: `text` as it is. */
const record = (text: string) => [text];

describe('record bytes', () => {
  it('starts a new chunk when a record does not fit, carrying what it has written, and never overwrites an earlier record', () => {
    const bytes = createRecordBytes(64);
    const records = Array.from({ length: 50 }, (_, i) => (i % 2 ? withSchema : ['{"id":', String(i), ',"s":"', 'ü'.repeat(i), '"}']));
    const written = records.map((pieces) => put(bytes, ...pieces));
    expect(written.map((b) => b.toString('utf8'))).toEqual(records.map((pieces) => pieces.join('')));
  });

  it('a string the JSON writers escape and encode lands whole across chunks', () => {
    const bytes = createRecordBytes(64);
    const texts = ['Zoë 𝄞 日本', 'tab\there "quoted"', 'ü'.repeat(100)];
    const written = texts.map((text) => {
      bytes.out.begin();
      writeRaw(bytes.out, utf8('{"s":'));
      writeString(bytes.out, text);
      writeRaw(bytes.out, utf8('}'));
      return bytes.out.end().toString('utf8');
    });
    expect(written.map((json) => JSON.parse(json).s)).toEqual(texts);
  });

  // Chunks of 4 KiB and more have an ArrayBuffer each (smaller ones share Node's pool), so `buffer` tells chunks apart.
  const pad = (n: number) => 'p'.repeat(300 + n);

  it('writes released records\' chunks again, and never the bytes of a record still read', () => {
    const bytes = createRecordBytes(4096);
    const memory = new Set<ArrayBufferLike>();
    let held: Array<[Buffer, string]> = [];
    for (let round = 0; round < 200; round++) {
      // Each round: a "request" of records; the records of the round before are acknowledged once this one is built.
      const start = bytes.position();
      const made = Array.from({ length: 1 + (round % 7) }, (_, i) => {
        const pieces = i % 2 ? withSchema : record(`{"round":${round},"i":${i},"pad":"${pad(i)}"}`);
        const b = put(bytes, ...pieces);
        memory.add(b.buffer);
        return [b, pieces.join('')] as [Buffer, string];
      });
      for (const [b, text] of [...held, ...made]) expect(b.toString('utf8')).toBe(text);
      bytes.release(start);
      held = made;
    }
    // 200 rounds of up to 7 records, half of ~330 bytes: ~150 chunks without reuse.
    expect(memory.size).toBeLessThanOrEqual(8);
  });

  it('after forget(), no record made before is written over', () => {
    const bytes = createRecordBytes(4096);
    const before = Array.from({ length: 10 }, (_, i) => put(bytes, `{"before":${i},"pad":"${pad(i)}"}`));
    bytes.release(bytes.position() - 1); // the first chunks are spare now
    const kept = before.map((b) => b.toString('utf8'));
    bytes.forget();
    for (let i = 0; i < 100; i++) {
      const start = bytes.position();
      put(bytes, `{"after":${i},"pad":"${pad(i % 20)}"}`);
      bytes.release(start);
    }
    // The records in released chunks may be overwritten; those in the chunk still being written (not released) may not.
    const unreleased = before.map((b, i) => [b, kept[i]] as const).filter(([b]) => b.buffer === before.at(-1)!.buffer);
    expect(unreleased.length).toBeGreaterThan(1);
    for (const [b, text] of unreleased) expect(b.toString('utf8')).toBe(text);
  });
});

describe('record headers', () => {
  it('each record carries its own change\'s LSN and transaction id, across transactions and outside one', () => {
    const OPTS = options();
    const model = buildTableModel(relation([['id', 23, { key: true }]]), lookup, OPTS, {
      columns: new Map([['id', { notNull: true, defaultExpression: null }]]), keyColumns: ['id'],
    });
    const tx = (xid: number | null): TxContext => ({ xid, commitTimeUs: xid === null ? null : 1700000000000001n, finalLsn: 0x9000n, lastCommitLsn: null, origin: null });
    const [a, b] = [tx(700), tx(4_000_000_000)];
    const changes: Array<[TxContext, bigint]> = [[a, 0x100n], [a, 0x200n], [b, 0x1_0000_0300n], [tx(null), 0x400n], [a, 0x500n]];
    const toMessages = createKafkaMessages({ headers: true, schemasEnable: false, tombstones: true });
    const out: Message[] = [];
    changes.forEach(([context, lsn], i) => toMessages(normalizeInsert(model, [String(i)], OPTS, { tx: context, lsn, nowNs: 1700000000500000123n }), out));
    expect(out.map((m) => m.headers)).toEqual([
      { 'slotline.lsn': '0/100', 'slotline.txid': '700' },
      { 'slotline.lsn': '0/200', 'slotline.txid': '700' },
      { 'slotline.lsn': '1/300', 'slotline.txid': '4000000000' },
      { 'slotline.lsn': '0/400' },
      { 'slotline.lsn': '0/500', 'slotline.txid': '700' },
    ]);
  });
});
