/**
 * Date/time text as Postgres prints it with DateStyle=ISO, TimeZone=UTC and
 * IntervalStyle=iso_8601, converted to Debezium's temporal values. Calendar
 * arithmetic is proleptic Gregorian (as Postgres and java.time both use); BC
 * years count from 1 BC = year 0.
 */
import { javaPlainDecimal } from './java-compat.ts';

/** pgjdbc's ±infinity timestamps, which Debezium emits for `timestamp` columns (µs). */
export const POSITIVE_INFINITY_MICROS = 9223372036825200000n;
export const NEGATIVE_INFINITY_MICROS = -9223372036832400000n;
/**
 * Debezium maps date 'infinity' / '-infinity' to LocalDate -5877611-06-21 / -22
 * (PostgresValueConverter.POSITIVE/NEGATIVE_INFINITY_LOCAL_DATE), i.e. these epoch days.
 */
export const POSITIVE_INFINITY_EPOCH_DAY = -2147472692;
export const NEGATIVE_INFINITY_EPOCH_DAY = -2147472691;

export const MICROS_PER_DAY = 86_400_000_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}

function bad(kind: string, text: string): Error {
  return new Error(`not a ${kind} in ISO style: ${text}`);
}

function digitsAt(text: string, start: number, count: number): number {
  let v = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

interface DatePart {
  days: number;
  /** Index just past `YYYY-MM-DD`. */
  end: number;
}

/** `YYYY-MM-DD` at the start of `text` (the year may have more than 4 digits), with a trailing ` BC` applied. */
function parseDatePart(text: string, kind: string): DatePart {
  const dash = text.indexOf('-', 4);
  let year = digitsAt(text, 0, dash);
  const month = digitsAt(text, dash + 1, 2);
  const day = digitsAt(text, dash + 4, 2);
  if (dash < 4 || year < 0 || month < 1 || day < 1 || text.charCodeAt(dash + 3) !== 45) throw bad(kind, text);
  // "0044-03-15 BC" is astronomical year -43.
  if (text.endsWith(' BC')) year = 1 - year;
  return { days: daysFromCivil(year, month, day), end: dash + 6 };
}

/** `date` text → days since epoch; ±infinity → Debezium's sentinels. */
export function parseDate(text: string): number {
  if (text === 'infinity') return POSITIVE_INFINITY_EPOCH_DAY;
  if (text === '-infinity') return NEGATIVE_INFINITY_EPOCH_DAY;
  return parseDatePart(text, 'date').days;
}

interface TimePart {
  micros: number;
  /** Digits after the decimal point as printed (possibly ''). */
  fraction: string;
  end: number;
}

/** `HH:MM:SS[.ffffff]` starting at `start`. */
function parseTimePart(text: string, start: number, kind: string): TimePart {
  const h = digitsAt(text, start, 2);
  const m = digitsAt(text, start + 3, 2);
  const s = digitsAt(text, start + 6, 2);
  if (h < 0 || m < 0 || s < 0 || text.charCodeAt(start + 2) !== 58 || text.charCodeAt(start + 5) !== 58) throw bad(kind, text);
  let end = start + 8;
  let fraction = '';
  if (text.charCodeAt(end) === 46) {
    let f = end + 1;
    while (f < text.length && text.charCodeAt(f) >= 48 && text.charCodeAt(f) <= 57) f++;
    fraction = text.slice(end + 1, f);
    end = f;
  }
  const micros = ((h * 60 + m) * 60 + s) * 1_000_000 + (fraction === '' ? 0 : Number(fraction.slice(0, 6).padEnd(6, '0')));
  return { micros, fraction, end };
}

/** `time` text → microseconds past midnight (24:00:00 is 86400000000, as Debezium's Duration). */
export function parseTime(text: string): number {
  return parseTimePart(text, 0, 'time').micros;
}

/** `timestamp` text → µs since epoch (UTC wall clock); ±infinity → pgjdbc's sentinels. */
export function parseTimestamp(text: string): bigint {
  if (text === 'infinity') return POSITIVE_INFINITY_MICROS;
  if (text === '-infinity') return NEGATIVE_INFINITY_MICROS;
  const date = parseDatePart(text, 'timestamp');
  const time = parseTimePart(text, date.end + 1, 'timestamp');
  return epochMicros(date.days, time.micros);
}

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

function epochMicros(days: number, micros: number): bigint {
  // Within ±100000 days of 1970 the product stays below 2^53.
  if (days > -100_000 && days < 100_000) return BigInt(days * MICROS_PER_DAY + micros);
  // Debezium: TimeUnit.SECONDS.toMicros(epochSecond) saturates, then the sub-second µs are added with
  // 64-bit wrap-around. Only timestamps past year ~294247 (Postgres allows 294276) get there.
  const seconds = BigInt(days) * 86_400n + BigInt(Math.floor(micros / 1_000_000));
  let whole = seconds * 1_000_000n;
  if (whole > LONG_MAX) whole = LONG_MAX;
  else if (whole < LONG_MIN) whole = LONG_MIN;
  return BigInt.asIntN(64, whole + BigInt(micros % 1_000_000));
}

/** Offset like `+00`, `-03:30`, `+05:53:28` at `start`, in seconds east of UTC. */
function parseOffset(text: string, start: number, kind: string): { seconds: number; end: number } {
  const sign = text.charCodeAt(start);
  if (sign !== 43 && sign !== 45) throw bad(kind, text);
  let seconds = digitsAt(text, start + 1, 2) * 3600;
  let end = start + 3;
  if (text.charCodeAt(end) === 58) {
    seconds += digitsAt(text, end + 1, 2) * 60;
    end += 3;
    if (text.charCodeAt(end) === 58) {
      seconds += digitsAt(text, end + 1, 2);
      end += 3;
    }
  }
  if (seconds < 0) throw bad(kind, text);
  return { seconds: sign === 45 ? -seconds : seconds, end };
}

const FAST_UTC = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.(\d+))?\+00$/;

