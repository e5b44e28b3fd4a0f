/**
 * A write as produce requests: cut to the broker's limit, built one ahead of
 * the broker, sent in order.
 *
 * - At most MAX_REQUEST_BYTES of records per request: the broker refuses a
 *   partition's record batch above its message.max.bytes (1 MiB by default),
 *   and kafkajs does not split (the Java producer does), so 2048 typical rows
 *   in one request would fail as MESSAGE_TOO_LARGE.
 * - Requests are built lazily, so a write's records are not all held at once
 *   (2048 events with schemas are ~9 MB), and the same events always give the
 *   same requests (the sink skips those a failed attempt had sent).
 * - One request is in flight (the idempotent producer's limit, kafka-sink.ts),
 *   and while the broker has it, the next one is built: the worker's CPU and
 *   the broker's round trip overlap instead of taking turns.
 * - Record bytes live in reused chunks (kafka-records.ts): a request's are
 *   released when the broker acknowledged it, and none are reused after a
 *   failed send.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Message, ProducerBatch, TopicMessages } from 'kafkajs';
import type { ChangeEvent } from '../../src/types.ts';
import type { RecordBytes } from './kafka-records.ts';

/**
 * Most record bytes (keys, values, headers, per-record overhead) in one produce
 * request: under the broker's default message.max.bytes (1048588), which bounds
 * each partition's batch in a request. A single larger record is still sent
 * alone, and the broker's MESSAGE_TOO_LARGE then names the problem.
 */
export const MAX_REQUEST_BYTES = 1_000_000;
const RECORD_OVERHEAD_BYTES = 32;

/** One produce request of a write. */
export interface ProduceRequest {
  topicMessages: TopicMessages[];
  /** The broker acknowledged it: the bytes of the events wholly in it may be written again. */
  acknowledged(): void;
}

/** Sends a write's produce requests in order through `sendBatch` (the sink's acks, timeout and compression). */
export type SendRequests = (requests: Iterable<ProduceRequest>, sendBatch: (batch: ProducerBatch) => Promise<unknown>) => Promise<void>;

export interface RequestOptions {
  topicOf(event: ChangeEvent): string;
  /** Appends an event's records to `out`, their bytes written into `recordBytes`. */
  toMessages(event: ChangeEvent, out: Message[]): void;
  recordBytes: RecordBytes;
  /** What each request carries besides its records. */
  batch(): Omit<ProducerBatch, 'topicMessages'>;
}

export function createRequests(options: RequestOptions): { build(events: readonly ChangeEvent[]): Generator<ProduceRequest>; send: SendRequests } {
  const { topicOf, toMessages, recordBytes } = options;
  /** A request of the records so far; once acknowledged, the bytes before `end` are released. */
  const request = (byTopic: Map<string, Message[]>, end: number): ProduceRequest => ({
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    acknowledged: () => recordBytes.release(end),
  });

  function* build(events: readonly ChangeEvent[]): Generator<ProduceRequest> {
    let byTopic = new Map<string, Message[]>();
    let requestBytes = 0;
    const one: Message[] = [];
    for (const event of events) {
      const topic = topicOf(event);
      // An event's records may fall into two requests (a delete's tombstone shares its key's bytes).
      const eventStart = recordBytes.position();
      one.length = 0;
      toMessages(event, one);
      for (const message of one) {
        const bytes = messageBytes(message);
        if (requestBytes > 0 && requestBytes + bytes > MAX_REQUEST_BYTES) {
          yield request(byTopic, eventStart);
          byTopic = new Map();
          requestBytes = 0;
        }
        let messages = byTopic.get(topic);
        if (!messages) byTopic.set(topic, (messages = []));
        messages.push(message);
        requestBytes += bytes;
      }
    }
    yield request(byTopic, recordBytes.position());
  }

  const send: SendRequests = async (requests, sendBatch) => {
    const iterator = requests[Symbol.iterator]();
    try {
      let next = iterator.next();
      while (!next.done) {
        const current = next.value;
        if (current.topicMessages.length === 0) {
          next = iterator.next();
          continue;
        }
        const sending = sendBatch({ ...options.batch(), topicMessages: current.topicMessages });
        // Awaited below, after the next request is built: not an unhandled rejection meanwhile.
        sending.catch(() => undefined);
        // kafkajs writes the request to its socket in the microtasks that follow
        // sendBatch (a connected producer, no request ahead of it); from the
        // next turn of the event loop the broker has it, and this one builds.
        await nextTurn();
        next = iterator.next();
        await sending;
        current.acknowledged();
      }
    } catch (err) {
      // The client may still encode a request it had queued for another broker: keep every byte as it is.
      recordBytes.forget();
      throw err;
    } finally {
      iterator.return?.();
    }
  };

  return { build, send };
}

/** A record's share of a produce request, as the broker counts it against message.max.bytes. */
export function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  const headers = message.headers;
  if (headers === undefined) return bytes;
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const one of value) bytes += Buffer.byteLength(name) + byteLength(one);
    else bytes += Buffer.byteLength(name) + byteLength(value);
  }
  return bytes;
}

function byteLength(data: string | Buffer | null | undefined): number {
  if (data == null) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
