/**
 * Temporal array elements as Debezium 3.6.1 sees them (strict mode). Debezium
 * reads an array column through pgjdbc's PgArray, which decodes date, time and
 * timestamp elements into java.sql.Date / Time / Timestamp: the old
 * java.util calendar (Julian before 1582-10-15, with eras), millisecond times.
 * Scalar columns are parsed with java.time instead, which is why only arrays
 * lose this way. Each function rewrites an element's text into the text whose
 * ordinary conversion (temporal.ts) gives Debezium's value; it assumes a JVM
 * in UTC, as Debezium's images run. Checked against a real Debezium 3.6.1 by
 * bench/debezium-parity.ts.
 */
import { civilFromDays, daysFromCivil } from './temporal.ts';

/** Epoch days of the Gregorian calendar's first day, 1582-10-15; the day before is Julian 1582-10-04. */
const CUTOVER_DAY = -141427;

/** Epoch days of a Julian calendar date (astronomical years: 1 BC is 0). */
export function daysFromJulian(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const cycle = Math.floor(y / 4);
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return cycle * 1461 + (y - cycle * 4) * 365 + doy - 719470;
}

/** Inverse of daysFromJulian. */
export function julianFromDays(days: number): [number, number, number] {
  const z = days + 719470;
  const cycle = Math.floor(z / 1461);
  const doc = z - cycle * 1461;
  const yoc = Math.floor((doc - Math.floor(doc / 1460)) / 365);
  const doy = doc - yoc * 365;
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [cycle * 4 + yoc + (month <= 2 ? 1 : 0), month, day];
}

/** java.util.GregorianCalendar (lenient): the day these fields name; 1582-10-05 to -14 fall into the Julian side. */
function hybridDays(year: number, month: number, day: number): number {
  const gregorian = year > 1582 || (year === 1582 && (month > 10 || (month === 10 && day >= 15)));
  return gregorian ? daysFromCivil(year, month, day) : daysFromJulian(year, month, day);
}

/** The fields java.util.GregorianCalendar shows for a day. */
function hybridFields(days: number): [number, number, number] {
  return days >= CUTOVER_DAY ? civilFromDays(days) : julianFromDays(days);
}

interface Fields {
  year: number;
  month: number;
  day: number;
  /** The text after the date: ` HH:MM:SS[.f][+00]`, without ` BC`. */
  rest: string;
}

/** `YYYY-MM-DD[ rest][ BC]` → astronomical fields. */
function fieldsOf(text: string): Fields {
  const bc = text.endsWith(' BC');
  const body = bc ? text.slice(0, -3) : text;
  const dash = body.indexOf('-', 4);
  const year = Number(body.slice(0, dash));
  return {
    year: bc ? 1 - year : year,
    month: Number(body.slice(dash + 1, dash + 3)),
    day: Number(body.slice(dash + 4, dash + 6)),
    rest: body.slice(dash + 6),
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** ISO text of a proleptic date, `BC` for years ≤ 0, as Postgres prints it. */
function dateText(year: number, month: number, day: number): string {
  return year > 0 ? `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}` : `${pad(1 - year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function withEra(text: string, year: number): string {
  return year > 0 ? text : `${text} BC`;
}

/**
 * Debezium's epoch days for date 'infinity' / '-infinity' in an array: pgjdbc's
 * infinity Date (Long.MAX_VALUE-ish milliseconds) read back through
 * Date.toLocalDate() in UTC.
 */
export const ARRAY_DATE_INFINITY = -622191234;
export const ARRAY_DATE_MINUS_INFINITY = -625821272;
/** Debezium's ZonedTimestamp for timestamptz '-infinity' in an array ('infinity' stays as it is). */
export const ARRAY_TIMESTAMPTZ_MINUS_INFINITY = '+292269055-12-02T23:00:00.000000Z';

/**
 * date[] element: java.sql.Date's fields, read as a java.time LocalDate. The
 * era is lost (44 BC reads as 44 AD) and the days 1582-10-05 to -14, which the
 * old calendar does not have, move ten days on.
 */
export function arrayDateDays(text: string): number {
  if (text === 'infinity') return ARRAY_DATE_INFINITY;
  if (text === '-infinity') return ARRAY_DATE_MINUS_INFINITY;
  const f = fieldsOf(text);
  const [year, month, day] = hybridFields(hybridDays(f.year, f.month, f.day));
  return daysFromCivil(year > 0 ? year : 1 - year, month, day);
}

/**
 * timestamp[] element: the instant java.sql.Timestamp holds for these fields in
 * UTC, so a date before 1582-10-15 is a Julian one (1500-01-01 reads as
 * Gregorian 1500-01-10). Returned as the Postgres text of that instant.
 */
export function arrayTimestampText(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  const f = fieldsOf(text);
  const [year, month, day] = civilFromDays(hybridDays(f.year, f.month, f.day));
  return withEra(`${dateText(year, month, day)}${f.rest}`, year);
}

/**
 * timestamptz[] element: java.sql.Timestamp's fields as a LocalDateTime at UTC
 * (Postgres prints the element in UTC already): the era is lost and the
 * 1582 gap moves on, as for date[]. '-infinity' becomes
 * ARRAY_TIMESTAMPTZ_MINUS_INFINITY, which is no Postgres text: the caller
 * puts it in place of the converted value.
 */
export function arrayTimestampTzText(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  const f = fieldsOf(text);
  const [year, month, day] = hybridFields(hybridDays(f.year, f.month, f.day));
  return `${dateText(year > 0 ? year : 1 - year, month, day)}${f.rest}`;
}

/** time[] element: java.sql.Time keeps milliseconds, and 24:00:00 wraps to midnight. */
export function arrayTimeText(text: string): string {
  if (text.startsWith('24:00:00')) return '00:00:00';
  const dot = text.indexOf('.');
  return dot < 0 ? text : text.slice(0, dot + 4);
}

/** timetz[] element: Debezium takes java.sql.Time's toLocalTime(), which has whole seconds only. */
export function arrayTimeTzText(text: string): string {
  const dot = text.indexOf('.');
  if (dot < 0) return text;
  let end = dot + 1;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  return text.slice(0, dot) + text.slice(end);
}
