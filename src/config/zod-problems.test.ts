import { describe, expect, it } from 'vitest';
import { closeKeys, typoDistance } from './zod-problems.ts';

describe('typoDistance', () => {
  it.each([
    ['output', 'output', 0],
    ['output', 'outptu', 1], // a swap of neighbours is one edit
    ['slot', 'sloot', 1],
    ['slot', 'slt', 1],
    ['brokers', 'borkers', 1],
    ['pretty', 'pertty', 1],
    ['tables', 'talbes', 1],
    ['abc', 'ca', 3], // OSA: a swapped pair is not edited again
    ['', 'abc', 3],
  ])('%s ↔ %s = %i', (a, b, distance) => {
    expect(typoDistance(a, b)).toBe(distance);
    expect(typoDistance(b, a)).toBe(distance);
  });
});

describe('closeKeys', () => {
  const consoleKeys = ['name', 'type', 'tables', 'exclude_tables', 'messages', 'output', 'pretty', 'schemas_enable'];

  it.each([
    ['outptu', ['output']],
    ['ouptut', ['output']],
    ['prety', ['pretty']],
    ['tabels', ['tables']],
    ['exclude_tabels', ['exclude_tables']],
    ['schema_enable', ['schemas_enable']],
    ['nmae', ['name']],
  ])('%s → %j', (typo, expected) => {
    expect(closeKeys(typo, consoleKeys)).toEqual(expected);
  });

  it.each(['colour', 'out', 'outputs_all', 'typo_of_nothing'])('suggests nothing for %s', (key) => {
    expect(closeKeys(key, consoleKeys)).toEqual([]);
  });

  it('allows more edits for longer keys only', () => {
    expect(closeKeys('heartbeat_intervl_sm', ['heartbeat_interval_ms'])).toEqual(['heartbeat_interval_ms']); // 2 edits on 21 characters
    expect(closeKeys('tpye', ['type'])).toEqual(['type']);
    expect(closeKeys('tpe', ['type', 'tls'])).toEqual(['type']);
    expect(closeKeys('xyze', ['type'])).toEqual([]);
  });
});
