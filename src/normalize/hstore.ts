/**
 * hstore text (`"a"=>"1", "b"=>NULL`) → Debezium's two shapes:
 * `hstore.handling.mode=json`: a JSON object string, `map`: a map of optional
 * strings. Debezium parses into a java.util.HashMap (pgjdbc HStoreConverter), so
 * the key order is the HashMap's, not Postgres': we reproduce it.
 */
import { javaHashMapOrder, javaStringHash } from './java-compat.ts';
import { quoteJson } from './json-text.ts';

export type HstoreEntries = [string, string | null][];

/** Parses hstore output text; keys and values are double-quoted with `\"` and `\\` escapes. */
export function parseHstore(text: string): HstoreEntries {
  const entries: HstoreEntries = [];
  let i = 0;
  const n = text.length;
  const quoted = (): string => {
    if (text.charCodeAt(i) !== 34) throw new Error(`malformed hstore: ${text.slice(0, 80)}`);
    let out = '';
    let start = ++i;
    while (i < n && text.charCodeAt(i) !== 34) {
      if (text.charCodeAt(i) === 92) {
        out += text.slice(start, i);
        start = ++i;
      }
      i++;
    }
    out += text.slice(start, i++);
    return out;
  };
  while (i < n) {
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 44)) i++;
    if (i >= n) break;
    const key = quoted();
    if (text.slice(i, i + 2) !== '=>') throw new Error(`malformed hstore: ${text.slice(0, 80)}`);
    i += 2;
    if (text.startsWith('NULL', i)) {
      entries.push([key, null]);
      i += 4;
    } else {
      entries.push([key, quoted()]);
    }
  }
  return javaOrder(entries);
}

/** Entries in the order a HashMap filled in Postgres' order iterates them. */
function javaOrder(entries: HstoreEntries): HstoreEntries {
  if (entries.length < 2) return entries;
  return javaHashMapOrder(entries.map(([k]) => javaStringHash(k))).map((i) => entries[i]);
}

/** `{"k":"v","n":null}`, as Debezium's Jackson generator writes it. */
export function hstoreJson(entries: HstoreEntries): string {
  let out = '{';
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    out += `${i === 0 ? '' : ','}${quoteJson(k)}:${v === null ? 'null' : quoteJson(v)}`;
  }
  return `${out}}`;
}

export function hstoreMap(entries: HstoreEntries): Map<string, string | null> {
  return new Map(entries);
}
