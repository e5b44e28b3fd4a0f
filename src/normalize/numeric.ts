/**
 * numeric and money text → Debezium values, per `decimal.handling.mode`:
 * - precise: Connect `Decimal` (the unscaled integer as big-endian two's
 *   complement bytes, like BigInteger.toByteArray) for a fixed scale, or the
 *   `VariableScaleDecimal` struct `{scale, value}` for unconstrained numeric;
 * - double: a float64; string: the plain decimal text.
 * NaN/±Infinity exist only in double and string modes; in precise mode Debezium
 * fails the conversion and (with its default `warn` handling) emits null, and so do we.
 */

export type Decimal = { negative: boolean; int: string; frac: string };
export type NumericSpecial = 'NaN' | 'Infinity' | '-Infinity';

/** Splits PG numeric text (`-12.340`, `1e5` in defaults) into sign, integer and fraction digits. */
export function parseDecimal(text: string): Decimal | NumericSpecial {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  let s = text.trim();
  const negative = s.charCodeAt(0) === 45;
  if (negative || s.charCodeAt(0) === 43) s = s.slice(1);
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exp = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  if (!/^(\d+\.?\d*|\.\d+)$/.test(s) || !Number.isInteger(exp)) throw new Error(`not a decimal: ${text}`);
  const dot = s.indexOf('.');
  let int = dot < 0 ? s : s.slice(0, dot);
  let frac = dot < 0 ? '' : s.slice(dot + 1);
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    int += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    int = int.padStart(-exp, '0');
    frac = int.slice(int.length + exp) + frac;
    int = int.slice(0, int.length + exp);
  }
  return { negative, int: int.replace(/^0+(?=\d)/, '') || '0', frac };
}

/** The decimal's digits at exactly `scale`, like BigDecimal.setScale(scale) without rounding; throws if digits would be lost. */
export function unscaledDigits(d: Decimal, scale: number): string {
  if (scale >= 0) {
    if (d.frac.length > scale) {
      if (!/^0*$/.test(d.frac.slice(scale))) throw new Error(`rounding necessary to scale ${scale}`);
      return d.int + d.frac.slice(0, scale);
    }
    return d.int + d.frac.padEnd(scale, '0');
  }
  // numeric(p,-s) (PG 15+): the value is a multiple of 10^s.
  if (!/^0*$/.test(d.frac) || !d.int.endsWith('0'.repeat(-scale))) throw new Error(`rounding necessary to scale ${scale}`);
  return d.int.slice(0, d.int.length + scale) || '0';
}

/** The decimal with trailing fraction zeros removed, scale ≥ 0 (Debezium's stripTrailingZeros + setScale(0)). */
export function strippedScale(d: Decimal): { digits: string; scale: number } {
  let end = d.frac.length;
  while (end > 0 && d.frac.charCodeAt(end - 1) === 48) end--;
  return { digits: d.int + d.frac.slice(0, end), scale: end };
}

/** Minimal big-endian two's complement bytes of the integer `digits` (optionally negative). */
export function twosComplementBytes(negative: boolean, digits: string): Buffer {
  if (digits.length <= 14) {
    // |v| < 1e14 < 2^47: exact in a double even after adding 2^48.
    const v = negative ? -Number(digits) : Number(digits);
    let size = 1;
    let limit = 128;
    while (v >= limit || v < -limit) {
      size++;
      limit *= 256;
    }
    const buf = Buffer.allocUnsafe(size);
    let x = v < 0 ? v + limit * 2 : v;
    for (let i = size - 1; i >= 0; i--) {
      buf[i] = x % 256;
      x = Math.floor(x / 256);
    }
    return buf;
  }
  const magnitude = BigInt(digits);
  if (magnitude === 0n || !negative) return positiveBytes(magnitude);
  const ones = positiveBytes(magnitude - 1n);
  for (let i = 0; i < ones.length; i++) ones[i] = ~ones[i] & 0xff;
  return ones;
}

function positiveBytes(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (hex.charCodeAt(0) >= 56) hex = `00${hex}`; // high bit set: add a sign byte ('8'..'f')
  return Buffer.from(hex, 'hex');
}

/** Reads a Connect Decimal back: bytes + scale → plain decimal text. For sinks that want the number. */
export function decodeDecimal(bytes: Uint8Array, scale: number): string {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes.length > 0 && bytes[0] >= 128) v -= 1n << BigInt(bytes.length * 8);
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  digits = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** BigDecimal.toPlainString of the parsed decimal, keeping its scale. */
export function plainString(d: Decimal, digits = d.int + d.frac, scale = d.frac.length): string {
  let s = digits.replace(/^0+(?=\d)/, '');
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  } else if (scale < 0) {
    s += '0'.repeat(-scale);
  }
  const zero = /^[0.]*$/.test(s);
  return d.negative && !zero ? `-${s}` : s;
}

// ─── money ──────────────────────────────────────────────────────────────────

/** Money text (`$1,234.56`, `-$1.50`, `($1.50)` with lc_monetary=C) → decimal, as Debezium's PostgresMoney.parse. */
export function parseMoney(text: string): Decimal {
  const negative = text.charCodeAt(0) === 45 || text.charCodeAt(0) === 40;
  const digits = text.replace(/[^0-9.]/g, '');
  const d = parseDecimal(digits);
  if (typeof d === 'string') throw new Error(`not money: ${text}`);
  return { ...d, negative };
}

/** BigDecimal.setScale(scale, HALF_UP) on a parsed decimal. */
export function roundHalfUp(d: Decimal, scale: number): Decimal {
  if (d.frac.length <= scale) return { ...d, frac: d.frac.padEnd(scale, '0') };
  const keep = d.int + d.frac.slice(0, scale);
  const up = d.frac.charCodeAt(scale) >= 53;
  let digits = up ? (BigInt(keep) + 1n).toString() : keep;
  digits = digits.padStart(scale + 1, '0');
  return { negative: d.negative, int: digits.slice(0, digits.length - scale), frac: digits.slice(digits.length - scale) };
}
