import { describe, expect, it } from 'vitest';
import { outerLength, parsePgArray } from './pg-array-parser.ts';

describe('parsePgArray', () => {
  const cases: [text: string, elements: (string | null)[], dimensions: number][] = [
    ['{}', [], 0],
    ['{1,2,NULL}', ['1', '2', null], 1],
    ['{"a b","c\\"d","e\\\\f",NULL,"NULL",""}', ['a b', 'c"d', 'e\\f', null, 'NULL', ''], 1],
    ['{{1,2},{3,4}}', ['1', '2', '3', '4'], 2],
    ['[0:1]={5,6}', ['5', '6'], 1],
    ['[1:1][0:1]={{7,8}}', ['7', '8'], 2],
    ['{"\\\\x01","\\\\x"}', ['\\x01', '\\x'], 1],
    ['{"{\\"a\\":1}"}', ['{"a":1}'], 1],
    ['{"2024-01-01 10:00:00+00",infinity}', ['2024-01-01 10:00:00+00', 'infinity'], 1],
    ['{null,Null}', [null, null], 1],
  ];
  it.each(cases)('%s', (text, elements, dimensions) => {
    expect(parsePgArray(text)).toEqual({ elements, dimensions });
  });

  it('reads another delimiter (box[] uses ;)', () => {
    expect(parsePgArray('{(1,1),(0,0);(2,2),(1,1)}', ';').elements).toEqual(['(1,1),(0,0)', '(2,2),(1,1)']);
  });

  it.each(['1,2', '{1,2', '{"a}'])('rejects malformed %s', (text) => {
    expect(() => parsePgArray(text)).toThrow(/malformed array/);
  });
});

describe('outerLength', () => {
  it.each([
    ['{{1,2},{3,4},{5,6}}', 3],
    ['{{{1,2},{3,4}},{{5,6},{7,8}}}', 2],
    ['[0:1][1:2]={{1,2},{3,4}}', 2],
    ['{{"{a}","}"},{"\\"",x}}', 2],
  ])('%s has %i sub-arrays', (text, n) => {
    expect(outerLength(text)).toBe(n);
  });
});
