/**
 * Loopback ports for test servers, reserved across the parallel test files and
 * outside the kernel's ephemeral range (see src/cli/local-ports.ts for why).
 * A server started on them that still finds a port taken (by a program that
 * does not use the reservations) fails with PortTakenError, and
 * `startOnFreePorts` starts it again on new ports.
 */
import { reservePort, type ReservedPort } from '../../src/cli/local-ports.ts';

/** A server's log says it could not bind its address. */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/** What servers log when their port is taken: Postgres, Redis, Kafka, Elasticsearch. */
const BIND_FAILURE = /Address already in use|could not bind IPv4 address|could not create any TCP\/IP sockets|failed to bind|BindException|BindTransportException|BindHttpException/;

export function showsBindFailure(log: string): boolean {
  return BIND_FAILURE.test(log);
}

/** A reserved port nothing listens on, e.g. for a "connection refused" test; held until this process exits. */
export async function freePort(): Promise<number> {
  return (await reservePort()).port;
}

const MAX_STARTS = 3;

/**
 * Calls `start` with `count` reserved ports; if it throws PortTakenError, the
 * ports are given up and `start` runs again on new ones (3 starts at most).
 * `start` cleans up after itself when it throws. The ports stay reserved until
 * `release()`, so a stopped server can start again on them.
 */
export async function startOnFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<{ ports: number[]; value: T; release: () => void }> {
  for (let attempt = 1; ; attempt++) {
    const reserved: ReservedPort[] = [];
    for (let i = 0; i < count; i++) reserved.push(await reservePort());
    const ports = reserved.map((r) => r.port);
    const release = (): void => reserved.forEach((r) => r.release());
    try {
      return { ports, value: await start(ports), release };
    } catch (err) {
      release();
      if (!(err instanceof PortTakenError) || attempt >= MAX_STARTS) throw err;
    }
  }
}
