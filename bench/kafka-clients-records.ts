/**
 * The Kafka sink's records for the benchmark's table (workload.ts), built
 * without a server: row changes of bench_rows normalized as the worker does,
 * then turned into key, value and headers by the sink's own code
 * (createKafkaMessages) and cut into produce requests by its rule
 * (MAX_REQUEST_BYTES, messageBytes). The mix is the small-transaction
 * workload's: 60 % inserts, 30 % updates, 10 % deletes, each delete followed
 * by its tombstone.
 */
import type { Message } from 'kafkajs';
import { createKafkaMessages } from '../connectors/kafka/kafka-records.ts';
import { MAX_REQUEST_BYTES, messageBytes } from '../connectors/kafka/kafka-requests.ts';
import { normalizeDelete, normalizeInsert, normalizeUpdate, type EventContext } from '../src/normalize/change-events.ts';
import { buildTableModel } from '../src/normalize/table-model.ts';
import { lookup, numericMod, options, relation } from '../src/normalize/testing.ts';
import type { ChangeEvent } from '../src/types.ts';
import { TABLE } from './workload.ts';

/** `slotline`: kafkajs with the sink's own Produce encoding (kafka-produce-request.ts), as the sink runs it. */
export const CLIENTS = ['kafkajs', 'slotline', 'platformatic'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** The worker's topic for the table: topic_prefix `bench` (worker-process.ts). */
export const TOPIC_PREFIX = 'bench';

const OPTIONS = options({ topicPrefix: TOPIC_PREFIX, database: 'bench' });
const COLUMNS: Array<[name: string, oid: number, extra?: { key?: boolean; typeMod?: number }]> = [
  ['id', 20, { key: true }], ['name', 25], ['code', 1043, { typeMod: 32 + 4 }], ['price', 1700, { typeMod: numericMod(12, 2) }],
  ['quantity', 23], ['active', 16], ['updated_at', 1184], ['attrs', 3802], ['ref', 2950], ['note', 25],
];
const MODEL = buildTableModel(relation(COLUMNS, 'default', TABLE), lookup, OPTIONS, {
  columns: new Map(COLUMNS.map(([name]) => [name, { notNull: name !== 'note', defaultExpression: null }])),
  keyColumns: ['id'],
});

/** A row as pgoutput sends it (text), with the values workload.ts generates for `g`. */
function tuple(g: number): string[] {
  const color = ['red', 'green', 'blue'][g % 3];
  return [
    String(g), `customer ${g} of the benchmark`, `SKU-${String(g % 1_000_000).padStart(7, '0')}`, ((g * 7919) % 1_000_000 / 100).toFixed(2),
    String((g * 31) % 1000), g % 5 === 0 ? 'f' : 't', '2026-12-05 09:14:07.123456+00',
    `{"size": ${g % 50}, "tags": ["new", "sale"], "color": "${color}"}`,
    `5f0c6e1a-${String(g % 10_000).padStart(4, '0')}-4b7e-9c1d-${String(g).padStart(12, '0')}`, g % 3 === 0 ? null : `a note about row ${g}`,
  ] as string[];
}

/** `count` row changes in transactions of ten, in the workload's mix. */
export function benchEvents(count: number): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (let i = 0; i < count; i++) {
    const g = 100_000 + i;
    const ctx: EventContext = {
      tx: { xid: 5000 + Math.floor(i / 10), commitTimeUs: 1796462047123456n, finalLsn: BigInt(0x50000000 + i * 400), lastCommitLsn: 0x4000000n, origin: null },
      lsn: BigInt(0x50000000 + i * 400),
      nowNs: 1796462047200321456n,
    };
    const draw = i % 10;
    if (draw < 6) events.push(normalizeInsert(MODEL, tuple(g), OPTIONS, ctx));
    else if (draw < 9) events.push(...normalizeUpdate(MODEL, { newTuple: tuple(g) }, OPTIONS, ctx));
    else events.push(normalizeDelete(MODEL, { keyTuple: [String(g), ...Array(COLUMNS.length - 1).fill(null)] }, OPTIONS, ctx));
  }
  return events;
}

/** The sink's produce requests for `events`: records of at most MAX_REQUEST_BYTES each, in order. */
export function sinkRequests(events: readonly ChangeEvent[], schemasEnable: boolean): Message[][] {
  const toMessages = createKafkaMessages({ headers: true, schemasEnable, tombstones: true });
  const requests: Message[][] = [[]];
  let requestBytes = 0;
  const one: Message[] = [];
  for (const event of events) {
    one.length = 0;
    toMessages(event, one);
    for (const message of one) {
      const bytes = messageBytes(message);
      if (requestBytes > 0 && requestBytes + bytes > MAX_REQUEST_BYTES) {
        requests.push([]);
        requestBytes = 0;
      }
      requests.at(-1)!.push(message);
      requestBytes += bytes;
    }
  }
  return requests;
}
