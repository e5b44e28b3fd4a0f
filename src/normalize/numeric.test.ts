import { describe, expect, it } from 'vitest';
import { decodeDecimal, parseDecimal, parseMoney, plainString, roundHalfUp, strippedScale, twosComplementBytes, unscaledDigits } from './numeric.ts';

const b64 = (negative: boolean, digits: string): string => twosComplementBytes(negative, digits).toString('base64');

describe('twosComplementBytes (BigInteger.toByteArray)', () => {
  // Expected values printed by java.math.BigInteger.
  const cases: [value: string, base64: string][] = [
    ['0', 'AA=='], ['127', 'fw=='], ['128', 'AIA='], ['-128', 'gA=='], ['-129', '/38='], ['1234', 'BNI='], ['-1234', '+y4='],
    ['12345678901234', 'Czpzzi/y'], ['-12345678901234', '9MWMMdAO'], ['281474976710655', 'AP///////w=='], ['-281474976710656', '/wAAAAAAAA=='],
    ['99999999999999999999999999999999999999', 'SztMqFqGxHoJiiI//////w=='], ['-99999999999999999999999999999999999999', 'tMSzV6V5O4X2dd3AAAAAAQ=='],
  ];
  it.each(cases)('%s', (value, base64) => {
    const negative = value.startsWith('-');
    expect(b64(negative, negative ? value.slice(1) : value)).toBe(base64);
    expect(decodeDecimal(twosComplementBytes(negative, negative ? value.slice(1) : value), 0)).toBe(value);
  });
});

describe('decimal text', () => {
  it('parses sign, digits and exponents', () => {
    expect(parseDecimal('-012.340')).toEqual({ negative: true, int: '12', frac: '340' });
    expect(parseDecimal('1.5e3')).toEqual({ negative: false, int: '1500', frac: '' });
    expect(parseDecimal('15e-3')).toEqual({ negative: false, int: '0', frac: '015' });
    expect(parseDecimal('NaN')).toBe('NaN');
    expect(() => parseDecimal('1.2.3')).toThrow();
  });

  it('sets the scale without rounding, as BigDecimal.setScale(s) does', () => {
    expect(unscaledDigits({ negative: false, int: '12', frac: '3' }, 2)).toBe('1230');
    expect(unscaledDigits({ negative: false, int: '12', frac: '300' }, 2)).toBe('1230');
    expect(() => unscaledDigits({ negative: false, int: '12', frac: '345' }, 2)).toThrow(/rounding/);
    expect(unscaledDigits({ negative: false, int: '1200', frac: '' }, -2)).toBe('12');
  });

  it('strips trailing fraction zeros for VariableScaleDecimal, never below scale 0', () => {
    expect(strippedScale({ negative: false, int: '12', frac: '340' })).toEqual({ digits: '1234', scale: 2 });
    expect(strippedScale({ negative: false, int: '1200', frac: '' })).toEqual({ digits: '1200', scale: 0 });
  });

  it('prints plain strings like toPlainString, without negative zero', () => {
    expect(plainString({ negative: true, int: '0', frac: '50' })).toBe('-0.50');
    expect(plainString({ negative: true, int: '0', frac: '00' })).toBe('0.00');
    expect(decodeDecimal(twosComplementBytes(true, '1234'), 2)).toBe('-12.34');
  });
});

describe('money', () => {
  it('reads lc_monetary=C output and rounds half up to the fraction digits', () => {
    expect(parseMoney('-$1,234,567.89')).toEqual({ negative: true, int: '1234567', frac: '89' });
    expect(parseMoney('($1.50)').negative).toBe(true);
    expect(roundHalfUp({ negative: false, int: '1', frac: '505' }, 2)).toEqual({ negative: false, int: '1', frac: '51' });
    expect(roundHalfUp({ negative: false, int: '9', frac: '5' }, 0)).toEqual({ negative: false, int: '10', frac: '' });
  });
});
