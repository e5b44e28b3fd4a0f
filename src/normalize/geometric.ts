/**
 * Geometry-like values Debezium maps to structs: Postgres `point` →
 * io.debezium.data.geometry.Point `{x, y, wkb, srid}`, PostGIS geometry /
 * geography (hex EWKB text) → `{wkb, srid}`, and pgvector's three types.
 * Postgres' other geometric types (box, lseg, path, polygon, circle, line) have
 * no Debezium 3.6 mapping; we send their text (see docs/type-mapping.md).
 */
import { javaHashMapOrder } from './java-compat.ts';

const POINT = /^\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$/;

/** `(1.5,2)` → the Point struct; wkb is the 21-byte little-endian OGC WKB point, srid null. */
export function parsePoint(text: string): Record<string, unknown> {
  const m = POINT.exec(text);
  if (m === null) throw new Error(`not a point: ${text}`);
  return pointValue(Number(m[1]), Number(m[2]));
}

export function pointValue(x: number, y: number): Record<string, unknown> {
  const wkb = Buffer.alloc(21);
  wkb[0] = 1; // little-endian
  wkb.writeUInt32LE(1, 1); // wkbPoint
  wkb.writeDoubleLE(x, 5);
  wkb.writeDoubleLE(y, 13);
  return { x, y, wkb, srid: null };
}

/** PostGIS output (hex EWKB) → `{wkb, srid}`: wkb is the EWKB as is, srid read from its header when flagged. */
export function parseEwkb(hex: string): Record<string, unknown> {
  const wkb = Buffer.from(hex, 'hex');
  if (wkb.length < 9) throw new Error('EWKB too short');
  const little = wkb[0] !== 0;
  const type = little ? wkb.readUInt32LE(1) : wkb.readUInt32BE(1);
  const srid = (type & 0x20000000) !== 0 ? (little ? wkb.readInt32LE(5) : wkb.readInt32BE(5)) : null;
  return { wkb, srid };
}

/** pgvector `vector` / `halfvec` text `[1,2.5,3]` → numbers (halfvec values rounded to float32). */
export function parseVector(text: string, float32: boolean): number[] {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) throw new Error(`not a vector: ${text.slice(0, 80)}`);
  const body = t.slice(1, -1).trim();
  if (body === '') return [];
  return body.split(',').map((s) => (float32 ? Math.fround(Number(s)) : Number(s)));
}

/**
 * pgvector `sparsevec` text `{1:1.5,3:2}/5` → `{dimensions, vector}`; the map
 * keys in the order Debezium's `new HashMap<>(n)` of Short keys iterates them.
 */
export function parseSparseVector(text: string): Record<string, unknown> {
  const slash = text.lastIndexOf('/');
  const body = text.slice(0, slash).trim();
  if (slash < 0 || !body.startsWith('{') || !body.endsWith('}')) throw new Error(`not a sparsevec: ${text.slice(0, 80)}`);
  const dimensions = Number(text.slice(slash + 1));
  const inner = body.slice(1, -1).trim();
  const pairs: [number, number][] = inner === '' ? [] : inner.split(',').map((p) => {
    const [k, v] = p.split(':');
    return [Number(k), Number(v)];
  });
  const order = javaHashMapOrder(pairs.map(([k]) => k), Math.max(pairs.length, 1));
  return { dimensions, vector: new Map(order.map((i) => pairs[i])) };
}
