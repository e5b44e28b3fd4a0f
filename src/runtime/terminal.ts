/**
 * stderr when it is a terminal: log lines scroll, and a block of live status
 * lines (snapshot progress bars) stays below them. Everything that writes to
 * the terminal goes through here, so a log line never lands in the middle of
 * a bar: the block is erased, the line written, the block drawn again.
 */
export interface Terminal {
  /** Writes one or more complete lines above the status block. */
  write(text: string): void;
  /** Replaces the status block (empty: remove it). */
  setStatus(lines: readonly string[]): void;
}

const ERASE_LINE = '\x1b[2K';
const up = (n: number): string => (n > 0 ? `\x1b[${n}A` : '');

export function createTerminal(out: { write(text: string): unknown }): Terminal {
  let status: readonly string[] = [];
  const erase = (): string => (status.length > 0 ? up(status.length) + `${ERASE_LINE}\n`.repeat(status.length) + up(status.length) : '');
  const draw = (): string => status.map((line) => `${ERASE_LINE}${line}\n`).join('');
  return {
    write(text) {
      out.write(erase() + text + draw());
    },
    setStatus(lines) {
      const before = erase();
      status = [...lines];
      out.write(before + draw());
    },
  };
}

let shared: Terminal | null = null;

/** The process's stderr as a Terminal, or null when stderr is not a TTY. */
export function stderrTerminal(): Terminal | null {
  if (!process.stderr.isTTY) return null;
  shared ??= createTerminal(process.stderr);
  return shared;
}
