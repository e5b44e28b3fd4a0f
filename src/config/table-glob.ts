/**
 * Table globs of sink files are `schema.table` patterns where `*` matches any
 * run of characters and `?` one character (`public.*`, `*.orders`, `*.*`).
 * Names are case-sensitive, as stored in the catalog.
 *
 * Matching belongs to the router (src/route/router.ts, globToRegExp); this
 * only rejects what cannot be a table glob, so a typo fails at load time
 * instead of silently routing nothing.
 */
import { z } from 'zod';

const SEGMENT_CHAR = /^[\p{L}\p{N}_$*?-]$/u;

/** Why `glob` is not a table glob, or undefined when it is one. */
export function tableGlobProblem(glob: string): string | undefined {
  const parts = glob.split('.');
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    return `invalid table glob ${JSON.stringify(glob)}: expected "schema.table" (e.g. "public.*")`;
  }
  const bad = [...glob].find((ch) => ch !== '.' && !SEGMENT_CHAR.test(ch));
  if (bad !== undefined) {
    return `invalid table glob ${JSON.stringify(glob)}: character ${JSON.stringify(bad)} is not allowed (globs use * and ?)`;
  }
  return undefined;
}

export const tableGlobSchema = z.string().superRefine((glob, ctx) => {
  const message = tableGlobProblem(glob);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: glob });
});
