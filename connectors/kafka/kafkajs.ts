/**
 * kafkajs as slotline loads it: the one module of ours that loads kafkajs'
 * code, so that its producer's message grouping can be replaced first.
 *
 * kafkajs groups a produce request's messages by partition with
 * `[...current, message]` per message (producer/groupMessagesPerPartition.js):
 * quadratic in the messages of a partition. A 1 MB request of ~1 000 records
 * copied ~500 000 array slots: 2.2 GB of garbage on a 200 000-row drain
 * without schemas, 46 % of all the worker allocated, and half its scavenges
 * (docs/kafka-performance.md, step 12). Ours pushes: the same partitions, the same
 * order within each.
 *
 * kafkajs' producer binds the grouping when its module is first loaded, so
 * ours goes into Node's module cache before that, and kafkajs is loaded here
 * with `require`, after it. Other modules of ours import kafkajs' values from
 * here and only its types from 'kafkajs'. When something loaded kafkajs'
 * producer earlier (a test that imported kafkajs itself), its own grouping
 * stays: slower, the same records.
 */
import { createRequire, Module } from 'node:module';
import type { Message, PartitionerArgs } from 'kafkajs';

const require = createRequire(import.meta.url);

type Grouping = (args: { topic: string; partitionMetadata: PartitionerArgs['partitionMetadata']; messages: Message[]; partitioner: (args: PartitionerArgs) => number }) => Record<number, Message[]>;

/** kafkajs' groupMessagesPerPartition, linear: each message appended to its partition's array. */
export const groupMessagesPerPartition: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const groups: Record<number, Message[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (groups[partition] ??= []).push(message);
  }
  return groups;
};

export const GROUPING_MODULE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const SEND_MESSAGES_MODULE = require.resolve('kafkajs/src/producer/sendMessages.js');

if (require.cache[SEND_MESSAGES_MODULE] === undefined && require.cache[GROUPING_MODULE] === undefined) {
  const grouping = new Module(GROUPING_MODULE);
  grouping.filename = GROUPING_MODULE;
  grouping.exports = groupMessagesPerPartition;
  grouping.loaded = true;
  require.cache[GROUPING_MODULE] = grouping;
}

const kafkajs = require('kafkajs') as typeof import('kafkajs');

/**
 * kafkajs' request queue schedules a check of its pending requests after each
 * response, `throttledUntil - Date.now()` ms later, even with none pending;
 * the check schedules the next. `throttledUntil` is -1 until a broker
 * throttles the client, so the timeout is minus the wall clock: Node makes
 * it 1 ms, warns on stderr (a TimeoutNegativeWarning on Node 24, the image's:
 * a line that is not JSON amid the worker's logs), and every connection that
 * had a response polls every millisecond until it closes. Ours schedules only
 * when requests are pending, as kafkajs' own comment intends: a request that
 * cannot go out at once is queued by push(), which schedules the check, and
 * every response and timeout checks the queue.
 */
interface RequestQueue {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10; // kafkajs' own: requests wait for one in flight, the queue is not throttled
const requestQueue = (require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue & { scheduleCheckPendingRequests(): void } }).prototype;
requestQueue.scheduleCheckPendingRequests = function (this: RequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, throttledFor > 0 ? throttledFor : CHECK_PENDING_REQUESTS_INTERVAL_MS);
};

/** Whether kafkajs' producer in this process groups with ours (false when it was loaded before this module). */
export const linearGrouping = require.cache[GROUPING_MODULE]?.exports === groupMessagesPerPartition && require.cache[SEND_MESSAGES_MODULE]?.children.some((child) => child.exports === groupMessagesPerPartition) === true;

export const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;
export type Kafka = import('kafkajs').Kafka;
export type CompressionTypes = import('kafkajs').CompressionTypes;
