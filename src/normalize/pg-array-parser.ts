/**
 * Postgres array text output (`array_out`): `{1,2,NULL}`, `{"a b","c\"d"}`,
 * `{{1,2},{3,4}}`, `[0:1]={5,6}`. Elements come back as their own text form
 * (or null), ready for the element type's converter.
 */

export interface ParsedArray {
  /** Elements in row-major order; nested dimensions are flattened. */
  elements: (string | null)[];
  /** Number of dimensions (0 for `{}`). */
  dimensions: number;
}

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN = 123; // {
const CLOSE = 125; // }
const SPACE = 32;

/**
 * Parses `text` with element delimiter `delimiter` (`,` for every type but box).
 * Throws on malformed input: the server never sends it, so it means a bug.
 */
export function parsePgArray(text: string, delimiter = ','): ParsedArray {
  const delim = delimiter.charCodeAt(0);
  const elements: (string | null)[] = [];
  let i = 0;
  // Explicit bounds like "[0:1]=" or "[1:2][1:3]=" precede the braces when a lower bound is not 1.
  if (text.charCodeAt(0) === 91) {
    i = text.indexOf('=');
    if (i < 0) throw malformed(text);
    i++;
  }
  if (text.charCodeAt(i) !== OPEN) throw malformed(text);
  let depth = 0;
  let dimensions = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === OPEN) {
      depth++;
      if (depth > dimensions) dimensions = depth;
      i++;
    } else if (c === CLOSE) {
      depth--;
      i++;
      if (depth === 0) break;
    } else if (c === delim || c === SPACE) {
      i++;
    } else if (c === QUOTE) {
      let value = '';
      let start = ++i;
      for (;;) {
        if (i >= n) throw malformed(text);
        const q = text.charCodeAt(i);
        if (q === QUOTE) break;
        if (q === BACKSLASH) {
          value += text.slice(start, i);
          start = ++i; // keep the escaped character
        }
        i++;
      }
      elements.push(value + text.slice(start, i));
      i++;
    } else {
      const start = i;
      let value = '';
      let escaped = false;
      let chunk = i;
      while (i < n) {
        const u = text.charCodeAt(i);
        if (u === delim || u === CLOSE) break;
        if (u === BACKSLASH) {
          value += text.slice(chunk, i);
          escaped = true;
          chunk = ++i;
        }
        i++;
      }
      value += text.slice(chunk, i);
      const raw = value.trimEnd();
      elements.push(!escaped && raw.length === 4 && /^null$/i.test(raw) ? null : raw);
      if (i === start) throw malformed(text);
    }
  }
  if (depth !== 0) throw malformed(text);
  return { elements, dimensions: elements.length === 0 ? 0 : dimensions };
}

function malformed(text: string): Error {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return new Error(`malformed array text: ${shown}`);
}

/**
 * The number of elements in the first dimension of a multi-dimensional array's
 * text (`{{1,2},{3,4},{5,6}}` → 3): the sub-arrays at depth 1. Quoted elements
 * may hold braces, so quotes and backslashes are skipped over.
 */
export function outerLength(text: string): number {
  let i = text.charCodeAt(0) === 91 ? text.indexOf('=') + 1 : 0;
  let depth = 0;
  let count = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === OPEN) {
      if (depth === 1) count++;
      depth++;
    } else if (c === CLOSE) {
      depth--;
      if (depth === 0) break;
    }
  }
  return count;
}
