/**
 * What transforms cost: CPU per row of a typical 10-column insert, normalized
 * and written as Kafka record bytes (schemas on), without transforms and with
 * `mask` (hash an e-mail, mask a phone number) + `unwrap` (rewrite, four
 * added fields). Reported as µs per row and the difference. No servers: this
 * is the worker's own CPU, the part transforms add to.
 *   node bench/transforms.ts [seconds per case]   (also part of `npm run bench`)
 */
import pino from 'pino';
import { createRecordBytes } from '../connectors/kafka/kafka-records.ts';
import { transformSchema } from '../src/config/transform-schema.ts';
import { normalizeInsert, type EventContext } from '../src/normalize/change-events.ts';
import { writeKeyRecord, writeSchemaValueRecord, writeValueRecord } from '../src/normalize/json-converter.ts';
import { buildTableModel } from '../src/normalize/table-model.ts';
import { lookup, numericMod, options, relation } from '../src/normalize/testing.ts';
import { createTransformChain, type Transform } from '../src/route/transforms/transform.ts';
import type { ChangeEvent } from '../src/types.ts';

export interface TransformCost {
  /** µs per row the transforms themselves take (normalize + apply, less normalize alone). */
  applyUs: number;
  /** µs per row: normalize + record bytes, no transforms (the envelope). */
  baseUs: number;
  /** µs per row with mask + unwrap (the row is smaller to write than the envelope). */
  transformedUs: number;
}

const OPTS = options();
const COLUMNS = ['id', 'name', 'email', 'phone', 'price', 'qty', 'created_at', 'active', 'score', 'payload'];
const model = buildTableModel(
  relation([
    ['id', 23, { key: true }], ['name', 1043, { typeMod: 68 }], ['email', 25], ['phone', 1043, { typeMod: 24 }], ['price', 1700, { typeMod: numericMod(10, 2) }],
    ['qty', 23], ['created_at', 1184], ['active', 16], ['score', 701], ['payload', 3802],
  ]),
  lookup, OPTS,
  { columns: new Map(COLUMNS.map((c, i) => [c, { notNull: i < 2, defaultExpression: null }])), keyColumns: ['id'] },
);
const tuple = (i: number) => [
  String(i), `Widget ${i}`, `user${i}@example.com`, `+1-555-${String(i % 10_000).padStart(4, '0')}`, '1234.56', '3',
  '2024-05-01 10:00:00.123456+00', 't', '0.75', '{"sku": "A-1", "tags": ["x", "y"]}',
];
const ctx = (i: number): EventContext => ({
  tx: { xid: 1000, commitTimeUs: 1714557600123456n, finalLsn: 0x5000000n, lastCommitLsn: 0x4000000n, origin: null },
  lsn: BigInt(0x4000000 + i * 64),
  nowNs: 1714557600200321456n,
});

const TRANSFORMS = [
  { type: 'mask', rules: [{ columns: ['public.items.email'], hash: { algorithm: 'SHA-256', salt: 'pepper' } }, { columns: ['*.*.phone'], mask_with_chars: 6 }] },
  { type: 'unwrap', delete_tombstone_handling_mode: 'rewrite', add_fields: ['op', 'table', 'lsn', 'source.ts_ms'] },
];

function perRowUs(seconds: number, body: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += body(i); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end) for (let j = 0; j < 1000; j++, n++) sink += body(n);
  const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
  if (sink < 0) console.log(sink); // keep the work observable
  return elapsedUs / n;
}

export function measureTransforms(seconds = 2): TransformCost {
  const chain: Transform = createTransformChain(TRANSFORMS.map((t) => transformSchema.parse(t)), { logger: pino({ level: 'silent' }), sink: 'bench', topicPrefix: 'pg' })!;
  const bytes = createRecordBytes();
  const write = (e: ChangeEvent): number => {
    const { out } = bytes;
    out.begin();
    writeKeyRecord(e, {}, out);
    const key = out.end();
    if (e.record?.value) writeSchemaValueRecord(e.record.value, {}, out);
    else writeValueRecord(e, {}, out);
    return key.length + out.end().length;
  };
  const normalizeUs = perRowUs(seconds, (i) => normalizeInsert(model, tuple(i), OPTS, ctx(i)).size);
  const appliedUs = perRowUs(seconds, (i) => chain.apply(normalizeInsert(model, tuple(i), OPTS, ctx(i)))!.size);
  const baseUs = perRowUs(seconds, (i) => write(normalizeInsert(model, tuple(i), OPTS, ctx(i))));
  const transformedUs = perRowUs(seconds, (i) => write(chain.apply(normalizeInsert(model, tuple(i), OPTS, ctx(i)))!));
  return { applyUs: appliedUs - normalizeUs, baseUs, transformedUs };
}

export function formatTransformCost(cost: TransformCost): string {
  const f = (us: number) => `${us.toFixed(2)} µs/row`;
  return `transforms, CPU per 10-column insert: mask (SHA-256 + 6 chars) + unwrap (rewrite, 4 fields) add ${f(cost.applyUs)}; `
    + `normalize + Kafka record bytes (schemas on): envelope ${f(cost.baseUs)}, transformed row ${f(cost.transformedUs)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatTransformCost(measureTransforms(Number(process.argv[2] ?? 2))));
}
