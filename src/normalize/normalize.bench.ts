/**
 * Microbenchmark of the hot path for a typical 10-column row: normalize an
 * insert, then write the Kafka key and value JSON.
 *   node src/normalize/normalize.bench.ts [seconds per case]
 */
import { normalizeInsert, normalizeUpdate, type EventContext } from './change-events.ts';
import { createRecordBytes } from '../../connectors/kafka/kafka-records.ts';
import { serializeKey, serializeValue, writeKeyRecord, writeValueRecord } from './json-converter.ts';
import { buildTableModel } from './table-model.ts';
import { lookup, numericMod, options, relation } from './testing.ts';

const seconds = Number(process.argv[2] ?? 2);
const OPTS = options();
const model = buildTableModel(
  relation([
    ['id', 23, { key: true }], ['name', 1043, { typeMod: 68 }], ['email', 25], ['price', 1700, { typeMod: numericMod(10, 2) }],
    ['qty', 23], ['created_at', 1184], ['updated_at', 1114], ['active', 16], ['score', 701], ['payload', 3802],
  ]),
  lookup, OPTS,
  {
    columns: new Map(['id', 'name', 'email', 'price', 'qty', 'created_at', 'updated_at', 'active', 'score', 'payload']
      .map((c, i) => [c, { notNull: i < 2, defaultExpression: null }])),
    keyColumns: ['id'],
  },
);
const tuple = (i: number) => [
  String(i), `Widget ${i}`, `user${i}@example.com`, '1234.56', '3', '2024-05-01 10:00:00.123456+00', '2024-05-01 10:00:00.123456',
  't', '0.75', '{"sku": "A-1", "tags": ["x", "y"]}',
];
const ctx = (i: number): EventContext => ({
  tx: { xid: 1000, commitTimeUs: 1714557600123456n, finalLsn: 0x5000000n, lastCommitLsn: 0x4000000n, origin: null },
  lsn: BigInt(0x4000000 + i * 64),
  nowNs: 1714557600200321456n,
});

function run(label: string, body: (i: number) => number): void {
  let bytes = 0;
  for (let i = 0; i < 20_000; i++) bytes += body(i); // warm up
  bytes = 0;
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < end) {
    for (let j = 0; j < 1000; j++, n++) bytes += body(n);
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(48)} ${Math.round(n / elapsed).toLocaleString('en')} events/s  (${Math.round(bytes / n)} B/event)`);
}

run('normalizeInsert only', (i) => normalizeInsert(model, tuple(i), OPTS, ctx(i)).size);
run('insert + key + value JSON, schemas.enable=true', (i) => {
  const e = normalizeInsert(model, tuple(i), OPTS, ctx(i));
  return serializeKey(e)!.length + serializeValue(e).length;
});
run('insert + key + value JSON, schemas.enable=false', (i) => {
  const e = normalizeInsert(model, tuple(i), OPTS, ctx(i));
  return serializeKey(e, { schemasEnable: false })!.length + serializeValue(e, { schemasEnable: false }).length;
});
run('… + Buffer.from(value) (what a producer does)', (i) => {
  const e = normalizeInsert(model, tuple(i), OPTS, ctx(i));
  return Buffer.from(serializeKey(e)!).length + Buffer.from(serializeValue(e)).length;
});
const recordBytes = createRecordBytes();
run('… written as record bytes (Kafka sink)', (i) => {
  const e = normalizeInsert(model, tuple(i), OPTS, ctx(i));
  const { out } = recordBytes;
  out.begin();
  writeKeyRecord(e, {}, out);
  const key = out.end();
  writeValueRecord(e, {}, out);
  return key.length + out.end().length;
});
run('update (DEFAULT identity) + JSON, schemas.enable=true', (i) => {
  const [e] = normalizeUpdate(model, { newTuple: tuple(i) }, OPTS, ctx(i));
  return serializeKey(e)!.length + serializeValue(e).length;
});
