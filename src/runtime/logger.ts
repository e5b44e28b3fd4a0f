/**
 * The one root logger (STYLE.md, habit 7). Logs go to stderr so that stdout
 * stays free for the console sink; secrets are redacted wherever they appear.
 */
import pino, { type Logger, type Level } from 'pino';

export function createLogger(level: Level | 'silent' = 'info'): Logger {
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
    pino.destination({ fd: 2, sync: true }),
  );
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages shown to people. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
