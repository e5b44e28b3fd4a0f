/**
 * The one root logger (STYLE.md, habit 7). Logs go to stderr so that stdout
 * stays free for the console sink; secrets are redacted wherever they appear.
 * On a terminal the lines are for people (time, level word, message, fields),
 * written through the shared Terminal so they never cut through progress
 * bars; elsewhere JSON, one object per line. `log.format` chooses.
 */
import pino, { type Logger, type Level } from 'pino';
import { prettyDestination } from './pretty-log.ts';
import { stderrTerminal } from './terminal.ts';

export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(level: Level | 'silent' = 'info', format: LogFormat = 'auto'): Logger {
  const terminal = stderrTerminal();
  const pretty = format === 'pretty' || (format === 'auto' && terminal !== null);
  const write = (text: string): unknown => (terminal ? terminal.write(text) : process.stderr.write(text));
  const destination = pretty
    ? prettyDestination(write, terminal !== null)
    : terminal
      ? { write } // JSON on a terminal still goes around the progress bars
      : pino.destination({ fd: 2, sync: true });
  return pino(
    {
      name: 'slotline',
      level,
      redact: {
        paths: ['password', '*.password', '*.*.password', 'url', '*.url', 'connectionString', '*.connectionString', 'sasl.password'],
        censor: '[redacted]',
      },
      base: undefined,
    },
    destination,
  );
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages shown to people. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
