/**
 * README.md read as a new user reads it: a section by its heading, its code
 * blocks (indented or fenced), and shell lines as steps. The walkthrough test
 * runs what it finds here, so an edit of the README changes what is tested.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './support.ts';

export function readme(): string {
  return readFileSync(join(REPO, 'README.md'), 'utf8');
}

/** The text under `## <title>` up to the next `## ` heading; throws if there is no such section. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l === `## ${title}`);
  if (start < 0) throw new Error(`README.md has no section "## ${title}"`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Indented code blocks (four spaces), each dedented; fenced blocks are not included. */
export function indentedBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] | null = null;
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^ {0,3}```/.test(line)) fenced = !fenced;
    if (!fenced && line.startsWith('    ')) {
      (current ??= []).push(line.slice(4));
    } else if (current && line.trim() !== '') {
      blocks.push(current.join('\n').trimEnd());
      current = null;
    }
  }
  if (current) blocks.push(current.join('\n').trimEnd());
  return blocks;
}

/** Fenced blocks of one language (```sql), each dedented by its fence's indent. */
export function fencedBlocks(text: string, lang: string): string[] {
  const fence = new RegExp(`^( *)\`\`\`${lang}\\n([\\s\\S]*?)^\\1\`\`\`$`, 'gm');
  return [...text.matchAll(fence)].map(([, indent, body]) => body.split('\n').map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n').trimEnd());
}

/** Inline code spans that start with `prefix`, e.g. `ALTER SYSTEM`. */
export function inlineCode(text: string, prefix: string): string[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]).filter((code) => code.startsWith(prefix));
}

export type ShellStep = { kind: 'export'; name: string; value: string } | { kind: 'command'; argv: string[] };

/**
 * The lines of a shell block: `export NAME=value`, or a command split on spaces,
 * a trailing `# comment` dropped. Quoting, pipes and the like are refused, so a
 * README that starts using them fails here instead of being run half-understood.
 */
export function shellSteps(block: string): ShellStep[] {
  return block.split('\n').filter((l) => l.trim() !== '').map((raw) => {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (/["'`$|&;<>\\]/.test(line)) throw new Error(`README shell line not understood by the walkthrough: ${raw}`);
    const assignment = /^export ([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(line);
    if (assignment) return { kind: 'export', name: assignment[1], value: assignment[2] };
    return { kind: 'command', argv: line.split(/\s+/) };
  });
}
