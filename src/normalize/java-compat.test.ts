import { describe, expect, it } from 'vitest';
import { javaDoubleToString, javaFloatToString, javaHashMapOrder, javaNameUuidFromBytes, javaStringHash } from './java-compat.ts';

// Expected strings are what a JDK 25 prints (JDK 19+ share the shortest-decimal algorithm).
describe('Double.toString / Float.toString', () => {
  const doubles: [number, string][] = [
    [0, '0.0'], [-0, '-0.0'], [1, '1.0'], [100, '100.0'], [12.34, '12.34'], [0.001, '0.001'], [0.0001, '1.0E-4'],
    [1e7, '1.0E7'], [9999999, '9999999.0'], [1e-5, '1.0E-5'], [1e21, '1.0E21'], [1e23, '1.0E23'], [2e23, '2.0E23'],
    [Number.MIN_VALUE, '4.9E-324'], [Number.MAX_VALUE, '1.7976931348623157E308'], [0.1 + 0.2, '0.30000000000000004'],
    [-123.456e-10, '-1.23456E-8'], [123456789012, '1.23456789012E11'], [1e-7, '1.0E-7'],
  ];
  it.each(doubles)('double %d → %s', (x, s) => expect(javaDoubleToString(x)).toBe(s));

  const floats: [number, string][] = [
    [1.1, '1.1'], [0.1, '0.1'], [3.4e38, '3.4E38'], [1e-7, '1.0E-7'], [16777216, '1.6777216E7'], [1e10, '1.0E10'],
    [1.401298464324817e-45, '1.4E-45'], [123.456, '123.456'], [0.3, '0.3'], [1e7, '1.0E7'], [4.5, '4.5'],
  ];
  it.each(floats)('float %d → %s', (x, s) => expect(javaFloatToString(Math.fround(x))).toBe(s));
});

describe('java.util.HashMap iteration order', () => {
  it('matches the JVM, including resizes forced by a crowded bucket', () => {
    const keys = ['a', 'x', 'b c', '10', '2', 'key1', 'Key2', 'zz', 'é', '__debezium_unavailable_value', 'aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh', 'ii', 'jj', 'kk', 'll', 'mm'];
    const order = javaHashMapOrder(keys.map(javaStringHash)).map((i) => keys[i]);
    expect(order.join('|')).toBe('key1|zz|bb|dd|ff|hh|jj|ll|__debezium_unavailable_value|10|aa|cc|ee|gg|ii|kk|mm|a|b c|é|Key2|2|x');
  });

  it('honours an initial capacity (new HashMap<>(n) of Short keys)', () => {
    expect(javaHashMapOrder([1, 3, 17, 5], 4)).toEqual([0, 2, 1, 3]);
  });

  it('String.hashCode', () => {
    expect([javaStringHash('hello'), javaStringHash('é')]).toEqual([99162322, 233]);
  });
});

it('UUID.nameUUIDFromBytes', () => {
  expect(javaNameUuidFromBytes(Buffer.from('__debezium_unavailable_value'))).toBe('b68a35a7-17ad-35b3-af2a-ae46edb4545a');
});
