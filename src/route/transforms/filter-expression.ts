/**
 * The `filter` transform's conditions: a tiny expression language, parsed by
 * hand (never eval or Function), over an event's `op`, `schema`, `table`,
 * `before.<column>` and `after.<column>`:
 *
 *   after.status == 'paid' and op != 'd'
 *   op in ['c', 'r'] or (before.qty > 10 and not after.archived)
 *
 * Literals: 'text' or "text" (backslash escapes the quote), numbers, true,
 * false, null, [lists]. Operators: == != < <= > >= in, and, or, not,
 * parentheses. A bare reference is true when its value is true (a boolean
 * column). Comparisons: numbers (int64 too) numerically, a text column with a
 * number by its numeric value, text by code units; an ordering with null is false.
 */

export type Reference = { kind: 'ref'; root: 'op' | 'schema' | 'table' | 'before' | 'after'; column?: string; at: number };
type Literal = { kind: 'literal'; value: unknown };
type List = { kind: 'list'; items: Array<Reference | Literal> };
type Operand = Reference | Literal | List;
export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; operand: Condition }
  | { kind: 'compare'; operator: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'; left: Operand; right: Operand }
  | { kind: 'truthy'; operand: Operand };

/** A condition that cannot be parsed: `at` is the 0-based character offset. */
export class ExpressionError extends Error {
  readonly at: number;
  constructor(message: string, at: number) {
    super(`${message} at character ${at + 1}`);
    this.at = at;
  }
}

type Token = { kind: 'word' | 'string' | 'number' | 'symbol'; text: string; value?: unknown; at: number };

const TOKEN = /\s*(?:(?<word>[A-Za-z_][\w$]*)|(?<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?<symbol>==|!=|<=|>=|[<>()[\].,]))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (m === null) {
      const bad = at + (text.slice(at).length - text.slice(at).trimStart().length);
      throw new ExpressionError(`unexpected ${JSON.stringify(text[bad])}`, bad);
    }
    const start = at + m[0].length - m[0].trimStart().length;
    const g = m.groups!;
    if (g.word !== undefined) tokens.push({ kind: 'word', text: g.word, at: start });
    else if (g.number !== undefined) tokens.push({ kind: 'number', text: g.number, value: Number(g.number), at: start });
    else if (g.string !== undefined) tokens.push({ kind: 'string', text: g.string, value: g.string.slice(1, -1).replace(/\\(.)/g, '$1'), at: start });
    else tokens.push({ kind: 'symbol', text: g.symbol!, at: start });
    at = TOKEN.lastIndex;
  }
  return tokens;
}


