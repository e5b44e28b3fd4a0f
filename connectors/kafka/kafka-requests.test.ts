import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { utf8, writeRaw } from '../../src/normalize/json-bytes.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { createRecordBytes } from './kafka-records.ts';
import { createRequests, MAX_REQUEST_BYTES, messageBytes } from './kafka-requests.ts';

/** Test events: `n` numbers one; its record is `recordChars` bytes (300 KB: three fill a request). */
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }) as unknown as ChangeEvent);
const numberOf = (event: ChangeEvent) => (event as unknown as { n: number }).n;

/** What a test's sendBatch saw, and the hand that answers for the broker. */
function fixture(recordChars = 300_000) {
  const recordBytes = createRecordBytes();
  const built: number[] = [];
  const requests = createRequests({
    topicOf: () => 't',
    toMessages: (event, out: Message[]) => {
      built.push(numberOf(event));
      recordBytes.out.begin();
      writeRaw(recordBytes.out, utf8(`${numberOf(event)}:`.padEnd(recordChars, 'x')));
      out.push({ key: String(numberOf(event)), value: recordBytes.out.end() });
    },
    recordBytes,
    batch: () => ({ acks: -1, timeout: 1000 }),
  });
  const sent: Array<{ batch: ProducerBatch; answer: (err?: Error) => void }> = [];
  const sendBatch = (batch: ProducerBatch) =>
    new Promise<void>((resolve, reject) => sent.push({ batch, answer: (err) => (err ? reject(err) : resolve()) }));
  const numbers = (batch: ProducerBatch) => batch.topicMessages!.flatMap((t) => t.messages.map((m) => Number(m.key)));
  /** Answers every request sent, as the broker would, until the write settles. */
  const answerAll = async (writing: Promise<unknown>) => {
    let settled = false;
    void writing.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      await turn();
      for (const s of sent) s.answer();
    }
    return writing;
  };
  return { requests, built, sent, sendBatch, numbers, answerAll };
}

const turn = () => nextTurn();

describe('a write as produce requests', () => {
  it('sends them one at a time, in order, and builds the next while the broker has the last', async () => {
    const { requests, built, sent, sendBatch, numbers } = fixture();
    const writing = requests.send(requests.build(events(0, 7)), sendBatch);
    await turn();
    // Request 1 is out; request 2 is built (up to event 6, which did not fit), not sent.
    expect(sent.map((s) => numbers(s.batch))).toEqual([[0, 1, 2]]);
    expect(built).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sent[0].batch).toMatchObject({ acks: -1, timeout: 1000 });
    sent[0].answer();
    await turn();
    await turn();
    expect(sent.map((s) => numbers(s.batch))).toEqual([[0, 1, 2], [3, 4, 5]]);
    sent[1].answer();
    await turn();
    await turn();
    expect(sent.map((s) => numbers(s.batch))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    sent[2].answer();
    await writing;
    for (const { batch } of sent) {
      const bytes = batch.topicMessages!.flatMap((t) => t.messages).reduce((sum, m) => sum + (m.value as Buffer).length, 0);
      expect(bytes).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    }
  });

  it('after a failed send, no record built so far is written over by later writes, and the failure is the write\'s', async () => {
    const { requests, sent, sendBatch, answerAll } = fixture();
    const failing = requests.send(requests.build(events(0, 7)), sendBatch).then(() => null, (err: Error) => err);
    await turn();
    sent[0].answer();
    await turn();
    await turn();
    // The broker fails request 2 while request 3 is already built.
    sent[1].answer(new Error('broker gone'));
    expect((await failing)?.message).toBe('broker gone');
    // The client may still encode the failed request: its records must keep their bytes.
    const kept = sent[1].batch.topicMessages!.flatMap((t) => t.messages).map((m) => [m.value as Buffer, (m.value as Buffer).toString('latin1')] as const);
    // The runner retries; later writes succeed and release their bytes.
    for (let round = 0; round < 5; round++) await answerAll(requests.send(requests.build(events(100 + round * 7, 7)), sendBatch));
    for (const [bytes, text] of kept) expect(bytes.toString('latin1')).toBe(text);
  });

  it('skips empty requests and releases the bytes of acknowledged ones for reuse', async () => {
    const { requests, sent, sendBatch, answerAll } = fixture(100_000);
    await requests.send([{ topicMessages: [], acknowledged: () => expect.unreachable() }], sendBatch);
    expect(sent).toEqual([]);
    for (let round = 0; round < 10; round++) await answerAll(requests.send(requests.build(events(round * 30, 30)), sendBatch));
    const memory = new Set(sent.flatMap((s) => s.batch.topicMessages![0].messages.map((m) => (m.value as Buffer).buffer)));
    // 300 records of 100 KB, 30 MB in 40 requests, written into a few reused 1 MiB chunks.
    expect(sent).toHaveLength(40);
    expect(memory.size).toBeLessThanOrEqual(6);
  });
});

describe('messageBytes: a record\'s share of a request', () => {
  it('counts key, value, every header name and value (a repeated header each time), and the per-record overhead', () => {
    const bare = messageBytes({ key: null, value: null });
    expect(messageBytes({ key: Buffer.from('k1'), value: 'vé' })).toBe(bare + 2 + 3);
    expect(messageBytes({ key: null, value: null, headers: { 'slotline.lsn': '0/16B3748' } })).toBe(bare + 12 + 9);
    expect(messageBytes({ key: null, value: null, headers: { h: ['ab', Buffer.from('cde')], none: undefined } })).toBe(bare + (1 + 2) + (1 + 3) + 4);
  });
});
