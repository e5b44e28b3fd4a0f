import { describe, expect, it } from 'vitest';
import { SOURCE_SCHEMA } from './connect-schemas.ts';
import { writeValue } from './json-converter.ts';
import { scratchOut, utf8, writeRaw } from './json-bytes.ts';
import { segmentedStructWriter } from './json-struct-segments.ts';

const fields = SOURCE_SCHEMA.fields!;
const segmented = segmentedStructWriter(fields, (f) => (v, out) => writeRaw(out, utf8(writeValue(f, v))), new Set(['sequence', 'lsn']));
const write = (v: unknown): string => {
  const out = scratchOut(64);
  segmented(v, out);
  return out.buf.toString('utf8', 0, out.at);
};

const source = (over: Record<string, unknown> = {}) => ({
  version: '3.6.1.Final', connector: 'postgresql', name: 'app', ts_ms: 1700000000123n, snapshot: null, db: 'shop',
  sequence: '["100","200"]', ts_us: 1700000000123456n, ts_ns: 1700000000123456000n, schema: 'public', table: 'orders',
  txId: 777n, lsn: 200n, xmin: null, origin: null, origin_lsn: null, ...over,
});

describe('a struct written as cached bytes around its changing fields', () => {
  it('writes what the field-by-field writer writes, whichever fields change from one value to the next', () => {
    const values = [
      source(),
      source({ sequence: '["100","208"]', lsn: 208n }), // the same transaction and table: the cached bytes
      source({ sequence: '["100","216"]', lsn: 216n, table: 'lines' }), // another table
      source({ sequence: '["100","224"]', lsn: 224n }), // back
      source({ sequence: '["300","400"]', lsn: 400n, txId: 778n, ts_ms: 1700000000999n, ts_us: 1700000000999000n, ts_ns: 1700000000999000000n }),
      source({ sequence: null, lsn: null, txId: null, snapshot: 'true' }),
      source({ origin: 'upstream', origin_lsn: 5n, name: 'ünïcode "name"' }),
      source({ origin: 'upstream', origin_lsn: 6n, name: 'ünïcode "name"' }),
      source({ ts_ms: 1700000000123n, ts_us: 1700000000123456n }), // equal bigints made anew
    ];
    for (const [i, v] of values.entries()) expect(write(v), `value ${i}`).toBe(writeValue(SOURCE_SCHEMA, v));
  });

  it('writes a struct whose first or last field changes', () => {
    const two = [
      { type: 'string', optional: false, field: 'a' },
      { type: 'int64', optional: true, field: 'b' },
    ] as const;
    const schema = { type: 'struct', optional: false, fields: [...two] } as never;
    for (const changing of [['a'], ['b'], ['a', 'b'], []]) {
      const writer = segmentedStructWriter([...two], (f) => (v, out) => writeRaw(out, utf8(writeValue(f, v))), new Set(changing));
      for (const v of [{ a: 'x', b: 1n }, { a: 'x', b: 2n }, { a: 'y', b: 2n }, { a: 'y', b: null }]) {
        const out = scratchOut(8);
        writer(v, out);
        expect(out.buf.toString('utf8', 0, out.at), `${changing} ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`).toBe(writeValue(schema, v));
      }
    }
  });
});