/**
 * `timestamptz` text → Debezium ZonedTimestamp: ISO-8601 in UTC with `Z`, the
 * fraction printed with exactly `width` digits (the column precision, 1–6) or,
 * for width 0, with as many digits as needed (java.time's ISO format).
 */
export function formatTimestampTz(text: string, width: number): string {
  if (text === 'infinity' || text === '-infinity') return text;
  const fast = FAST_UTC.exec(text);
  if (fast !== null) {
    return `${text.slice(0, 10)}T${text.slice(11, 19)}${fractionText(fast[1] ?? '', width)}Z`;
  }
  const date = parseDatePart(text, 'timestamptz');
  const time = parseTimePart(text, date.end + 1, 'timestamptz');
  const offset = parseOffset(text, time.end, 'timestamptz');
  let micros = time.micros - offset.seconds * 1_000_000;
  let utcDays = date.days + Math.floor(micros / MICROS_PER_DAY);
  micros -= Math.floor(micros / MICROS_PER_DAY) * MICROS_PER_DAY;
  if (micros === MICROS_PER_DAY) {
    micros = 0;
    utcDays++;
  }
  const [y, mo, d] = civilFromDays(utcDays);
  const fraction = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return `${isoYear(y)}-${pad2(mo)}-${pad2(d)}T${clock(Math.floor(micros / 1_000_000))}${fractionText(fraction, width)}Z`;
}

/** `timetz` text → Debezium ZonedTime: the same instant of day in UTC, `HH:MM:SS[.fff]Z`. */
export function formatTimeTz(text: string): string {
  const time = parseTimePart(text, 0, 'timetz');
  const offset = parseOffset(text, time.end, 'timetz');
  let micros = (time.micros - offset.seconds * 1_000_000) % MICROS_PER_DAY;
  if (micros < 0) micros += MICROS_PER_DAY;
  const fraction = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return `${clock(Math.floor(micros / 1_000_000))}${fraction === '' ? '' : `.${fraction}`}Z`;
}

function fractionText(digits: string, width: number): string {
  if (width <= 0 || width > 9) {
    const trimmed = digits.replace(/0+$/, '');
    return trimmed === '' ? '' : `.${trimmed}`;
  }
  return `.${digits.length >= width ? digits.slice(0, width) : digits.padEnd(width, '0')}`;
}

function clock(seconds: number): string {
  return `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** java.time's ISO year: 4 digits, `+` past 9999, `-` before year 0. */
function isoYear(y: number): string {
  if (y < 0) return `-${String(-y).padStart(4, '0')}`;
  return y > 9999 ? `+${y}` : String(y).padStart(4, '0');
}

// ─── interval ───────────────────────────────────────────────────────────────

export interface IntervalFields {
  years: number;
  months: number;
  days: number;
  hours: number;
  minutes: number;
  /** Seconds as pgjdbc's PGInterval holds them: whole seconds + rounded microseconds / 1e6. */
  seconds: number;
}

/** ISO-8601 interval text (`P1Y2M3DT4H5M6.78S`, `P-10M`, `PT0S`) → its fields. */
export function parseInterval(text: string): IntervalFields {
  const m = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (m === null || text === 'P') throw bad('interval', text);
  const raw = m[6] === undefined ? 0 : Number(m[6]);
  const whole = Math.trunc(raw);
  const micros = Math.round((raw - whole) * 1_000_000);
  return {
    years: Number(m[1] ?? 0),
    months: Number(m[2] ?? 0),
    days: Number(m[3] ?? 0),
    hours: Number(m[4] ?? 0),
    minutes: Number(m[5] ?? 0),
    seconds: whole + micros / 1_000_000,
  };
}

/** Debezium Interval (string mode): `P<y>Y<m>M<d>DT<h>H<m>M<s>S`, every field present, seconds as BigDecimal.valueOf(double) prints them. */
export function intervalIsoString(f: IntervalFields): string {
  let seconds = javaPlainDecimal(f.seconds);
  const dot = seconds.indexOf('.');
  if (dot >= 0 && seconds.length - dot - 1 > 9) seconds = seconds.slice(0, dot + 10).replace(/\.?0+$/, '');
  return `P${f.years}Y${f.months}M${f.days}DT${f.hours}H${f.minutes}M${seconds}S`;
}

/** Debezium MicroDuration: approximate µs, a month being 365.25/12 days; same double arithmetic as the JVM. */
export function intervalMicros(f: IntervalFields): bigint {
  const days = (f.years * 12 + f.months) * (365.25 / 12) + f.days;
  const seconds = ((days * 24 + f.hours) * 60 + f.minutes) * 60 + f.seconds;
  // Java's (long) cast of a double saturates at the int64 bounds.
  const micros = BigInt(Math.trunc(seconds * 1e6 + 0));
  return micros > LONG_MAX ? LONG_MAX : micros < LONG_MIN ? LONG_MIN : micros;
}
