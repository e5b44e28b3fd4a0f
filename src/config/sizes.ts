/**
 * Byte sizes: a plain number of bytes, or a number with a unit. Decimal units
 * (KB, MB, GB, TB) are powers of 1000, binary units (KiB, MiB, GiB, TiB) powers
 * of 1024, as in IEC 80000-13. Units are case-insensitive; a space between the
 * number and the unit is allowed.
 */
import { z } from 'zod';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const UNIT_LIST = 'B, KB, MB, GB, TB, KiB, MiB, GiB, TiB';

/** Bytes for a size, or an error message. */
export function parseSize(input: number | string): number | { error: string } {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : { error: `expected a whole number of bytes >= 0, got ${input}` };
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(input);
  const factor = match ? UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    return { error: `invalid size ${JSON.stringify(input)}: expected bytes or a number with a unit (${UNIT_LIST})` };
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes)) {
    return { error: `invalid size ${JSON.stringify(input)}: not a whole number of bytes` };
  }
  return bytes;
}

/** Formats bytes the way the docs and examples write them (`64MiB`). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** Bytes for people, rounded: `0 B`, `512 B`, `1.2 KiB`, `3.4 MiB`, `1.0 GiB`. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A size value: a number or a string with a unit, output in bytes (at least `min`: a zero ceiling would stall). */
export function byteSize(min = 1) {
  return z.union([z.number(), z.string()]).transform((input, ctx) => {
    const bytes = parseSize(input);
    if (typeof bytes === 'number' && bytes >= min) return bytes;
    const message = typeof bytes === 'number' ? `must be at least ${min} byte${min === 1 ? '' : 's'}, got ${JSON.stringify(input)}` : bytes.error;
    ctx.addIssue({ code: 'custom', message, input });
    return z.NEVER;
  });
}

/** A size setting with its default. */
export function sizeSchema(defaultBytes: number, description: string) {
  return byteSize().prefault(formatSize(defaultBytes)).meta({ description, docType: 'size' });
}
