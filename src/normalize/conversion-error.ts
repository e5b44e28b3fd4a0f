/**
 * A column value the normalizer cannot convert. It is a per-record failure
 * (errors.ts): the runtime dead-letters or fails the one event, by config. With
 * the session settings the source fixes (DateStyle=ISO, …) it means a type we
 * map wrongly, so the message names the column and its type. It never holds
 * the value itself, only its length: the message reaches logs and dead-letter
 * records, and a column's values may be personal data that a sink's `mask`
 * transform keeps out of everything it writes.
 */
import { SlotlineError } from '../errors.ts';

/** What stands in a tuple where no value text is: shown as such, since they are no data. */
export const NULL_TEXT = 'NULL';
export const UNCHANGED_TOAST_TEXT = '(unchanged TOAST value)';

export class ConversionError extends SlotlineError {
  readonly column: string;
  readonly typeName: string;

  /** `why` replaces the generic reason and hint (strict mode: a value Debezium cannot convert either). */
  constructor(column: string, typeName: string, text: string, cause?: unknown, why?: { reason: string; hint: string }) {
    const shown = text === NULL_TEXT || text === UNCHANGED_TOAST_TEXT ? text : `of ${text.length} character${text.length === 1 ? '' : 's'} (not shown)`;
    super('record', `cannot convert column "${column}" (${typeName}) value ${shown}${why ? `: ${why.reason}` : ''}`, {
      cause,
      hint: why?.hint ?? 'the replication session must run with DateStyle=ISO, IntervalStyle=iso_8601, bytea_output=hex; report a bug if it does',
    });
    this.name = 'ConversionError';
    this.column = column;
    this.typeName = typeName;
  }
}
