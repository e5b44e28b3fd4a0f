/**
 * How much history the rewind slot keeps (`source.rewind.retain`): a
 * duration (`90m`, `1h`, `1h30m`, `2d`), measured on commit times, or a WAL
 * size (`2GiB`, `500MB`), measured in WAL bytes behind the main slot. A bare
 * number is refused: it could mean either.
 */
import { formatSize, parseSize } from './sizes.ts';

export type Retention = { by: 'time'; ms: number } | { by: 'wal'; bytes: number };

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRetention(text: string): Retention | { error: string } {
  const trimmed = text.trim();
  const usage = `invalid retention ${JSON.stringify(text)}: expected a duration like 1h, 90m or 1h30m (units ms, s, m, h, d), or a WAL size like 2GiB`;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return { error: `retention ${JSON.stringify(text)} has no unit: write a duration like 1h or a WAL size like 2GiB` };
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)];
  const isDuration = parts.length > 0 && parts.map((p) => p[0]).join('').replace(/\s/g, '') === trimmed.replace(/\s/g, '') && parts.every((p) => p[2].toLowerCase() in TIME_UNITS);
  if (isDuration) {
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * TIME_UNITS[p[2].toLowerCase()], 0);
    if (!Number.isSafeInteger(Math.round(ms)) || ms < 1000) return { error: `retention ${JSON.stringify(text)} is shorter than a second` };
    return { by: 'time', ms: Math.round(ms) };
  }
  const bytes = parseSize(trimmed);
  if (typeof bytes !== 'number') return { error: usage };
  if (bytes < 1) return { error: `retention ${JSON.stringify(text)} must be more than 0 bytes` };
  return { by: 'wal', bytes };
}

/** The retention as people write it: `1h`, `90m`, `2GiB`. */
export function formatRetention(retention: Retention): string {
  if (retention.by === 'time') return formatDuration(retention.ms);
  const size = formatSize(retention.bytes);
  return /\d$/.test(size) ? `${size}B` : size;
}

/** `1h30m`, `45s`, `2d`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const out: string[] = [];
  for (const [unit, seconds] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= seconds) {
      out.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return out.join('');
}
