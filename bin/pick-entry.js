// Which code the `slotline` command runs, and whether this Node can run it.
// Plain JavaScript using only old Node APIs, so that an old Node still gets
// here and can say in one line what it needs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const MIN_NODE_MAJOR = 20;
const HOW_TO_GET_NODE = 'install Node 24 LTS from https://nodejs.org/en/download (or run `nvm install 24`)';

/**
 * One line saying which Node is needed, or null when `version` (e.g. "v20.11.1") will do.
 * @param {string} version
 * @returns {string | null}
 */
export function nodeTooOld(version) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return null;
  return `slotline needs Node.js ${MIN_NODE_MAJOR} or newer, and this is Node ${version}: ${HOW_TO_GET_NODE}`;
}

/**
 * The module whose `main(argv)` runs the command, in the package at `root`:
 * - the compiled dist/src/cli/main.js, when no TypeScript source is newer than
 *   its compiled file (an installed package or image has no sources: always dist);
 * - otherwise, in a checkout edited since the last build, the sources themselves
 *   when this Node strips types (`canStripTypes`), so nothing stale ever runs;
 * - otherwise a one-line problem naming the fix.
 * @param {string} root
 * @param {{ canStripTypes: boolean, nodeVersion: string }} node
 * @returns {{ entry: string, problem?: undefined } | { problem: string, entry?: undefined }}
 */
export function pickEntry(root, { canStripTypes, nodeVersion }) {
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  const source = join(root, 'src', 'cli', 'main.ts');
  if (!existsSync(source)) return existsSync(compiled) ? { entry: compiled } : { problem: `slotline: ${compiled} is missing; reinstall the package` };
  const stale = existsSync(compiled) ? newerSource(root) : 'dist/ does not exist';
  if (stale === null) return { entry: compiled };
  if (canStripTypes) return { entry: source };
  return {
    problem:
      `slotline: the compiled code is out of date (${stale}) and Node ${nodeVersion} cannot run the TypeScript sources: ` +
      `run \`npm run build\` in ${root} (\`npm ci\` builds too), or use Node 22.18 or newer`,
  };
}

/**
 * Why dist/ is stale ("src/x.ts is newer than dist/src/x.js"), or null when every compiled file is as new as its source.
 * @param {string} root
 * @returns {string | null}
 */
function newerSource(root) {
  for (const top of ['src', 'connectors']) {
    for (const js of jsFiles(join(root, 'dist', top))) {
      const ts = join(root, relative(join(root, 'dist'), js)).replace(/\.js$/, '.ts');
      // A source removed since the build: whatever imported it changed too.
      if (existsSync(ts) && statSync(ts).mtimeMs > statSync(js).mtimeMs) return `${relative(root, ts)} is newer than ${relative(root, js)}`;
    }
  }
  return null;
}

/**
 * @param {string} dir
 * @returns {string[]}
 */
function jsFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}
