/**
 * Expected entries against what a sink holds (pure). A row is `missing` when
 * an entry it must have is absent, `stale` when an entry holds other content,
 * `extra` when the sink holds an entry for a row that does not exist; content
 * is compared field by field, as parsed JSON.
 */
import type { Expectation, Held, Json } from './sink-verifier.ts';

export type Outcome = 'match' | 'missing' | 'stale' | 'extra';

export interface Judgement {
  outcome: Outcome;
  /** Where the first difference is (label of the entry). */
  at?: string;
  /** Fields that differ (stale), at most a few. */
  fields?: string[];
  /** Optional entries found present whose content is not compared (cache entries of invalidation rules). */
  cached: number;
  /** Fields not compared because the sink holds the unchanged-TOAST placeholder. */
  placeholders: number;
}

const MAX_FIELDS = 5;

export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

/** The fields of two objects that differ (a field one side lacks differs); `skip` counts fields holding the placeholder. */
export function differingFields(expected: Json, held: Json | undefined, placeholders?: Readonly<Record<string, Json>>): { fields: string[]; skipped: number } {
  const isObject = (v: Json | undefined): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(expected) || !isObject(held)) return { fields: jsonEqual(expected, held) ? [] : ['(value)'], skipped: 0 };
  const fields: string[] = [];
  let skipped = 0;
  for (const name of new Set([...Object.keys(expected), ...Object.keys(held)])) {
    if (jsonEqual(expected[name], held[name])) continue;
    const placeholder = placeholders?.[name];
    if (placeholder !== undefined && Object.hasOwn(held, name) && jsonEqual(held[name], placeholder)) {
      skipped++;
      continue;
    }
    fields.push(name);
  }
  return { fields, skipped };
}

/**
 * A row's entries against what the sink holds. `rowExists` false: the row is
 * gone, so every entry with content must be absent, and one present is `extra`.
 */
export function judge(entries: readonly Expectation[], held: readonly Held[], rowExists: boolean): Judgement {
  let missing: string | undefined;
  let stale: { at: string; fields: string[] } | undefined;
  let extra: string | undefined;
  let cached = 0;
  let placeholders = 0;
  entries.forEach((entry, i) => {
    const h = held[i];
    if (!rowExists) {
      // Presence-only entries (the application's cache keys) may be filled again by the application.
      if (h.present && entry.value !== undefined) extra ??= entry.label;
      return;
    }
    if (!h.present) {
      if (entry.required) missing ??= entry.label;
      return;
    }
    if (entry.value === undefined) {
      cached++;
      return;
    }
    if (h.value === undefined) {
      if (h.differs) stale ??= { at: entry.label, fields: [] };
      return;
    }
    if (jsonEqual(entry.value, h.value)) return;
    const diff = differingFields(entry.value, h.value, entry.placeholders);
    placeholders += diff.skipped;
    if (diff.fields.length > 0) stale ??= { at: entry.label, fields: diff.fields.slice(0, MAX_FIELDS) };
  });
  if (missing !== undefined) return { outcome: 'missing', at: missing, cached, placeholders };
  if (stale !== undefined) return { outcome: 'stale', at: stale.at, ...(stale.fields.length > 0 ? { fields: stale.fields } : {}), cached, placeholders };
  if (extra !== undefined) return { outcome: 'extra', at: extra, cached, placeholders };
  return { outcome: 'match', cached, placeholders };
}
