/**
 * The baseline: PostgreSQL's own pg_recvlogical draining a slot through the
 * same output plugin and publication as slotline, discarding what it reads.
 * Nothing reads a slot much faster, so its rate is the server's limit for
 * this workload (walsender decoding + pgoutput + the socket).
 */
import { spawn } from 'node:child_process';
import { pgToolPath } from '../test/harness/postgres.ts';
import type { PgEndpoint } from '../test/harness/postgres.ts';

export interface RecvlogicalDrain {
  /** Wall time from process start to exit, after reaching endLsn. */
  seconds: number;
  /** Major of the pg_recvlogical binary (the npm servers lack it; Debian's is used). */
  clientMajor: number;
}

export interface RecvlogicalOptions {
  server: PgEndpoint;
  database: string;
  slot: string;
  publication: string;
  /** Stop once the stream passes this LSN (`X/Y`): the WAL end after the workload. */
  endLsn: string;
}

export async function drainWithRecvlogical(options: RecvlogicalOptions): Promise<RecvlogicalDrain> {
  const { server } = options;
  const tool = pgToolPath('pg_recvlogical', server.major);
  const args = [
    '--dbname', `host=${server.host} port=${server.port} user=${server.user} dbname=${options.database}`,
    '--slot', options.slot,
    '--start',
    '--endpos', options.endLsn,
    '--no-loop',
    '-o', 'proto_version=1',
    '-o', `publication_names=${options.publication}`,
    '-f', '/dev/null',
  ];
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tool.path, args, { env: { ...process.env, PGPASSWORD: server.password }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`pg_recvlogical exited with ${signal ?? `code ${code}`}: ${stderr.trim()}`));
    });
  });
  return { seconds: (performance.now() - started) / 1000, clientMajor: tool.major };
}
