import { describe, expect, it } from 'vitest';
import { createFingerprintMap, createFingerprintSet, fingerprint } from './fingerprints.ts';

describe('fingerprint', () => {
  it('is a stable 53-bit integer that tells similar addresses apart', () => {
    const fps = new Set<number>();
    for (let i = 0; i < 200_000; i++) fps.add(fingerprint(`app.public.items\u0000${i}`));
    expect(fps.size).toBe(200_000);
    expect(fingerprint('a')).toBe(fingerprint('a'));
    for (const fp of [...fps].slice(0, 100)) expect(Number.isSafeInteger(fp) && fp > 0).toBe(true);
  });
});

describe('createFingerprintSet', () => {
  it('holds what was added through growth, and nothing else', () => {
    const set = createFingerprintSet(16);
    for (let i = 0; i < 50_000; i++) set.add(fingerprint(`k${i}`));
    set.add(fingerprint('k1'));
    expect(set.size).toBe(50_000);
    for (let i = 0; i < 50_000; i += 997) expect(set.has(fingerprint(`k${i}`))).toBe(true);
    expect(set.has(fingerprint('k50000'))).toBe(false);
  });
});

describe('createFingerprintMap', () => {
  it('keeps the last values set for each fingerprint through growth', () => {
    const map = createFingerprintMap(2, 16);
    for (let i = 0; i < 10_000; i++) map.set(fingerprint(`k${i}`), i, -i);
    map.set(fingerprint('k3'), 30, 31);
    expect(map.size).toBe(10_000);
    expect([map.get(fingerprint('k3'), 0), map.get(fingerprint('k3'), 1)]).toEqual([30, 31]);
    expect([map.get(fingerprint('k9999'), 0), map.get(fingerprint('k9999'), 1)]).toEqual([9999, -9999]);
    expect(map.get(fingerprint('nope'), 0)).toBeUndefined();
    let sum = 0;
    map.forEach((_, value) => (sum += value(0)));
    expect(sum).toBe((9999 * 10_000) / 2 - 3 + 30);
  });
});
