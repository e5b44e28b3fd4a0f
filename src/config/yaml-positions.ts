/**
 * YAML parsing that remembers where every key and value came from, so that a
 * validation problem found on the plain JS value can be reported at its
 * line:column in the file.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import { formatPath } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';

export interface Position {
  line: number;
  column: number;
}

export type KeyPath = readonly PropertyKey[];

export interface YamlFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  /** Syntax errors (`doc.errors`, which stop validation) and duplicate keys (the last one wins, as in YAML 1.1 parsers). */
  problems: ConfigProblem[];
  /** 1-based position of a character offset in `text`. */
  positionAt(offset: number): Position;
}

/** Visits every node with its key path; `key` is the map key node the value hangs on, if any. */
export type YamlVisitor = (path: KeyPath, node: Node | null, key: Node | null) => void;

export function parseYaml(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  // Duplicate keys are found in the walk below, where the key path is known.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const positionAt = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: ConfigProblem[] = doc.errors.map((err) => ({
    file,
    ...positionAt(err.pos[0]),
    path: '',
    message: `YAML syntax error: ${err.message}`,
  }));
  walkYaml(doc, (path, node) => {
    if (!isMap(node)) return;
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const key = keyName(pair.key);
      const offset = rangeStart(pair.key as Node | null) ?? rangeStart(node) ?? 0;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, offset);
        continue;
      }
      problems.push({
        file,
        ...positionAt(offset),
        path: formatPath([...path, key]),
        message: `duplicate key (first defined at line ${positionAt(first).line})`,
      });
    }
  });
  return { file, text, doc, problems, positionAt };
}

export function walkYaml(doc: Document, visit: YamlVisitor): void {
  walk(doc.contents as Node | null, [], null, visit);
}

function walk(node: Node | null, path: KeyPath, key: Node | null, visit: YamlVisitor): void {
  visit(path, node, key);
  if (isMap(node)) {
    for (const pair of node.items) {
      walk(pair.value as Node | null, [...path, keyName(pair.key)], pair.key as Node | null, visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item as Node | null, [...path, i], null, visit));
  }
}

/** The key as it appears in the JS value (`toJS` turns scalar keys into strings). */
function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

export function rangeStart(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

/**
 * Positions of every key and value. `at` falls back to the nearest ancestor
 * that exists, so a missing key is reported where its parent mapping starts.
 */
export interface PositionIndex {
  at(path: KeyPath, of?: 'key' | 'value'): Position;
}

export function indexPositions(file: YamlFile): PositionIndex {
  const entries = new Map<string, { value?: Position; key?: Position }>();
  walkYaml(file.doc, (path, node, key) => {
    const valueStart = rangeStart(node);
    const keyStart = rangeStart(key);
    entries.set(pathKey(path), {
      value: valueStart !== undefined ? file.positionAt(valueStart) : undefined,
      key: keyStart !== undefined ? file.positionAt(keyStart) : undefined,
    });
  });
  return {
    at(path, of = 'value') {
      for (let n = path.length; n >= 0; n--) {
        const entry = entries.get(pathKey(path.slice(0, n)));
        if (!entry) continue;
        const exact = n === path.length;
        const pos = exact && of === 'key' ? (entry.key ?? entry.value) : (entry.value ?? entry.key);
        if (pos) return pos;
      }
      return { line: 1, column: 1 };
    },
  };
}

export function pathKey(path: KeyPath): string {
  return JSON.stringify(path.map((k) => (typeof k === 'number' ? k : String(k))));
}
