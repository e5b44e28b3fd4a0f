/**
 * Record-by-record comparison of two tools' Kafka records (JsonConverter text,
 * schemas on), as ./debezium-parity-support.ts reads them. The texts are compared
 * as they are, byte for byte, except for what differs from run to run: the
 * envelope's processing time (`ts_ms`, `ts_us`, `ts_ns` after `op`), and the
 * JVM identity strings Debezium writes for the sub-arrays of a multi-dimensional
 * array of strings (`[Ljava.lang.String;@1b6d3586`), which stand for null.
 * A difference is reported at its JSON path, with both raw texts.
 */

export interface KafkaText {
  key: string | null;
  value: string | null;
}

export interface Difference {
  /** `value.payload.after.a_time[0]`, or `record count`. */
  path: string;
  expected: string;
  actual: string;
}

const PROCESSING_TIME = /"ts_ms":-?\d+,"ts_us":-?\d+,"ts_ns":-?\d+\}\}$/;
const JVM_IDENTITY = /"\[L[\w.$]+;@[0-9a-f]+"/g;

/** The record's text with its run-to-run parts masked; `identities` counts the JVM identity strings replaced. */
export function canonical(text: string | null, counts?: { identities: number }): string | null {
  if (text === null) return null;
  return text.replace(PROCESSING_TIME, '"ts_ms":<ts>}}').replace(JVM_IDENTITY, () => {
    if (counts) counts.identities++;
    return 'null';
  });
}

/** Differences between `expected` (Debezium's records of one topic) and `actual` (slotline's), record by record. */
export function compareTopic(expected: KafkaText[], actual: KafkaText[], counts?: { identities: number }): Difference[] {
  const out: Difference[] = [];
  if (expected.length !== actual.length) out.push({ path: 'record count', expected: String(expected.length), actual: String(actual.length) });
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    for (const part of ['key', 'value'] as const) {
      const e = canonical(expected[i][part], counts);
      const a = canonical(actual[i][part]);
      if (e === a) continue;
      if (e === null || a === null) {
        out.push({ path: `#${i}.${part}`, expected: String(e), actual: String(a) });
        continue;
      }
      diffNodes(parseRaw(e), parseRaw(a), `#${i}.${part}`, out);
    }
  }
  return out;
}

// ─── a JSON reader that keeps each scalar's text as written ──────────────────

type RawNode = { kind: 'object'; entries: Map<string, RawNode>; order: string[] } | { kind: 'array'; items: RawNode[] } | { kind: 'raw'; text: string };

export function parseRaw(text: string): RawNode {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \n\r\t'.includes(text[i])) i++;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return text.slice(start, i);
  };
  const node = (): RawNode => {
    ws();
    if (text[i] === '{') {
      i++;
      const entries = new Map<string, RawNode>();
      const order: string[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', entries, order };
      }
      for (;;) {
        ws();
        const key = JSON.parse(string()) as string;
        ws();
        i++; // :
        entries.set(key, node());
        order.push(key);
        ws();
        if (text[i++] === '}') return { kind: 'object', entries, order };
      }
    }
    if (text[i] === '[') {
      i++;
      const items: RawNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(node());
        ws();
        if (text[i++] === ']') return { kind: 'array', items };
      }
    }
    if (text[i] === '"') return { kind: 'raw', text: string() };
    const start = i;
    while (i < text.length && !',}] \n\r\t'.includes(text[i])) i++;
    return { kind: 'raw', text: text.slice(start, i) };
  };
  return node();
}

function show(n: RawNode | undefined): string {
  if (n === undefined) return '(absent)';
  if (n.kind === 'raw') return n.text.length > 120 ? `${n.text.slice(0, 120)}…` : n.text;
  const text = n.kind === 'array' ? `[${n.items.map(show).join(',')}]` : `{${n.order.map((k) => `"${k}":${show(n.entries.get(k))}`).join(',')}}`;
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function diffNodes(e: RawNode, a: RawNode, path: string, out: Difference[]): void {
  if (e.kind === 'object' && a.kind === 'object') {
    // A struct schema's fields are an array of objects named by "field": compare them by name, then their order.
    for (const key of new Set([...e.order, ...a.order])) {
      const en = e.entries.get(key);
      const an = a.entries.get(key);
      if (en === undefined || an === undefined) out.push({ path: `${path}.${key}`, expected: show(en), actual: show(an) });
      else diffNodes(en, an, `${path}.${key}`, out);
    }
    if (e.order.join() !== a.order.join() && e.order.length === a.order.length) out.push({ path: `${path} (key order)`, expected: e.order.join(','), actual: a.order.join(',') });
    return;
  }
  if (e.kind === 'array' && a.kind === 'array') {
    const named = (items: RawNode[]): Map<string, RawNode> | null => {
      const m = new Map<string, RawNode>();
      for (const item of items) {
        const f = item.kind === 'object' ? item.entries.get('field') : undefined;
        if (f === undefined || f.kind !== 'raw') return null;
        m.set(JSON.parse(f.text) as string, item);
      }
      return m;
    };
    const en = named(e.items);
    const an = named(a.items);
    if (en && an) {
      for (const name of new Set([...en.keys(), ...an.keys()])) {
        const x = en.get(name);
        const y = an.get(name);
        if (x === undefined || y === undefined) out.push({ path: `${path}[field=${name}]`, expected: show(x), actual: show(y) });
        else diffNodes(x, y, `${path}[field=${name}]`, out);
      }
      if ([...en.keys()].join() !== [...an.keys()].join() && en.size === an.size) out.push({ path: `${path} (field order)`, expected: [...en.keys()].join(','), actual: [...an.keys()].join(',') });
      return;
    }
    if (e.items.length !== a.items.length) {
      out.push({ path, expected: show(e), actual: show(a) });
      return;
    }
    e.items.forEach((item, k) => diffNodes(item, a.items[k], `${path}[${k}]`, out));
    return;
  }
  if (e.kind === 'raw' && a.kind === 'raw' && e.text === a.text) return;
  out.push({ path, expected: show(e), actual: show(a) });
}
