/**
 * A column value the normalizer cannot convert. It is a per-record failure
 * (errors.ts): the runtime dead-letters or fails the one event, by config. With
 * the session settings the source fixes (DateStyle=ISO, …) it means a type we
 * map wrongly, so the message names the column, its type and the text.
 */
import { SlotlineError } from '../errors.ts';

export class ConversionError extends SlotlineError {
  readonly column: string;
  readonly typeName: string;

  constructor(column: string, typeName: string, text: string, cause?: unknown) {
    const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    super('record', `cannot convert column "${column}" (${typeName}) value ${JSON.stringify(shown)}`, {
      cause,
      hint: 'the replication session must run with DateStyle=ISO, IntervalStyle=iso_8601, bytea_output=hex; report a bug if it does',
    });
    this.name = 'ConversionError';
    this.column = column;
    this.typeName = typeName;
  }
}
