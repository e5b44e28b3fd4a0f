/**
 * LSNs are 64-bit WAL positions. We keep them as bigint everywhere and print
 * them the way Postgres does (`X/Y`, upper-case hex, no padding).
 */
export type Lsn = bigint;

export const ZERO_LSN: Lsn = 0n;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const TWO_32 = 4294967296;
/** Below this an LSN is exact as a double: hi × 2^32 + lo needs no bigint arithmetic. */
const EXACT = 2n ** 53n;

/** `X/Y` in hex (surrounding space allowed), as Postgres prints it. */
export function parseLsn(text: string): Lsn {
  const exact = parseBare(text);
  if (exact !== null) return exact;
  const m = LSN_TEXT.exec(text.trim());
  if (!m) throw new Error(`not an LSN: "${text}" (expected X/Y in hex, like 0/16B3748)`);
  return (BigInt('0x' + m[1]) << 32n) | BigInt('0x' + m[2]);
}

/**
 * `X/Y` with nothing around it, read digit by digit: the replication client
 * hands every message's LSN over as text, and a regular expression, its
 * substrings and two BigInt parses per message were ~2 % of a Kafka drain's
 * CPU. null for anything else (parseLsn then decides).
 */
function parseBare(text: string): Lsn | null {
  const slash = text.indexOf('/');
  const end = text.length;
  if (slash < 1 || slash > 8 || end - slash < 2 || end - slash > 9) return null;
  const hi = hexNumber(text, 0, slash);
  const lo = hexNumber(text, slash + 1, end);
  if (hi < 0 || lo < 0) return null;
  return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** The hex digits text[from, to) as a number (at most 8 of them), or -1 when one is not a hex digit. */
function hexNumber(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

export function formatLsn(lsn: Lsn): string {
  let hi: number;
  let lo: number;
  if (lsn >= 0n && lsn < EXACT) {
    const n = Number(lsn);
    hi = Math.floor(n / TWO_32);
    lo = n - hi * TWO_32;
  } else {
    hi = Number(lsn >> 32n);
    lo = Number(lsn & 0xffffffffn);
  }
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}

export function minLsn(a: Lsn, b: Lsn): Lsn {
  return a < b ? a : b;
}
