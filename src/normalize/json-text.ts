/**
 * JSON string literals exactly as Jackson writes them (what Kafka Connect's
 * JsonConverter and Debezium's hstore→JSON use): `"` and `\` escaped, control
 * characters as \b \t \n \f \r or \u00XX with upper-case hex, a character
 * beyond the BMP as its two escaped UTF-16 surrogates (`😀` → `\uD83D\uDE00`:
 * Jackson's UTF-8 writer does not combine surrogates unless asked), everything
 * else (including other non-ASCII and U+007F) written as is. JSON.stringify
 * differs (lower-case hex, surrogate pairs as is), so it is not used.
 */

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEX = '0123456789ABCDEF';

export function quoteJson(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 32 && c !== 34 && c !== 92 && (c < 0xd800 || c > 0xdfff)) continue;
    out += s.slice(start, i);
    start = i + 1;
    switch (c) {
      case 34: out += '\\"'; break;
      case 92: out += '\\\\'; break;
      case 8: out += '\\b'; break;
      case 9: out += '\\t'; break;
      case 10: out += '\\n'; break;
      case 12: out += '\\f'; break;
      case 13: out += '\\r'; break;
      default: out += `\\u${HEX[c >> 12]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    }
  }
  return `${out}${s.slice(start)}"`;
}
