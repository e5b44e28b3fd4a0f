/**
 * Files shipped beside the code (package.json, config/). They are found from the
 * package root, the nearest folder above this module that holds a package.json,
 * because the same module runs from src/ (the TypeScript sources) and from
 * dist/src/ (the compiled JavaScript), one folder deeper.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. `packageFile('config', 'postgres-init.sql')`. */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${start} or above it`);
  }
}
