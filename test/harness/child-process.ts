/**
 * Child processes run by tests (the `slotline` command, a worker to SIGKILL):
 * their exit code or signal and their stderr are kept, and attached to the
 * failure of the test that ran them, so a red run says why the child failed
 * without a rerun.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { onTestFailed } from 'vitest';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CommandResult extends ChildExit {
  stdout: string;
  stderr: string;
}

/** The part of a child's failure report that fits in a test's error. */
const STDERR_LINES = 40;
const STDOUT_LINES = 10;

/** "`what` (pid N) exited with code 1" (or signal, or still running), then the tails of its stderr and stdout. */
export function describeChild(what: string, pid: number | undefined, exit: ChildExit | null, stdout: string, stderr: string): string {
  const status = exit === null ? 'is still running' : exit.signal ? `was ended by ${exit.signal}` : `exited with code ${exit.code}`;
  const tail = (text: string, lines: number) => text.trimEnd().split('\n').slice(-lines).join('\n');
  return [
    `${what} (pid ${pid ?? '?'}) ${status}`,
    `stderr (last ${STDERR_LINES} lines):`,
    stderr.trim() === '' ? '(empty)' : tail(stderr, STDERR_LINES),
    ...(stdout.trim() === '' ? [] : [`stdout (last ${STDOUT_LINES} lines):`, tail(stdout, STDOUT_LINES)]),
  ].join('\n');
}

/**
 * If the running test fails, `report()` is added to its errors. Outside a test
 * (a beforeAll) there is no test to attach to; the caller still has the output.
 */
export function reportOnTestFailure(report: () => string | Promise<string>): void {
  try {
    onTestFailed(async () => {
      const error = new Error(await report());
      error.name = 'ChildProcess';
      error.stack = `${error.name}: ${error.message}`;
      throw error;
    });
  } catch (err) {
    if (!/can only be called inside a test|outside of a test/i.test((err as Error).message)) throw err;
  }
}

export interface RunningChild {
  child: ChildProcess;
  /** Resolves when the process has exited and its output is read. */
  exit: Promise<ChildExit>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Adds a line to the failure report (e.g. that the test ended the child). */
  note(line: string): void;
}

export interface ChildOptions {
  /** Written to its stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Its own process group (pid = group id), so that `process.kill(-pid, signal)` reaches it and its children, as Ctrl-C on a terminal does. */
  processGroup?: boolean;
  /** Its working directory; default this process's. */
  cwd?: string;
}

/** Starts `command` with its stdout and stderr kept; a failure of the calling test reports them. */
export function startChild(what: string, command: string, args: string[], env?: NodeJS.ProcessEnv, options: ChildOptions = {}): RunningChild {
  const { input, processGroup, cwd } = options;
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: processGroup === true });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  let output = '';
  const notes: string[] = [];
  let exit: ChildExit | null = null;
  child.stdout!.on('data', (d) => {
    stdout += d;
    output += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    output += d;
  });
  const exited = new Promise<ChildExit>((resolve) => {
    // 'close', not 'exit': by then every byte of its output has been read.
    child.on('close', (code, signal) => resolve((exit = { code, signal })));
    child.on('error', (err) => {
      notes.push(`spawn failed: ${err.message}`);
      resolve((exit = { code: null, signal: null }));
    });
  });
  reportOnTestFailure(() => [describeChild(what, child.pid, exit, stdout, stderr), ...notes].join('\n'));
  return { child, exit: exited, stdout: () => stdout, stderr: () => stderr, output: () => output, note: (line) => void notes.push(line) };
}

/**
 * Runs `command` to its end (SIGTERM after `timeoutMs`, SIGKILL 5 s later) and
 * resolves with its exit and output; never rejects on a failed exit.
 */
export async function runCommand(what: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; input?: string; cwd?: string }): Promise<CommandResult> {
  const running = startChild(what, command, args, options.env, { input: options.input, cwd: options.cwd });
  const timer = setTimeout(() => {
    running.note(`the test ended it after ${options.timeoutMs} ms`);
    running.child.kill('SIGTERM');
    setTimeout(() => running.child.kill('SIGKILL'), 5_000).unref();
  }, options.timeoutMs);
  const exit = await running.exit;
  clearTimeout(timer);
  return { ...exit, stdout: running.stdout(), stderr: running.stderr() };
}
