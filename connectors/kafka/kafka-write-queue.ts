/**
 * The at-least-once Kafka sink's writes, sent back to back as one stream of
 * produce requests (Sink.writesAhead): the runner hands over the next write
 * while the last is in flight, and its first request is built while the
 * broker has the last request of the write before.
 *
 * - One stream builds every request, so record bytes are written in the order
 *   they are sent. That is what lets an acknowledgement release every byte
 *   before its request's end (kafka-records.ts): were a write ahead built
 *   between two requests of the write before, an acknowledgement would free
 *   the chunk holding its records before they were sent.
 * - A write's requests go out only once every request of the writes before it
 *   was acknowledged, and a write resolves when its last one is.
 * - When a request fails, its write rejects with the error, and every write
 *   after it rejects unsent.
 * - Given the same events array again (the runner's retry), a write skips the
 *   requests the broker acknowledged before it failed.
 */
import type { ProducerBatch } from 'kafkajs';
import { RetryableError } from '../../src/errors.ts';
import type { ChangeEvent } from '../../src/types.ts';
import type { ProduceRequest, SendRequests } from './kafka-requests.ts';

export interface WriteQueue {
  /**
   * Sends `events` after every write queued before it; `ready` settles when
   * it may go out (its topics exist) and its rejection is the write's.
   */
  write(events: readonly ChangeEvent[], ready: Promise<unknown>): Promise<void>;
}

interface Queued {
  events: readonly ChangeEvent[];
  /** The requests of `events`, in build order, that the broker acknowledged: the same across attempts. */
  progress: { acknowledged: number };
  ready: boolean;
  gate: Promise<unknown>;
  /** Requests built and not yet acknowledged. */
  outstanding: number;
  built: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export function createWriteQueue(
  requests: { build(events: readonly ChangeEvent[]): Iterable<ProduceRequest>; send: SendRequests },
  sendBatch: (batch: ProducerBatch) => Promise<unknown>,
): WriteQueue {
  const progressOf = new WeakMap<readonly ChangeEvent[], Queued['progress']>();
  /** Queued, not started. */
  let waiting: Queued[] = [];
  /** Started: requests built, not all acknowledged. The first owns the request in flight. */
  let started: Queued[] = [];
  let pumping = false;

  const settle = (write: Queued): void => {
    if (!write.built || write.outstanding > 0) return;
    started.splice(started.indexOf(write), 1);
    progressOf.delete(write.events);
    write.resolve();
  };

  /** `first` rejects with `err`; every write after it, unsent, with a retryable error. */
  const failFrom = (first: Queued, err: unknown): void => {
    const after = waiting.filter((write) => write !== first);
    waiting = [];
    first.reject(err);
    for (const write of after) write.reject(new RetryableError('Kafka write not sent: the write before it failed'));
  };

  /** The requests of every ready write, in order; ends at a write whose topics are not ready yet. */
  function* stream(): Generator<ProduceRequest> {
    while (waiting.length > 0 && waiting[0].ready) {
      const write = waiting.shift()!;
      started.push(write);
      let index = 0;
      try {
        for (const request of requests.build(write.events)) {
          const number = index++;
          if (number < write.progress.acknowledged || request.topicMessages.length === 0) continue;
          write.outstanding++;
          yield {
            topicMessages: request.topicMessages,
            acknowledged() {
              request.acknowledged();
              write.progress.acknowledged = number + 1;
              write.outstanding--;
              settle(write);
            },
          };
        }
      } catch (err) {
        // Building failed (a record the converter refuses): the requests before it are still sent.
        started.splice(started.indexOf(write), 1);
        failFrom(write, err);
        return;
      }
      write.built = true;
      settle(write);
    }
  }

  const pump = async (): Promise<void> => {
    pumping = true;
    while (waiting.length > 0) {
      const head = waiting[0];
      try {
        await head.gate;
        head.ready = true;
      } catch (err) {
        failFrom(head, err);
        continue;
      }
      try {
        await requests.send(stream(), sendBatch);
      } catch (err) {
        // The failed request is the oldest outstanding one: the first started write's.
        waiting = [...started, ...waiting];
        started = [];
        if (waiting.length > 0) failFrom(waiting[0], err);
      }
    }
    pumping = false;
  };

  return {
    write(events, ready) {
      const progress = progressOf.get(events) ?? { acknowledged: 0 };
      progressOf.set(events, progress);
      return new Promise<void>((resolve, reject) => {
        const write: Queued = { events, progress, ready: false, gate: ready, outstanding: 0, built: false, resolve, reject };
        ready.then(
          () => (write.ready = true),
          () => undefined,
        );
        waiting.push(write);
        if (!pumping) void pump();
      });
    },
  };
}