export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const end = text.length;
  const expect = (what: string): never => {
    const t = peek();
    throw new ExpressionError(t ? `unexpected ${JSON.stringify(t.text)} (expected ${what})` : `unexpected end (expected ${what})`, t?.at ?? end);
  };
  const isWord = (word: string): boolean => peek()?.kind === 'word' && peek()!.text === word;
  const isSymbol = (symbol: string): boolean => peek()?.kind === 'symbol' && peek()!.text === symbol;

  const or = (): Condition => {
    let left = and();
    while (isWord('or')) {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Condition => {
    let left = not();
    while (isWord('and')) {
      i++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): Condition => {
    if (isWord('not')) {
      i++;
      return { kind: 'not', operand: not() };
    }
    if (isSymbol('(')) {
      i++;
      const inner = or();
      if (!isSymbol(')')) expect('")"');
      i++;
      return inner;
    }
    return comparison();
  };
  const comparison = (): Condition => {
    const left = operand();
    const t = peek();
    const operator = t?.kind === 'symbol' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text) ? t.text : t?.kind === 'word' && t.text === 'in' ? 'in' : null;
    if (operator === null) return { kind: 'truthy', operand: left };
    i++;
    const right = operand();
    if (operator === 'in' && right.kind !== 'list') throw new ExpressionError('"in" wants a [list]', t!.at);
    return { kind: 'compare', operator: operator as 'in', left, right };
  };
  const operand = (): Operand => {
    const t = peek();
    if (t === undefined) return expect('a value');
    if (t.kind === 'string' || t.kind === 'number') {
      i++;
      return { kind: 'literal', value: t.value };
    }
    if (t.kind === 'symbol' && t.text === '[') {
      i++;
      const items: Array<Reference | Literal> = [];
      while (!isSymbol(']')) {
        const item = operand();
        if (item.kind === 'list') throw new ExpressionError('lists do not nest', t.at);
        items.push(item);
        if (isSymbol(',')) i++;
        else if (!isSymbol(']')) expect('"," or "]"');
      }
      i++;
      return { kind: 'list', items };
    }
    if (t.kind !== 'word') return expect('a value');
    i++;
    if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true' };
    if (t.text === 'null') return { kind: 'literal', value: null };
    if (t.text === 'op' || t.text === 'schema' || t.text === 'table') return { kind: 'ref', root: t.text, at: t.at };
    if (t.text === 'before' || t.text === 'after') {
      if (!isSymbol('.')) expect(`"." and a column after "${t.text}"`);
      i++;
      const column = peek();
      if (column === undefined || column.kind !== 'word') return expect('a column name');
      i++;
      return { kind: 'ref', root: t.text, column: column.text, at: t.at };
    }
    throw new ExpressionError(`unknown name ${JSON.stringify(t.text)} (expected op, schema, table, before.<column>, after.<column> or a literal)`, t.at);
  };

  const condition = or();
  if (i < tokens.length) expect('"and", "or" or the end');
  return condition;
}

/** The before./after. columns a condition reads. */
export function referencedColumns(condition: Condition): Array<{ root: 'before' | 'after'; column: string }> {
  const out: Array<{ root: 'before' | 'after'; column: string }> = [];
  const visit = (node: Condition | Operand): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        visit(node.left);
        visit(node.right);
        return;
      case 'not':
        visit(node.operand);
        return;
      case 'compare':
        visit(node.left);
        visit(node.right);
        return;
      case 'truthy':
        visit(node.operand);
        return;
      case 'list':
        node.items.forEach(visit);
        return;
      case 'ref':
        if ((node.root === 'before' || node.root === 'after') && !out.some((c) => c.root === node.root && c.column === node.column)) out.push({ root: node.root, column: node.column! });
        return;
      case 'literal':
        return;
    }
  };
  visit(condition);
  return out;
}

export interface ConditionInput {
  op: string;
  schema: string;
  table: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export function evaluate(condition: Condition, input: ConditionInput): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluate(condition.left, input) && evaluate(condition.right, input);
    case 'or':
      return evaluate(condition.left, input) || evaluate(condition.right, input);
    case 'not':
      return !evaluate(condition.operand, input);
    case 'truthy':
      return valueOf(condition.operand, input) === true;
    case 'compare': {
      const left = valueOf(condition.left, input);
      if (condition.operator === 'in') return (valueOf(condition.right, input) as unknown[]).some((v) => equal(left, v));
      const right = valueOf(condition.right, input);
      if (condition.operator === '==') return equal(left, right);
      if (condition.operator === '!=') return !equal(left, right);
      const order = compare(left, right);
      if (order === null) return false;
      switch (condition.operator) {
        case '<': return order < 0;
        case '<=': return order <= 0;
        case '>': return order > 0;
        default: return order >= 0;
      }
    }
  }
}

function valueOf(operand: Operand, input: ConditionInput): unknown {
  switch (operand.kind) {
    case 'literal':
      return operand.value;
    case 'list':
      return operand.items.map((item) => valueOf(item, input));
    case 'ref':
      if (operand.root === 'op' || operand.root === 'schema' || operand.root === 'table') return input[operand.root];
      return input[operand.root]?.[operand.column!] ?? null;
  }
}

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return null;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === typeof b && typeof a !== 'object') return a === b;
  const x = numeric(a);
  const y = numeric(b);
  return x !== null && y !== null && x === y;
}

function compare(a: unknown, b: unknown): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = numeric(a);
  const y = numeric(b);
  return x === null || y === null ? null : x - y;
}
