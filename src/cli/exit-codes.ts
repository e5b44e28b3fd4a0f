/**
 * What `slotline`'s exit status tells whoever restarts it (Docker, systemd,
 * Kubernetes, a shell script):
 *
 * - 0: done, or stopped cleanly by SIGTERM/SIGINT;
 * - 1: a failure that a later start may not meet (a server not reachable yet,
 *   a slot still held by another process, a worker that gave up) — restarting
 *   is reasonable;
 * - 2: a wrong command line (unknown command or option, a missing argument, an
 *   option value that cannot be read: a size, a duration, an LSN, a time, a table name);
 * - 78 (EX_CONFIG in sysexits.h): the configuration or the server's setup is
 *   wrong (an invalid or unknown key, an unset environment variable, wal_level,
 *   a missing privilege, refused credentials): every start fails the same way
 *   until a person changes something, so a supervisor should not restart it.
 */
import { SlotlineError, UsageError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 78;

/** A wrong command line: the CLI prints the message (with its hint, else the command's help) and exits EXIT_USAGE. */
export { UsageError };

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (err instanceof SlotlineError && err.permanent) return EXIT_CONFIG;
  return EXIT_FAILURE;
}

/** The exit codes as the help and the README list them. */
export const EXIT_CODES_TEXT = `Exit codes: ${EXIT_OK} clean shutdown; ${EXIT_FAILURE} failure a restart may fix (a server not reachable); ${EXIT_USAGE} usage error; ${EXIT_CONFIG} configuration error (config, privileges, wal_level): do not restart until it is fixed.`;
