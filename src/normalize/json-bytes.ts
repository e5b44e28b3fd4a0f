/**
 * JSON written straight as UTF-8 bytes, the way Jackson writes it (json-text.ts
 * has the same rules for strings): the Kafka sink's records are these bytes,
 * with no string built, flattened and encoded on the way (issue 11: building
 * the envelope as text was a quarter of the worker's CPU and much of its
 * garbage).
 *
 * A JsonOut is a buffer being filled. A record starts at begin() and is taken
 * with end(); when a record outgrows the buffer, the owner's `renew` gives a
 * larger one and the record's bytes so far move there, so writers only ever
 * ask for room.
 */

/** Replaces a full buffer: `kept` bytes before the current record stay with the old one; the new one has room for at least `need`. */
export type Renew = (full: Buffer, kept: number, need: number) => Buffer;

export class JsonOut {
  buf: Buffer;
  /** The next byte to write. */
  at = 0;
  /** Where the current record starts. */
  start = 0;
  private readonly renew: Renew;

  constructor(buf: Buffer, renew: Renew) {
    this.buf = buf;
    this.renew = renew;
  }

  begin(): void {
    this.start = this.at;
  }

  /** The current record's bytes (a view of the buffer, which is never written over while the owner keeps it). */
  end(): Buffer {
    const record = this.buf.subarray(this.start, this.at);
    this.start = this.at;
    return record;
  }

  /** Makes room for `n` more bytes of the current record. */
  room(n: number): void {
    if (this.at + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const written = this.at - this.start;
    const next = this.renew(this.buf, this.start, written + n);
    this.buf.copy(next, 0, this.start, this.at);
    this.buf = next;
    this.start = 0;
    this.at = written;
  }
}

/** A growing JsonOut of its own, for text callers: write, then text(). */
export function scratchOut(size = 4096): JsonOut {
  return new JsonOut(Buffer.allocUnsafe(size), (full, _kept, need) => Buffer.allocUnsafe(Math.max(full.length * 2, need)));
}

/** The bytes `write` produces, in a buffer of their own (for values computed once and copied many times). */
export function bytesOf(write: (out: JsonOut) => void): Uint8Array {
  const out = scratchOut(256);
  write(out);
  return Uint8Array.prototype.slice.call(out.buf, 0, out.at);
}

/** Copies fixed bytes (field names, punctuation, precomputed values). */
export function writeRaw(out: JsonOut, bytes: Uint8Array): void {
  const n = bytes.length;
  out.room(n);
  const buf = out.buf;
  let at = out.at;
  // A loop beats a native copy for the short runs that make up most of a record.
  if (n < 48) for (let i = 0; i < n; i++) buf[at++] = bytes[i];
  else {
    buf.set(bytes, at);
    at += n;
  }
  out.at = at;
}

/** Text known to be ASCII without anything JSON escapes: numbers, op codes. */
export function writeAscii(out: JsonOut, s: string): void {
  const n = s.length;
  out.room(n);
  const buf = out.buf;
  let at = out.at;
  for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
  out.at = at;
}

/** An integer as JSON, as Java prints a long (no exponent); a bigint past 2^53 goes through its text. */
export function writeInteger(out: JsonOut, v: number | bigint): void {
  if (typeof v === 'bigint') {
    if (v > MAX_SAFE || v < -MAX_SAFE) return writeAscii(out, String(v));
    v = Number(v);
  } else if (!Number.isSafeInteger(v)) return writeAscii(out, String(v));
  out.room(17);
  if (v < 0) {
    out.buf[out.at++] = 45;
    v = -v;
  }
  if (v < 1e9) return writeDigits(out, v, 0);
  // Two halves, each exact in a double: the high part, then the low nine digits zero-padded.
  const high = Math.floor(v / 1e9);
  writeDigits(out, high, 0);
  writeDigits(out, v - high * 1e9, 9);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The decimal digits of 0 <= v < 1e9, left-padded with zeros to `width`; room already made. */
function writeDigits(out: JsonOut, v: number, width: number): void {
  const buf = out.buf;
  let digits = 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
  if (digits < width) digits = width;
  let at = out.at + digits;
  out.at = at;
  for (let i = 0; i < digits; i++) {
    const q = (v / 10) | 0;
    buf[--at] = 48 + v - q * 10;
    v = q;
  }
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70];
/** Strings longer than this are checked once and encoded natively; shorter ones byte by byte. */
const SHORT = 64;

/** A JSON string literal: `"` and `\` escaped, controls as Jackson writes them, lone or paired surrogates as \uXXXX. */
export function writeString(out: JsonOut, s: string): void {
  const n = s.length;
  if (n > SHORT && !NEEDS_ESCAPE.test(s)) {
    out.room(n * 3 + 2);
    const buf = out.buf;
    buf[out.at++] = 34;
    out.at += buf.write(s, out.at, 'utf8');
    buf[out.at++] = 34;
    return;
  }
  // Worst case: every code unit escaped as \uXXXX.
  out.room(n * 6 + 2);
  const buf = out.buf;
  let at = out.at;
  buf[at++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 32 && c !== 34 && c !== 92) {
        buf[at++] = c;
        continue;
      }
      buf[at++] = 92;
      switch (c) {
        case 34: buf[at++] = 34; break;
        case 92: buf[at++] = 92; break;
        case 8: buf[at++] = 98; break;
        case 9: buf[at++] = 116; break;
        case 10: buf[at++] = 110; break;
        case 12: buf[at++] = 102; break;
        case 13: buf[at++] = 114; break;
        default: at = unicodeEscape(buf, at, c);
      }
    } else if (c < 0x800) {
      buf[at++] = 0xc0 | (c >> 6);
      buf[at++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      buf[at++] = 92;
      at = unicodeEscape(buf, at, c);
    } else {
      buf[at++] = 0xe0 | (c >> 12);
      buf[at++] = 0x80 | ((c >> 6) & 63);
      buf[at++] = 0x80 | (c & 63);
    }
  }
  buf[at++] = 34;
  out.at = at;
}

/** `uXXXX` (after the backslash), upper-case hex as Jackson writes it. */
function unicodeEscape(buf: Buffer, at: number, c: number): number {
  buf[at++] = 117;
  buf[at++] = HEX[c >> 12];
  buf[at++] = HEX[(c >> 8) & 15];
  buf[at++] = HEX[(c >> 4) & 15];
  buf[at++] = HEX[c & 15];
  return at;
}

const BASE64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));

/** Bytes as a quoted base64 string (JsonConverter's form for BYTES and Decimal). */
export function writeBase64(out: JsonOut, bytes: Uint8Array): void {
  const n = bytes.length;
  if (n > SHORT) {
    writeAscii(out, `"${Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('base64')}"`);
    return;
  }
  out.room(Math.ceil(n / 3) * 4 + 2);
  const buf = out.buf;
  let at = out.at;
  buf[at++] = 34;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    buf[at++] = BASE64[v >> 18];
    buf[at++] = BASE64[(v >> 12) & 63];
    buf[at++] = BASE64[(v >> 6) & 63];
    buf[at++] = BASE64[v & 63];
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = (bytes[i] << 16) | (two ? bytes[i + 1] << 8 : 0);
    buf[at++] = BASE64[v >> 18];
    buf[at++] = BASE64[(v >> 12) & 63];
    buf[at++] = two ? BASE64[(v >> 6) & 63] : 61;
    buf[at++] = 61;
  }
  buf[at++] = 34;
  out.at = at;
}

/** Constant JSON text (field names, punctuation) as the bytes writeRaw copies. */
export const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
