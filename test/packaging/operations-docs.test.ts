/**
 * docs/operations.md explains every metric the worker exports, and names no
 * metric it does not: the reference table is written by hand, this keeps it true.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/support.ts';
import { KNOWN_METRICS } from './known-metrics.ts';

const doc = readFileSync(join(REPO, 'docs', 'operations.md'), 'utf8');
const ours = KNOWN_METRICS.filter((m) => m.name.startsWith('slotline_')).map((m) => m.name);

describe('docs/operations.md', () => {
  it('has a row for every slotline_* metric the registry exports', () => {
    const rows = new Set([...doc.matchAll(/^\| `(slotline_[a-z_]+)` \|/gm)].map((m) => m[1]));
    expect(ours.filter((name) => !rows.has(name))).toEqual([]);
    expect([...rows].filter((name) => !ours.includes(name))).toEqual([]);
  });
});
