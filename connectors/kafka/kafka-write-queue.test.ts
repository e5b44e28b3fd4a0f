import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/errors.ts';
import { utf8, writeRaw } from '../../src/normalize/json-bytes.ts';
import type { ChangeEvent } from '../../src/types.ts';
import { createRecordBytes } from './kafka-records.ts';
import { createRequests } from './kafka-requests.ts';
import { createWriteQueue } from './kafka-write-queue.ts';

/** Test events: `n` numbers one; its record is 300 KB, `n:` then filler, so three fill a request and a chunk. */
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }) as unknown as ChangeEvent);
const numberOf = (event: ChangeEvent) => (event as unknown as { n: number }).n;
const RECORD_CHARS = 300_000;

/** A write queue over real record bytes and request building; the test answers for the broker. */
function fixture() {
  const recordBytes = createRecordBytes();
  const built: number[] = [];
  const requests = createRequests({
    topicOf: () => 't',
    toMessages: (event, out: Message[]) => {
      built.push(numberOf(event));
      recordBytes.out.begin();
      writeRaw(recordBytes.out, utf8(`${numberOf(event)}:`.padEnd(RECORD_CHARS, String(numberOf(event) % 10))));
      out.push({ key: String(numberOf(event)), value: recordBytes.out.end() });
    },
    recordBytes,
    batch: () => ({ acks: -1, timeout: 1000 }),
  });
  /** Each request as the client was handed it, and whether its records still held their own bytes then. */
  const sent: Array<{ numbers: number[]; intact: boolean; answer: (err?: Error) => void }> = [];
  const intact = (message: Message) => {
    const n = Number(message.key);
    return (message.value as Buffer).toString('latin1') === `${n}:`.padEnd(RECORD_CHARS, String(n % 10));
  };
  const sendBatch = (batch: ProducerBatch) =>
    new Promise<void>((resolve, reject) => {
      const messages = batch.topicMessages!.flatMap((t) => t.messages);
      sent.push({ numbers: messages.map((m) => Number(m.key)), intact: messages.every(intact), answer: (err) => (err ? reject(err) : resolve()) });
    });
  const queue = createWriteQueue(requests, sendBatch);
  /** Answers the requests sent so far that are still unanswered, one turn at a time, `count` of them. */
  let answered = 0;
  const answer = async (count: number, err?: Error) => {
    for (let i = 0; i < count; i++) {
      while (sent.length <= answered) await nextTurn();
      sent[answered++].answer(err);
      await nextTurn();
    }
  };
  const outcome = (writing: Promise<void>) => writing.then(() => 'ok', (err: Error) => err);
  return { queue, built, sent, answer, outcome };
}

const ready = Promise.resolve();
/** Lets the queue run: it only waits for answers and for turns of the event loop. */
const turns = async (count = 5) => {
  for (let i = 0; i < count; i++) await nextTurn();
};

