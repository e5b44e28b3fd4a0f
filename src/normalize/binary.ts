/**
 * bytea, bit/varbit and the `binary.handling.mode` encodings.
 */
import type { NormalizeOptions } from './options.ts';

export type BinaryMode = NormalizeOptions['binaryHandlingMode'];

/** bytea text with bytea_output=hex (`\x0102ff`) → bytes. */
export function decodeBytea(text: string): Buffer {
  if (text.charCodeAt(0) !== 92 || text.charCodeAt(1) !== 120) throw new Error('bytea is not in hex format (set bytea_output=hex)');
  return Buffer.from(text.slice(2), 'hex');
}

/** Bytes as `binary.handling.mode` wants them: raw bytes (base64 in JSON) or a string. */
export function encodeBinary(bytes: Buffer, mode: BinaryMode): Buffer | string {
  switch (mode) {
    case 'bytes':
      return bytes;
    case 'base64':
      return bytes.toString('base64');
    case 'base64-url-safe':
      // java.util.Base64.getUrlEncoder() keeps the '=' padding; Node's 'base64url' drops it.
      return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'hex':
      return bytes.toString('hex');
  }
}

/** Debezium `unavailable.value.placeholder` as bytes: `hex:` + hex digits, or the string's bytes. */
export function placeholderBytes(placeholder: string): Buffer {
  return placeholder.startsWith('hex:') ? Buffer.from(placeholder.slice(4), 'hex') : Buffer.from(placeholder, 'utf8');
}

/**
 * The placeholder as text, for string columns: its bytes read as UTF-8 (Java's
 * `new String(bytes)`), so a `hex:` placeholder is its bytes, not its spelling;
 * bytes that are not UTF-8 become U+FFFD, in Java as in Node.
 */
export function placeholderText(placeholder: string): string {
  return placeholder.startsWith('hex:') ? placeholderBytes(placeholder).toString('utf8') : placeholder;
}

/**
 * bit(n)/varbit text (`101`, most significant bit first) → Debezium's Bits
 * value: the bit string read as an integer, little-endian, in as few bytes as
 * its highest set bit needs (an all-zero string gives no bytes at all), as
 * PostgresValueConverter.convertBits does with a BitSet.
 */
export function bitsToBytes(text: string): Buffer {
  const n = text.length;
  let highest = -1;
  for (let i = 0; i < n; i++) {
    if (text.charCodeAt(i) === 49) {
      highest = n - 1 - i;
      break;
    }
  }
  const out = Buffer.alloc(highest < 0 ? 0 : (highest >> 3) + 1);
  for (let bit = 0; bit <= highest; bit++) {
    if (text.charCodeAt(n - 1 - bit) === 49) out[bit >> 3] |= 1 << (bit & 7);
  }
  return out;
}

/** bit(1)/varbit(1) and other single-bit columns are booleans in Debezium: any 1 bit is true. */
export function bitsToBoolean(text: string): boolean {
  return text.includes('1');
}
