/** slotline's version, from package.json (for --version, /status and the slotline_info metric). */
import { readFileSync } from 'node:fs';
import { packageFile } from './package-files.ts';

let cached: string | null = null;

export function version(): string {
  cached ??= JSON.parse(readFileSync(packageFile('package.json'), 'utf8')).version as string;
  return cached;
}
