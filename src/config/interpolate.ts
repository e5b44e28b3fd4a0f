/**
 * `${VAR}` interpolation in YAML scalar values, done on the parsed document
 * before validation so that every reference keeps its file position.
 *
 * Syntax (the docker-compose subset):
 *   ${VAR}            the variable; an error names it when it is not set
 *   ${VAR:-default}   the default when VAR is unset or empty
 *   $${               a literal `${`
 * Only values are interpolated, never keys. The result is always a string;
 * where the schema wants a number or a boolean, the validator converts it
 * (see zod-problems.ts), so `port: ${PGPORT}` works and `password: ${PW}`
 * stays a string even when PW is all digits.
 */
import { isScalar } from 'yaml';
import type { Node } from 'yaml';
import { formatPath } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';
import { pathKey, rangeStart, walkYaml } from './yaml-positions.ts';
import type { YamlFile } from './yaml-positions.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolationProblem {
  /** Index of the reference among the `${` references of the string (0-based). */
  reference: number;
  message: string;
}

export interface InterpolatedString {
  value: string;
  /** True when the string held at least one `${...}` reference. */
  interpolated: boolean;
  problems: InterpolationProblem[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolateString(raw: string, env: Env): InterpolatedString {
  let value = '';
  let reference = 0;
  let interpolated = false;
  const problems: InterpolationProblem[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw.startsWith('$${', i)) {
      value += '${';
      i += 3;
      continue;
    }
    if (!raw.startsWith('${', i)) {
      value += raw[i];
      i += 1;
      continue;
    }
    interpolated = true;
    const end = raw.indexOf('}', i + 2);
    if (end === -1) {
      problems.push({ reference, message: 'unterminated "${" (write "$${" for a literal "${")' });
      value += raw.slice(i);
      break;
    }
    const body = raw.slice(i + 2, end);
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    const fallback = sep === -1 ? undefined : body.slice(sep + 2);
    const current = env[name];
    if (!NAME.test(name)) {
      problems.push({ reference, message: `invalid variable reference "\${${body}}" (write "$\${" for a literal "\${")` });
    } else if (fallback !== undefined && (current === undefined || current === '')) {
      value += fallback;
    } else if (current === undefined) {
      problems.push({ reference, message: `environment variable ${name} is not set (use \${${name}:-default} for a default)` });
    } else {
      value += current;
    }
    reference += 1;
    i = end + 1;
  }
  return { value, interpolated, problems };
}

export interface DocumentInterpolation {
  problems: ConfigProblem[];
  /** pathKey()s of values that held a reference: only these may be converted to numbers or booleans. */
  interpolated: Set<string>;
  /** pathKey()s of values with a broken reference: validation problems there would only repeat it. */
  broken: Set<string>;
}

/** Replaces references in every string scalar of the document, in place. */
export function interpolateDocument(file: YamlFile, env: Env): DocumentInterpolation {
  const result: DocumentInterpolation = { problems: [], interpolated: new Set(), broken: new Set() };
  walkYaml(file.doc, (path, node) => {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
    const { value, interpolated, problems } = interpolateString(node.value, env);
    if (interpolated) result.interpolated.add(pathKey(path));
    if (problems.length > 0) result.broken.add(pathKey(path));
    for (const problem of problems) {
      result.problems.push({
        file: file.file,
        ...file.positionAt(referenceOffset(file.text, node, problem.reference)),
        path: formatPath(path),
        message: problem.message,
      });
    }
    if (problems.length === 0) node.value = value;
  });
  return result;
}

/**
 * The file offset of the n-th reference of a scalar: the n-th `${` (not `$${`)
 * in the scalar's source text. Quoting and folding change the text around the
 * references, never their order, so counting finds the right one.
 */
function referenceOffset(text: string, node: Node, reference: number): number {
  const start = rangeStart(node) ?? 0;
  const source = text.slice(start, node.range?.[1] ?? text.length);
  let seen = 0;
  for (let i = 0; i < source.length - 1; i++) {
    if (source.startsWith('$${', i)) {
      i += 2;
      continue;
    }
    if (source.startsWith('${', i)) {
      if (seen === reference) return start + i;
      seen += 1;
    }
  }
  return start;
}
