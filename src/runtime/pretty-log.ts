/**
 * Log lines for people on a terminal: `12:03:04.512 WARN  message  key=value …`,
 * from the same pino records the JSON logs hold (so redaction applies first).
 * Deliberately small instead of pino-pretty: one line per record, the level as
 * a word, the fields a person scans for, colours only on a TTY.
 */
const LEVELS: Record<number, { word: string; colour: string }> = {
  10: { word: 'TRACE', colour: '\x1b[90m' },
  20: { word: 'DEBUG', colour: '\x1b[90m' },
  30: { word: 'INFO ', colour: '\x1b[32m' },
  40: { word: 'WARN ', colour: '\x1b[33m' },
  50: { word: 'ERROR', colour: '\x1b[31m' },
  60: { word: 'FATAL', colour: '\x1b[31m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** pino's own fields: not repeated as key=value. */
const OWN = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

export function formatRecord(record: Record<string, unknown>, colour: boolean): string {
  const level = LEVELS[record.level as number] ?? { word: String(record.level).padEnd(5), colour: '' };
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([key]) => !OWN.has(key))
    .map(([key, value]) => `${key}=${fieldValue(value)}`);
  const paint = (code: string, text: string): string => (colour && code ? `${code}${text}${RESET}` : text);
  const message = String(record.msg ?? '');
  // A multi-line value (an error with its hint) keeps its lines, indented under the record.
  const tail = fields.length > 0 ? `  ${paint(DIM, fields.join(' '))}` : '';
  return `${paint(DIM, time)} ${paint(level.colour, level.word)} ${message}${tail}`.replace(/\n/g, '\n    ') + '\n';
}

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) && !value.includes('\n') ? JSON.stringify(value) : value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/** A pino destination that formats each JSON line and hands it to `write`. */
export function prettyDestination(write: (text: string) => void, colour: boolean): { write(line: string): void } {
  return {
    write(line) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        write(line);
        return;
      }
      write(formatRecord(record, colour));
    },
  };
}
