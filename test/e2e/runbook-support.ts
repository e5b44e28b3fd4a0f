/**
 * The drills of docs/runbook.md, read from the page itself so that the docs
 * cannot drift from what the tests run: a drill's section (its `## Drill (x)`
 * heading up to the next heading of that level or above) gives
 * - its commands: the lines of its ```sh blocks that start with `slotline `,
 *   in order (a trailing `\` joins the next line);
 * - its files: each ```yaml block whose first line is `# /etc/slotline/<path>`.
 *
 * A test writes the files next to its own config (the directory that stands
 * for /etc/slotline), with the docs' service addresses replaced by the
 * harness's servers, and runs the commands with the same substitution.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO, runSlotline } from './support.ts';
import type { CommandResult } from '../harness/child-process.ts';

const ETC = '/etc/slotline/';

export interface RunbookDrill {
  /** Each command as its words, `slotline` first. */
  commands: string[][];
  /** Path under /etc/slotline/ → the file's text (the path comment kept). */
  files: Map<string, string>;
}

/** The section of docs/runbook.md whose heading starts with `## Drill (<letter>)`. */
export async function runbookDrill(letter: string): Promise<RunbookDrill> {
  const page = await readFile(join(REPO, 'docs', 'runbook.md'), 'utf8');
  const lines = page.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## Drill (${letter})`));
  if (start < 0) throw new Error(`docs/runbook.md has no "## Drill (${letter})" section`);
  const end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
  const section = lines.slice(start + 1, end < 0 ? undefined : end);
  const drill: RunbookDrill = { commands: [], files: new Map() };
  for (let i = 0; i < section.length; i++) {
    const fence = /^\s*```(\w*)\s*$/.exec(section[i]);
    if (!fence) continue;
    const indent = section[i].indexOf('`');
    const body: string[] = [];
    for (i++; i < section.length && section[i].trim() !== '```'; i++) body.push(section[i].slice(indent));
    if (fence[1] === 'sh') drill.commands.push(...commandsOf(body));
    const path = /^# \/etc\/slotline\/(\S+)$/.exec(body[0] ?? '');
    if (fence[1] === 'yaml' && path) drill.files.set(path[1], `${body.join('\n')}\n`);
  }
  return drill;
}

function commandsOf(body: string[]): string[][] {
  const joined = body.join('\n').replace(/\\\n\s*/g, ' ');
  return joined.split('\n').filter((l) => l.startsWith('slotline ')).map((l) => l.trim().split(/\s+/));
}

/** The docs' addresses (compose service names) and what stands for them in a test. */
export type Addresses = Record<string, string>;

/** Writes the drill's files under `dir` (for /etc/slotline/), addresses replaced; returns their paths. */
export async function writeRunbookFiles(drill: RunbookDrill, dir: string, addresses: Addresses): Promise<string[]> {
  const paths: string[] = [];
  for (const [path, text] of drill.files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, replaceAll(text, addresses));
    paths.push(target);
  }
  return paths;
}

/** Runs the drill's `index`-th command with /etc/slotline/ as `dir`. */
export function runRunbookCommand(drill: RunbookDrill, index: number, dir: string): Promise<CommandResult> {
  const words = drill.commands[index];
  if (!words) throw new Error(`the drill has ${drill.commands.length} commands, not ${index + 1}`);
  return runSlotline(words.slice(1).map((w) => w.replaceAll(ETC, `${dir}/`)), { timeoutMs: 300_000 });
}

function replaceAll(text: string, addresses: Addresses): string {
  return Object.entries(addresses).reduce((t, [from, to]) => t.replaceAll(from, to), text);
}
