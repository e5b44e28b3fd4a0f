/**
 * A struct whose fields mostly repeat from one value to the next, written as
 * cached bytes around the few that change.
 *
 * Debezium's `source` block is the case: in one transaction and table, only
 * `sequence` and `lsn` differ between changes, while version, connector,
 * name, the commit times, db, schema, table and txId stay. Written field by
 * field it was about a third of a record's JSON (issue 11). Here the bytes
 * between the changing fields are kept with the values they were made from;
 * a value whose other fields are the same (`===`) copies them, any difference
 * makes them again. The bytes are those the field-by-field writer gives.
 */
import { bytesOf, utf8, writeRaw, type JsonOut } from './json-bytes.ts';
import { quoteJson } from './json-text.ts';
import type { ConnectField } from '../types.ts';

type Writer = (value: unknown, out: JsonOut) => void;

const CLOSE = utf8('}');

/** The bytes before each field of a struct: `{"name":` for the first, `,"name":` after. */
export function fieldPrefixes(fields: readonly ConnectField[]): Uint8Array[] {
  return fields.map((f, i) => utf8(`${i === 0 ? '{' : ','}${quoteJson(f.field)}:`));
}

/**
 * `fields`: the struct's fields in order (at least one); `writerOf`: each
 * field's value writer; `changing`: the names of the fields that differ from
 * value to value.
 */
export function segmentedStructWriter(fields: readonly ConnectField[], writerOf: (field: ConnectField) => Writer, changing: ReadonlySet<string>): Writer {
  const names = fields.map((f) => f.field);
  const prefixes = fieldPrefixes(fields);
  const changingAt = names.flatMap((name, i) => (changing.has(name) ? [i] : []));
  const steadyAt = names.flatMap((name, i) => (changing.has(name) ? [] : [i]));
  let writers: Writer[] | undefined;
  /** The steady fields' values the segments were made from; null before the first value. */
  let made: unknown[] | null = null;
  /** segments[k] comes before changingAt[k]; the last one ends the struct. */
  let segments: Uint8Array[] = [];

  const remake = (row: Record<string, unknown>, all: Writer[]): void => {
    made = steadyAt.map((i) => row[names[i]]);
    segments = [];
    let from = 0;
    for (const upTo of [...changingAt, names.length]) {
      segments.push(
        bytesOf((out) => {
          for (let i = from; i < upTo; i++) {
            writeRaw(out, prefixes[i]);
            all[i](row[names[i]], out);
          }
          if (upTo === names.length) writeRaw(out, CLOSE);
        }),
      );
      from = upTo + 1;
    }
  };

  return (v, out) => {
    const all = (writers ??= fields.map(writerOf));
    const row = v as Record<string, unknown>;
    let same = made !== null;
    for (let k = 0; same && k < steadyAt.length; k++) same = row[names[steadyAt[k]]] === made![k];
    if (!same) remake(row, all);
    for (let k = 0; k < changingAt.length; k++) {
      const i = changingAt[k];
      writeRaw(out, segments[k]);
      writeRaw(out, prefixes[i]);
      all[i](row[names[i]], out);
    }
    writeRaw(out, segments[changingAt.length]);
  };
}