describe('Kafka writes sent back to back', () => {
  it('builds the first request of a write ahead while the broker has the last of the write before, and sends it after', async () => {
    const { queue, built, sent, answer, outcome } = fixture();
    const first = outcome(queue.write(events(0, 7), ready));
    const ahead = outcome(queue.write(events(100, 4), ready));
    await answer(2);
    await turns();
    // The first write's last request (event 6) is out; the write ahead's first request is built, not sent.
    expect(sent.map((s) => s.numbers)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(built).toEqual([0, 1, 2, 3, 4, 5, 6, 100, 101, 102, 103]);
    let firstDone: unknown = null;
    void first.then((r) => (firstDone = r));
    await turns();
    expect(firstDone).toBeNull();
    await answer(1);
    expect(await first).toBe('ok');
    await answer(2);
    expect(await ahead).toBe('ok');
    expect(sent.map((s) => s.numbers)).toEqual([[0, 1, 2], [3, 4, 5], [6], [100, 101, 102], [103]]);
  });

  it('never writes over a record before its request was sent, across many writes handed over ahead', async () => {
    const { queue, sent, answer, outcome } = fixture();
    // Writes of 1 to 8 events, their requests ending at every position within a chunk,
    // each handed over while the one before is in flight, as the runner does.
    const writes: Array<Promise<unknown>> = [];
    const outstanding = new Set<Promise<unknown>>();
    let from = 0;
    const handOver = () => {
      if (writes.length === 8) return;
      const writing = outcome(queue.write(events(from, writes.length + 1), ready));
      from += writes.length + 1;
      writes.push(writing);
      outstanding.add(writing);
      void writing.then(() => {
        outstanding.delete(writing);
        handOver();
      });
    };
    handOver();
    handOver();
    while (outstanding.size > 0) await answer(1);
    expect(await Promise.all(writes)).toEqual(writes.map(() => 'ok'));
    expect(sent.flatMap((s) => s.numbers)).toEqual(Array.from({ length: from }, (_, i) => i));
    expect(sent.every((s) => s.intact)).toBe(true);
  });

  it('when a request fails, fails its write with the error and the write ahead unsent; a retry skips what was acknowledged', async () => {
    const { queue, sent, answer, outcome } = fixture();
    const firstEvents = events(0, 7);
    const aheadEvents = events(100, 4);
    const first = outcome(queue.write(firstEvents, ready));
    const ahead = outcome(queue.write(aheadEvents, ready));
    await answer(1);
    await answer(1, new Error('broker gone'));
    expect(((await first) as Error).message).toBe('broker gone');
    const unsent = await ahead;
    expect(unsent).toBeInstanceOf(RetryableError);
    expect((unsent as Error).message).toMatch(/write before it failed/);
    expect(sent.map((s) => s.numbers)).toEqual([[0, 1, 2], [3, 4, 5]]);
    // The runner writes both again, in order, with the same arrays.
    const retried = outcome(queue.write(firstEvents, ready));
    const retriedAhead = outcome(queue.write(aheadEvents, ready));
    await answer(4);
    expect(await retried).toBe('ok');
    expect(await retriedAhead).toBe('ok');
    expect(sent.slice(2).map((s) => s.numbers)).toEqual([[3, 4, 5], [6], [100, 101, 102], [103]]);
    expect(sent.every((s) => s.intact)).toBe(true);
  });

  it('sends a write only once its topics are ready, and fails it and the writes after it when they cannot be', async () => {
    const { queue, sent, answer, outcome } = fixture();
    let topicsReady!: () => void;
    const first = outcome(queue.write(events(0, 1), new Promise<void>((resolve) => (topicsReady = resolve))));
    const second = outcome(queue.write(events(10, 1), ready));
    await turns();
    expect(sent).toEqual([]);
    topicsReady();
    await answer(2);
    expect([await first, await second]).toEqual(['ok', 'ok']);

    const refused = outcome(queue.write(events(20, 1), Promise.reject(new Error('TOPIC_AUTHORIZATION_FAILED'))));
    const after = outcome(queue.write(events(30, 1), ready));
    expect(((await refused) as Error).message).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await after).toBeInstanceOf(RetryableError);
    expect(sent.map((s) => s.numbers)).toEqual([[0], [10]]);
  });

  it('fails a write whose records cannot be built, after sending the requests of the writes before it', async () => {
    const recordBytes = createRecordBytes();
    const requests = createRequests({
      topicOf: () => 't',
      toMessages: (event, out) => {
        if (numberOf(event) === 13) throw new Error('cannot serialize');
        out.push({ key: String(numberOf(event)), value: 'v' });
      },
      recordBytes,
      batch: () => ({ acks: -1, timeout: 1000 }),
    });
    const sent: number[][] = [];
    const queue = createWriteQueue(requests, async (batch) => void sent.push(batch.topicMessages!.flatMap((t) => t.messages.map((m) => Number(m.key)))));
    const settled = await Promise.allSettled([queue.write(events(0, 3), ready), queue.write(events(12, 3), ready), queue.write(events(20, 1), ready)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).toBe('cannot serialize');
    expect(sent).toEqual([[0, 1, 2]]);
  });
});
