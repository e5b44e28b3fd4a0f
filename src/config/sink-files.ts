/**
 * Resolves the main file's `sinks` setting to the list of sink files: each
 * entry is a file, or a directory whose `*.yaml` / `*.yml` files (not
 * recursive, in name order) are the sinks. Relative entries are relative to
 * the main file's directory.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigProblem } from './config-error.ts';
import type { Position } from './yaml-positions.ts';

export interface SinkFilesResult {
  /** Paths as the operator sees them (joined onto the main file's directory), in load order, without duplicates. */
  files: string[];
  problems: ConfigProblem[];
}

/**
 * @param at position of the `sinks` entry with this index (undefined: the single string form)
 */
export async function resolveSinkFiles(
  mainFile: string,
  spec: string | readonly string[],
  at: (index: number | undefined) => Position,
): Promise<SinkFilesResult> {
  const entries = typeof spec === 'string' ? [spec] : spec;
  const files: string[] = [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  const hint = `sink paths are relative to the main file's directory, ${path.resolve(path.dirname(mainFile))}`;
  const problem = (index: number | undefined, message: string, fix = hint) =>
    problems.push({ file: mainFile, ...at(index), path: index === undefined ? 'sinks' : `sinks[${index}]`, message, hint: fix });

  for (const [i, entry] of entries.entries()) {
    const index = typeof spec === 'string' ? undefined : i;
    const target = path.isAbsolute(entry) ? entry : path.join(path.dirname(mainFile), entry);
    let found: string[];
    try {
      const info = await stat(target);
      if (info.isDirectory()) {
        const names = (await readdir(target, { withFileTypes: true }))
          .filter((d) => !d.isDirectory() && /\.ya?ml$/.test(d.name))
          .map((d) => d.name)
          .sort();
        if (names.length === 0) {
          problem(index, `no sink files (*.yaml, *.yml) in directory ${target}`, 'put one YAML file per sink there (config/sinks/ has samples), or list the files');
          continue;
        }
        found = names.map((name) => path.join(target, name));
      } else {
        found = [target];
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problem(index, code === 'ENOENT' ? `no such file or directory: ${target}` : `cannot read ${target}: ${(err as Error).message}`);
      continue;
    }
    for (const file of found) {
      const key = path.resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      files.push(file);
    }
  }
  return { files, problems };
}
