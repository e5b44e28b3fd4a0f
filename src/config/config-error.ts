/**
 * A wrong configuration is reported all at once: every problem of every file,
 * one line each, `file:line:column key.path: message`, so an operator fixes the
 * files in one pass instead of one restart per typo (DESIGN.md, invariant 6).
 */
import { OperatorError } from '../errors.ts';

export interface ConfigProblem {
  /** The file as the operator named it (the main file's path, joined with the `sinks` entries). */
  file: string;
  /** 1-based; 0 when the problem has no position (an unreadable file). */
  line: number;
  column: number;
  /** Dotted key path inside the file, `''` for the whole document (`source.tables[1]`). */
  path: string;
  message: string;
  /**
   * What to do, when the problem is not one to fix at its position in a file
   * (a file that is missing or unreadable).
   */
  hint?: string;
}

export class ConfigError extends OperatorError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'), { hint: hintFor(problems), permanent: true });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The problems' own hints when each has one (a missing file has no position to fix), else the general one. */
function hintFor(problems: ConfigProblem[]): string {
  const own = problems.map((p) => p.hint);
  if (own.every((h) => h !== undefined)) return [...new Set(own)].join('; ');
  return 'fix the configuration at the positions above and start again; docs/config.md lists every key';
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : `${p.file}:`;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where} ${p.message}`;
}

/** `['source', 'tables', 1]` → `source.tables[1]`; keys that are not plain words are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * Problems in file order: files in the order they were loaded (`fileOrder`),
 * then by position; problems at the same position keep their order.
 */
export function sortProblems(problems: ConfigProblem[], fileOrder: string[]): ConfigProblem[] {
  const rank = (file: string) => {
    const i = fileOrder.indexOf(file);
    return i === -1 ? fileOrder.length : i;
  };
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.file) - rank(b.p.file) || a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i)
    .map(({ p }) => p);
}
