/**
 * Child processes for the test servers (PostgreSQL, Kafka): started with their
 * output in a log file, tied to the life of this Node process, and stopped by pid.
 *
 * Every server is started through `setpriv --pdeathsig`, so the kernel signals
 * it when the Node process that started it dies (a crashed or killed vitest run
 * leaves no orphan holding ports and temp dirs). The same `setpriv` drops root
 * to the server's OS user where the server refuses to run as root (Postgres).
 */
import { spawn, execFile } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { PortTakenError, showsBindFailure } from './ports.ts';

const execFileAsync = promisify(execFile);

export interface ServerProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Size of the log file when this process was started: its own lines come after. */
  readonly logOffset: number;
  /** Resolves once the process has exited, with its exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs. Never throws. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void>;
}

export interface SpawnServerOptions {
  command: string;
  args: string[];
  /** Appended to, never truncated: a restart keeps the earlier run's lines. */
  logFile: string;
  /** OS user to run as when we are root; ignored otherwise. */
  runAs?: string;
  /** Signal the kernel sends the server when this Node process dies. */
  deathSignal: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function isRoot(): boolean {
  return userInfo().uid === 0;
}

/** `setpriv` prefix that drops to `runAs` (when root) and sets the parent-death signal. */
export function setprivArgs(deathSignal: NodeJS.Signals, runAs?: string): string[] {
  const user = runAs !== undefined && isRoot() ? ['--reuid', runAs, '--regid', runAs, '--init-groups'] : [];
  return [...user, '--pdeathsig', deathSignal.replace(/^SIG/, '')];
}

export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const log = await open(options.logFile, 'a');
  const logOffset = (await log.stat()).size;
  const child = spawn('setpriv', [...setprivArgs(options.deathSignal, options.runAs), options.command, ...options.args], {
    stdio: ['ignore', log.fd, log.fd],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  await log.close();
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      alive = false;
      resolve({ code: null, signal: null });
      void appendLine(options.logFile, `spawn failed: ${err.message}`);
    });
  });
  // Do not keep the event loop alive for a server: teardown stops it explicitly.
  child.unref();
  const pid = child.pid ?? -1;
  return {
    pid,
    logFile: options.logFile,
    logOffset,
    exited,
    running: () => alive,
    async stop(signal, timeoutMs) {
      if (!alive) return;
      // Hold the event loop open until the exit is seen (the child is unref'd).
      child.ref();
      child.kill(signal);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      if ((await Promise.race([exited, timer])) === 'timeout' && alive) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function appendLine(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a');
  await handle.write(`${line}\n`);
  await handle.close();
}

/** Last `lines` lines of a log file, for error messages; empty if it cannot be read. */
export async function logTail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a short command (initdb, a storage format) as `runAs` when root; throws with its output. */
export async function runTool(command: string, args: string[], runAs?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const prefix = runAs !== undefined && isRoot() ? ['--reuid', runAs, '--regid', runAs, '--init-groups'] : [];
  try {
    const { stdout, stderr } = await execFileAsync('setpriv', [...prefix, command, ...args], {
      env: env ?? process.env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trimEnd());
  }
}

/**
 * Polls `probe` until it resolves or the process exits; the error names the log.
 * `timeoutMs` is how long start-up may go on without progress: while the server
 * keeps writing to its log, a loaded machine may take longer, up to three times
 * `timeoutMs` in all. A process that exits because its port was taken throws
 * PortTakenError, so that its starter can try again on another port.
 */
export async function waitUntilReady(
  what: string,
  server: ServerProcess,
  probe: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  let progressAt = started;
  let logSize = server.logOffset;
  let lastError: unknown;
  while (Date.now() < Math.min(progressAt + timeoutMs, started + 3 * timeoutMs)) {
    if (!server.running()) {
      const { code, signal } = await server.exited;
      const message = `${what} exited during startup (code ${code}, signal ${signal}); log ${server.logFile}:\n${await logTail(server.logFile)}`;
      const ownLog = (await readFile(server.logFile).catch(() => Buffer.alloc(0))).subarray(server.logOffset).toString();
      throw showsBindFailure(ownLog) ? new PortTakenError(message) : new Error(message);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    const size = (await stat(server.logFile).catch(() => undefined))?.size ?? logSize;
    if (size > logSize) [logSize, progressAt] = [size, Date.now()];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await server.stop('SIGKILL', 5_000);
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  const waited = `${Date.now() - started} ms, the last ${Date.now() - progressAt} ms without a new log line`;
  throw new Error(`${what} not ready after ${waited} (last probe error: ${reason}); log ${server.logFile}:\n${await logTail(server.logFile)}`);
}
