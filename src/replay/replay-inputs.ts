/**
 * The window of a replay as the operator writes it: `--from <LSN | ISO time |
 * rewind>`, `--to <LSN | now>`. Syntax only (pure): what cannot be read is a usage
 * error (exit 2), as is a window that ends before it starts; what the server holds is
 * checked in replay.ts. A transaction is replayed when its commit record lies
 * in [from, to): the rule Postgres itself applies to a slot's start position.
 */
import { UsageError } from '../errors.ts';
import { formatLsn, parseLsn, type Lsn } from '../lsn.ts';

export type FromSpec =
  | { kind: 'rewind' }
  | { kind: 'lsn'; lsn: Lsn }
  /** Transactions committed at or after this instant (ms since the epoch). */
  | { kind: 'time'; ms: number; text: string };

export type ToSpec = { kind: 'now' } | { kind: 'lsn'; lsn: Lsn };

const LSN_TEXT = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const LSN_HINT = 'an LSN looks like 0/16B3748 (as pg_current_wal_lsn() prints it)';

export function parseFrom(text: string | undefined): FromSpec {
  if (text === undefined || text === 'rewind') return { kind: 'rewind' };
  if (LSN_TEXT.test(text)) return { kind: 'lsn', lsn: parseLsn(text) };
  const time = ISO_TIME.exec(text);
  if (time) {
    if (time[7] === undefined) {
      throw new UsageError(`--from ${text} has no time zone`, { hint: `add one: ${text}Z for UTC, or an offset like ${text}+02:00` });
    }
    const ms = Date.parse(text.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (Number.isNaN(ms) || !sameCalendarDay(time)) throw new UsageError(`--from ${text} is not a valid time`, { hint: 'write an ISO 8601 time like 2024-05-01T10:00:00Z' });
    return { kind: 'time', ms, text };
  }
  throw new UsageError(`--from ${JSON.stringify(text)} is not an LSN, an ISO time or "rewind"`, {
    hint: `${LSN_HINT}; a time like 2024-05-01T10:00:00Z; rewind (the default) starts where the rewind slot is`,
  });
}

export function parseTo(text: string | undefined): ToSpec {
  if (text === undefined || text === 'now') return { kind: 'now' };
  if (LSN_TEXT.test(text)) return { kind: 'lsn', lsn: parseLsn(text) };
  throw new UsageError(`--to ${JSON.stringify(text)} is not an LSN or "now"`, { hint: `${LSN_HINT}; now (the default) is the server's WAL position when the replay starts` });
}

/** Date.parse rolls 2024-02-30 over to March; a date that does not exist is refused instead. */
function sameCalendarDay(match: RegExpExecArray): boolean {
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && Number(match[4]) < 24 && Number(match[5]) < 60;
}

/** Both ends given as LSNs, the end before the start: no server needed to see it is wrong. */
export function checkWindow(from: FromSpec, to: ToSpec): void {
  if (from.kind === 'lsn' && to.kind === 'lsn' && from.lsn > to.lsn) {
    throw new UsageError(`--from ${formatLsn(from.lsn)} is after --to ${formatLsn(to.lsn)}: nothing to replay`, { hint: 'give a --from before --to' });
  }
}
