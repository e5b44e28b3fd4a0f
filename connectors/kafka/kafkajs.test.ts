import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Message, PartitionerArgs } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../../test/harness/child-process.ts';
import { REPO } from '../../test/e2e/support.ts';
import { GROUPING_MODULE, groupMessagesPerPartition } from './kafkajs.ts';

const require = createRequire(import.meta.url);

interface Queue {
  push(request: { entry: object; expectResponse: boolean; sendRequest(): void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}

/** kafkajs' request queue for one broker connection, as its connections make it (after kafkajs.ts loaded). */
function requestQueue(): Queue {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js');
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  return new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:9092', logger });
}

/** kafkajs' own groupMessagesPerPartition, loaded past whatever the module cache holds. */
function kafkajsGrouping(): typeof groupMessagesPerPartition {
  const cached = require.cache[GROUPING_MODULE];
  delete require.cache[GROUPING_MODULE];
  try {
    return require(GROUPING_MODULE) as typeof groupMessagesPerPartition;
  } finally {
    if (cached) require.cache[GROUPING_MODULE] = cached;
  }
}

/** Runtime files (not tests) under a directory, relative to the repository. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => relative(REPO, join(REPO, dir, f)));
}

describe('kafkajs as slotline loads it', () => {
  it('groups messages by partition as kafkajs does: the same partitions, the same order within each', () => {
    const original = kafkajsGrouping();
    expect(original).not.toBe(groupMessagesPerPartition);
    const partitionMetadata = Array.from({ length: 7 }, (_, partition) => ({ partitionId: partition, leader: 1 })) as PartitionerArgs['partitionMetadata'];
    const partitioner = ({ message }: PartitionerArgs) => Number(message.key) % 7;
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647);
    for (const count of [0, 1, 2, 50, 3000]) {
      const messages: Message[] = Array.from({ length: count }, (_, i) => ({ key: String(random()), value: `v${i}` }));
      const args = { topic: 't', partitionMetadata, messages, partitioner };
      const ours = groupMessagesPerPartition(args);
      expect(ours).toEqual(original(args));
      expect(Object.values(ours).flat()).toHaveLength(count);
    }
    const none = { topic: 't', partitionMetadata: [], messages: [{ key: '1', value: 'v' }], partitioner };
    expect(groupMessagesPerPartition(none)).toEqual(original(none));
  });

  it("is in kafkajs' producer in a process that loads slotline's sinks", async () => {
    const connectors = JSON.stringify(join(REPO, 'connectors', 'index.ts'));
    const ours = JSON.stringify(join(REPO, 'connectors', 'kafka', 'kafkajs.ts'));
    const script = `await import(${connectors}); const { linearGrouping } = await import(${ours}); console.log('linear ' + linearGrouping);`;
    const result = await runCommand('node', process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('linear true');
  });

  describe("its request queue's check of pending requests", () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const request = (correlationId: number, sent: number[]) => ({
      entry: { correlationId, apiName: 'Produce', apiKey: 0, apiVersion: 7, resolve() {}, reject() {} },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });

    // kafkajs' own scheduled one after every response, at -Date.now() ms: a 1 ms poll for as long
    // as the connection lived, and a TimeoutNegativeWarning on Node 24.
    it('is scheduled only while requests wait, and sends them in order once the one in flight is answered', () => {
      vi.useFakeTimers();
      const queue = requestQueue();
      const sent: number[] = [];
      queue.push(request(1, sent));
      expect(vi.getTimerCount()).toBe(0);
      queue.push(request(2, sent));
      queue.push(request(3, sent));
      expect(sent).toEqual([1]);
      expect(vi.getTimerCount()).toBe(1);
      queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
      expect(sent).toEqual([1, 2]);
      queue.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
      queue.fulfillRequest({ correlationId: 3, payload: null, size: 0 });
      expect(sent).toEqual([1, 2, 3]);
      vi.runAllTimers(); // the check scheduled while 2 and 3 waited, which finds none
      expect(vi.getTimerCount()).toBe(0);
      queue.destroy();
    });

    it('holds requests while a broker throttles the client, and sends them when the throttle ends', () => {
      vi.useFakeTimers();
      const queue = requestQueue();
      const sent: number[] = [];
      queue.push(request(1, sent));
      queue.maybeThrottle(500);
      queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
      expect(vi.getTimerCount()).toBe(0);
      queue.push(request(2, sent));
      vi.advanceTimersByTime(499);
      expect(sent).toEqual([1]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual([1, 2]);
      queue.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
      expect(vi.getTimerCount()).toBe(0);
      queue.destroy();
    });
  });

  it("no other runtime module loads kafkajs' code: they import its values from kafkajs.ts and its types from 'kafkajs'", () => {
    const loaders = ['src', 'connectors', 'bin']
      .flatMap(sourceFiles)
      .filter((file) => file !== join('connectors', 'kafka', 'kafkajs.ts'))
      .filter((file) => /^import (?!type )[^;]*from 'kafkajs'/m.test(readFileSync(join(REPO, file), 'utf8')));
    expect(loaders).toEqual([]);
  });
});
