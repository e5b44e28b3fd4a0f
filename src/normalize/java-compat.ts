/**
 * The few places where Debezium's JSON depends on how the JVM prints or orders
 * things, reproduced so our bytes match Kafka Connect's:
 * - `Double.toString` / `Float.toString` (JDK 19+ shortest-repr rules), used by
 *   Jackson for FLOAT64 / FLOAT32 values;
 * - `java.util.HashMap` iteration order, which decides the key order of hstore
 *   JSON, hstore maps and pgvector sparse maps;
 * - `UUID.nameUUIDFromBytes`, for Debezium's uuid[] TOAST placeholder.
 */
import { createHash } from 'node:crypto';

/** `Double.toString(x)`: plain between 1e-3 and 1e7, else `d.dddE±n`; always a fraction digit. */
export function javaDoubleToString(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = x < 0 ? -x : x;
  if (abs >= 1e-3 && abs < 1e7) {
    // Here JS prints the same shortest digits, in plain notation; the
    // one-vs-two-digit rule below only matters near the subnormal range.
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  return formatJava(x, shortestDouble(x));
}

/** `Float.toString(f)` for a value that is already a float32 (Math.fround). */
export function javaFloatToString(f: number): string {
  if (f !== f) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  return formatJava(f, shortestFloat(f));
}

interface Decimal {
  negative: boolean;
  /** Significant digits, no leading/trailing zeros (except the single digit "0"). */
  digits: string;
  /** Decimal exponent of the first digit: value = 0.d1d2… × 10^(exp+1). */
  exp: number;
}

function parseExponential(s: string): Decimal {
  // s is like "-1.2345e-7" (Number.prototype.toExponential / toPrecision output)
  const negative = s.charCodeAt(0) === 45;
  const body = negative ? s.slice(1) : s;
  const e = body.indexOf('e');
  const mantissa = e < 0 ? body : body.slice(0, e);
  const exp = e < 0 ? 0 : Number(body.slice(e + 1));
  let digits = mantissa.replace('.', '');
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  return { negative, digits, exp };
}

// JDK 19+ picks the shortest decimal that rounds back to the value, but when
// that has a single digit it considers two-digit decimals too and takes the
// closest (so Double.MIN_VALUE prints 4.9E-324, not 5E-324).
function shortestDouble(x: number): Decimal {
  const d = parseExponential(x.toExponential());
  if (d.digits.length === 1) {
    const two = x.toExponential(1);
    if (Number(two) === x) return parseExponential(two);
  }
  return d;
}

function shortestFloat(f: number): Decimal {
  for (let p = 1; p <= 9; p++) {
    const s = f.toExponential(p - 1);
    if (Math.fround(Number(s)) === f) {
      if (p === 1) {
        const two = f.toExponential(1);
        if (Math.fround(Number(two)) === f) return parseExponential(two);
      }
      return parseExponential(s);
    }
  }
  return parseExponential(f.toExponential());
}

function formatJava(x: number, d: Decimal): string {
  const abs = x < 0 ? -x : x;
  const sign = d.negative ? '-' : '';
  if (abs >= 1e-3 && abs < 1e7) {
    const intLen = d.exp + 1;
    if (intLen <= 0) return `${sign}0.${'0'.repeat(-intLen)}${d.digits}`;
    if (d.digits.length <= intLen) return `${sign}${d.digits}${'0'.repeat(intLen - d.digits.length)}.0`;
    return `${sign}${d.digits.slice(0, intLen)}.${d.digits.slice(intLen)}`;
  }
  const frac = d.digits.length > 1 ? d.digits.slice(1) : '0';
  return `${sign}${d.digits[0]}.${frac}E${d.exp}`;
}

/** A double as a plain decimal string with no exponent and no trailing zeros, like `BigDecimal.valueOf(x).stripTrailingZeros().toPlainString()`. */
export function javaPlainDecimal(x: number): string {
  if (x === 0) return '0';
  const d = shortestDouble(x);
  const sign = d.negative ? '-' : '';
  const intLen = d.exp + 1;
  if (intLen <= 0) return `${sign}0.${'0'.repeat(-intLen)}${d.digits}`;
  if (d.digits.length <= intLen) return `${sign}${d.digits}${'0'.repeat(intLen - d.digits.length)}`;
  return `${sign}${d.digits.slice(0, intLen)}.${d.digits.slice(intLen)}`;
}

/** `String.hashCode()` over UTF-16 code units, as a signed 32-bit int. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The order in which a `java.util.HashMap` filled with keys of these hash codes
 * (in insertion order) iterates its entries, as indexes into `hashes`. We replay
 * the inserts: a bucket keeps insertion order, the table doubles when the size
 * passes 3/4 of the capacity or when a bucket of 8+ keys would be turned into a
 * tree while the table is smaller than 64 (resizes never reorder a bucket).
 * Buckets that Java does turn into trees (9+ colliding keys in a table of 64+)
 * are not modelled; only adversarial keys get there.
 */
export function javaHashMapOrder(hashes: readonly number[], initialCapacity = 16): number[] {
  let capacity = 1;
  while (capacity < initialCapacity) capacity *= 2;
  const spread = hashes.map((h) => h ^ (h >>> 16));
  let buckets: number[][] = Array.from({ length: capacity }, () => []);
  const resize = (): void => {
    capacity *= 2;
    const next: number[][] = Array.from({ length: capacity }, () => []);
    for (const bucket of buckets) for (const i of bucket) next[spread[i] & (capacity - 1)].push(i);
    buckets = next;
  };
  for (let i = 0; i < hashes.length; i++) {
    const bucket = buckets[spread[i] & (capacity - 1)];
    bucket.push(i);
    if (bucket.length > 8 && capacity < 64) resize();
    if (i + 1 > Math.floor(capacity * 0.75)) resize();
  }
  return buckets.flat();
}

/** `UUID.nameUUIDFromBytes(bytes).toString()`: an MD5-based version 3 UUID. */
export function javaNameUuidFromBytes(bytes: Uint8Array): string {
  const md5 = createHash('md5').update(bytes).digest();
  md5[6] = (md5[6] & 0x0f) | 0x30;
  md5[8] = (md5[8] & 0x3f) | 0x80;
  const hex = md5.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
