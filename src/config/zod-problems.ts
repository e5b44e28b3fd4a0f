/**
 * Validation of one file's value with a zod schema, reported as positioned
 * problems in the operator's words (`expected integer, got string "abc"`)
 * rather than zod's.
 */
import { z } from 'zod';
import { formatPath } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';
import { pathKey } from './yaml-positions.ts';
import type { KeyPath, PositionIndex } from './yaml-positions.ts';

export interface ValidationContext {
  file: string;
  positions: PositionIndex;
  /** pathKey()s of interpolated values: a string there may become a number or a boolean. */
  interpolated: ReadonlySet<string>;
  /** pathKey()s of values with an already reported interpolation problem. */
  broken: ReadonlySet<string>;
}

export type Validation<T> = { ok: true; data: T } | { ok: false; problems: ConfigProblem[] };

export function validateValue<S extends z.ZodType>(schema: S, value: unknown, ctx: ValidationContext): Validation<z.output<S>> {
  let issues: z.core.$ZodIssue[];
  // Ends: each round turns at least one interpolated string into a number or boolean, which no later round converts again.
  for (;;) {
    const result = schema.safeParse(value, { reportInput: true, error: issueMessage });
    if (result.success) return { ok: true, data: result.data };
    issues = result.error.issues;
    let converted = false;
    for (const issue of issues) {
      if (!ctx.interpolated.has(pathKey(issue.path))) continue;
      const next = convertInterpolated(issue);
      if (next === undefined) continue;
      value = setAt(value, issue.path, next);
      converted = true;
    }
    if (!converted) break;
  }
  const problems = issues
    .filter((issue) => !hasBrokenPrefix(issue.path, ctx.broken))
    .flatMap((issue) => toProblems(issue, ctx));
  return { ok: false, problems };
}

function hasBrokenPrefix(path: KeyPath, broken: ReadonlySet<string>): boolean {
  for (let n = path.length; n >= 0; n--) if (broken.has(pathKey(path.slice(0, n)))) return true;
  return false;
}

/** The number or boolean an interpolated string stands for, where the schema wants one. */
function convertInterpolated(issue: z.core.$ZodIssue): number | boolean | undefined {
  const input = (issue as { input?: unknown }).input;
  if (typeof input !== 'string') return undefined;
  const wanted =
    issue.code === 'invalid_type'
      ? [issue.expected as string]
      : issue.code === 'invalid_union'
        ? issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => (i as { expected: string }).expected))
        : [];
  if ((wanted.includes('number') || wanted.includes('int')) && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(input)) {
    return Number(input);
  }
  if (wanted.includes('boolean') && /^\s*(true|false)\s*$/i.test(input)) return input.trim().toLowerCase() === 'true';
  return undefined;
}

function setAt(root: unknown, path: KeyPath, next: unknown): unknown {
  if (path.length === 0) return next;
  let node = root as Record<PropertyKey, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<PropertyKey, unknown>;
  node[path[path.length - 1]] = next;
  return root;
}

function toProblems(issue: z.core.$ZodIssue, ctx: ValidationContext): ConfigProblem[] {
  if (issue.code === 'invalid_union') {
    // `ssl: {ca: 1}` fails both `boolean` and the mapping; only the mapping's complaint helps.
    const fitting = issue.errors.filter((branch) => !isRootTypeMismatch(branch));
    if (fitting.length === 1) {
      return fitting[0].flatMap((inner) => toProblems({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, ctx));
    }
  }
  if (issue.code === 'unrecognized_keys') {
    const known = issue.message.split(',').filter((k) => k !== '');
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { file: ctx.file, ...ctx.positions.at(path, 'key'), path: formatPath(path), message: unknownKeyMessage(key, known) };
    });
  }
  return [{ file: ctx.file, ...ctx.positions.at(issue.path), path: formatPath(issue.path), message: issue.message }];
}

function isRootTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.length === 1 && branch[0].code === 'invalid_type' && branch[0].path.length === 0;
}

function unknownKeyMessage(key: string, known: string[]): string {
  const close = closeKeys(key, known);
  if (close.length > 0) return `unknown key (did you mean ${close.map((k) => `"${k}"`).join(' or ')}?)`;
  return known.length > 0 ? `unknown key; known keys: ${known.join(', ')}` : 'unknown key';
}

/**
 * The known keys a typo may have meant: at most one edit per four characters
 * of the key (at least one), counting a swap of two neighbours as one edit
 * (`outptu` → `output`), as typing errors are.
 */
export function closeKeys(key: string, known: readonly string[]): string[] {
  return known.filter((k) => typoDistance(k, key) <= Math.max(1, Math.floor(k.length / 4)));
}

/** Optimal string alignment distance: insertions, deletions, substitutions and transpositions of adjacent characters. */
export function typoDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Parse-level messages; a message a schema sets itself takes precedence.
 * For unrecognized keys the message carries the known keys (comma-joined) to
 * toProblems, which writes one line per unknown key.
 */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return 'required';
      // z.int() reports "number" for a non-number; its format says it wants an integer.
      const format = (issue.inst as { _zod?: { def?: { format?: string } } } | undefined)?._zod?.def?.format ?? '';
      const expected = issue.expected === 'number' && /int/.test(format) ? 'int' : String(issue.expected);
      return `expected ${typeName(expected)}, got ${describeValue(input)}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}, got ${describeValue(input)}`
        : `expected one of ${issue.values.map((v) => String(v)).join(', ')}; got ${describeValue(input)}`;
    case 'too_small':
      return sizeMessage(issue.origin, Number(issue.minimum), issue.inclusive !== false, 'small');
    case 'too_big':
      return sizeMessage(issue.origin, Number(issue.maximum), issue.inclusive !== false, 'big');
    case 'invalid_union': {
      if (input === undefined) return 'required';
      const types = issue.errors.flatMap((branch) => (isRootTypeMismatch(branch) ? [typeName(String((branch[0] as { expected: string }).expected))] : []));
      if ('discriminator' in issue) return undefined;
      return types.length === issue.errors.length ? `expected ${types.join(' or ')}, got ${describeValue(input)}` : undefined;
    }
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
      return Object.keys(shape ?? {}).join(',');
    }
    default:
      return undefined;
  }
}

function sizeMessage(origin: string, limit: number, inclusive: boolean, side: 'small' | 'big'): string {
  const op = side === 'small' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  if (origin === 'array' || origin === 'set') {
    if (side === 'small' && limit === 1) return 'must not be empty';
    return side === 'small' ? `needs at least ${limit} items` : `allows at most ${limit} items`;
  }
  if (origin === 'string') {
    if (side === 'small' && limit === 1) return 'must not be empty';
    return side === 'small' ? `needs at least ${limit} characters` : `allows at most ${limit} characters`;
  }
  return `must be ${op} ${limit}`;
}

function typeName(expected: string): string {
  return { int: 'integer', object: 'a mapping', array: 'a list', record: 'a mapping' }[expected] ?? expected;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return String(value);
}
