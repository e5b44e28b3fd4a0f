import { describe, expect, it } from 'vitest';
import { indentJson } from './console-sink.ts';

describe('indentJson', () => {
  it('indents like JSON.stringify(…, null, 2) without touching numbers or strings', () => {
    const text = '{"a":1795308357457684000,"b":[1,{"c":"x,y:{z}","d":[]}],"e":{},"f":"q\\"uo\\\\te"}';
    expect(indentJson(text)).toBe(JSON.stringify({ a: 0, b: [1, { c: 'x,y:{z}', d: [] }], e: {}, f: 'q"uo\\te' }, null, 2).replace('"a": 0', '"a": 1795308357457684000'));
  });
});
