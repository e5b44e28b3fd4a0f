import { describe, expect, it } from 'vitest';
import { differingFields, judge, jsonEqual } from './compare.ts';
import type { Expectation, Held, Json } from './sink-verifier.ts';

const entry = (value: Expectation['value'], extra: Partial<Expectation> = {}): Expectation => ({ address: 'a', label: 'idx/1', space: 'idx', value, required: true, ...extra });
const held = (value?: Held['value']): Held => (value === undefined ? { present: false, lsn: null } : { present: true, value, lsn: null });

describe('jsonEqual', () => {
  it.each<{ a: Json; b: Json; equal: boolean }>([
    { a: { x: 1, y: [1, { z: null }] }, b: { y: [1, { z: null }], x: 1 }, equal: true },
    { a: { x: 1 }, b: { x: 1, y: null }, equal: false },
    { a: [1, 2], b: [2, 1], equal: false },
    { a: '1', b: 1, equal: false },
    { a: { x: [] }, b: { x: {} }, equal: false },
  ])('$a vs $b', ({ a, b, equal }) => {
    expect(jsonEqual(a, b)).toBe(equal);
  });
});

describe('differingFields', () => {
  it('names the fields that differ or one side lacks, and skips fields holding the TOAST placeholder', () => {
    expect(differingFields({ a: 1, b: 'x', c: 3 }, { a: 1, b: 'y', d: 4 })).toEqual({ fields: ['b', 'c', 'd'], skipped: 0 });
    expect(differingFields({ id: 1, body: 'long' }, { id: 1, body: '__debezium_unavailable_value' }, { body: '__debezium_unavailable_value' })).toEqual({ fields: [], skipped: 1 });
    expect(differingFields('x', 'y')).toEqual({ fields: ['(value)'], skipped: 0 });
  });
});

describe('judge', () => {
  it.each([
    { name: 'all there', entries: [entry({ id: 1 })], held: [held({ id: 1 })], exists: true, outcome: 'match' },
    { name: 'a required entry absent', entries: [entry({ id: 1 })], held: [held()], exists: true, outcome: 'missing' },
    { name: 'an optional entry absent (TTL)', entries: [entry({ id: 1 }, { required: false })], held: [held()], exists: true, outcome: 'match' },
    { name: 'other content', entries: [entry({ id: 1, n: 2 })], held: [held({ id: 1, n: 3 })], exists: true, outcome: 'stale', fields: ['n'] },
    { name: 'a fingerprint that differs (no content to name fields by)', entries: [entry({ id: 1 })], held: [{ present: true, differs: true, lsn: null }], exists: true, outcome: 'stale' },
    { name: 'a fingerprint that matches', entries: [entry({ id: 1 })], held: [{ present: true, differs: false, lsn: null }], exists: true, outcome: 'match' },
    { name: 'missing wins over stale', entries: [entry({ id: 1 }), entry({ n: 1 }, { label: 'k2' })], held: [held({ id: 2 }), held()], exists: true, outcome: 'missing' },
    { name: 'an entry for a row that is gone', entries: [entry({ id: 1 })], held: [held({ id: 1 })], exists: false, outcome: 'extra' },
    { name: 'a row that is gone, its entry too', entries: [entry({ id: 1 })], held: [held()], exists: false, outcome: 'match' },
    { name: 'a cache key of a gone row (the application may fill it)', entries: [entry(undefined, { required: false })], held: [held('cached')], exists: false, outcome: 'match' },
  ])('$name: $outcome', ({ entries, held: h, exists, outcome, fields }) => {
    const j = judge(entries, h, exists);
    expect(j.outcome).toBe(outcome);
    if (fields) expect(j.fields).toEqual(fields);
  });

  it('counts cache entries whose content it cannot judge', () => {
    expect(judge([entry(undefined, { required: false })], [held('anything')], true)).toMatchObject({ outcome: 'match', cached: 1 });
  });
});
