/**
 * The set of addresses the rows claim, for finding extra entries: a 53-bit
 * fingerprint per address in an open-addressing table of doubles, 16 bytes
 * per row at most (the table is at most half full) instead of the address
 * strings; and the same with a few numbers per fingerprint (what a Kafka
 * topic holds per key). Two addresses share a fingerprint with a probability of about
 * n² / 2⁵⁴ (5·10⁻⁵ for a million rows); a shared one can only hide an extra
 * entry, never invent one.
 */

/** A 53-bit hash of a string (two 32-bit multiply-xorshift lanes, mixed), never 0. */
export function fingerprint(text: string): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x9e3779b1);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  const value = (b & 0x1fffff) * 0x100000000 + (a >>> 0);
  return value === 0 ? 1 : value;
}

export interface FingerprintSet {
  add(fp: number): void;
  has(fp: number): boolean;
  readonly size: number;
}

/** Fingerprints with `columns` numbers each (open addressing: 8 bytes per column and slot, at most half the slots in use). */
export interface FingerprintMap {
  set(fp: number, ...values: number[]): void;
  /** One value of fp, undefined when fp is not in the map. */
  get(fp: number, column: number): number | undefined;
  has(fp: number): boolean;
  /** Every fingerprint and a reader of its values. */
  forEach(visit: (fp: number, value: (column: number) => number) => void): void;
  readonly size: number;
}

export function createFingerprintSet(initialCapacity = 1 << 16): FingerprintSet {
  const map = createFingerprintMap(0, initialCapacity);
  return {
    add: (fp) => map.set(fp),
    has: (fp) => map.has(fp),
    get size() {
      return map.size;
    },
  };
}

export function createFingerprintMap(columns: number, initialCapacity = 1 << 16): FingerprintMap {
  let keys = new Float64Array(powerOfTwo(initialCapacity));
  let values = new Float64Array(keys.length * columns);
  let size = 0;

  /** The slot of fp in `table`: where it is, or the empty slot where it would go. */
  const slotOf = (table: Float64Array, fp: number): number => {
    const mask = table.length - 1;
    // The low bits of the fingerprint are as good as any hash of it.
    let i = fp % table.length;
    while (table[i] !== 0 && table[i] !== fp) i = (i + 1) & mask;
    return i;
  };

  const grow = (): void => {
    const biggerKeys = new Float64Array(keys.length * 2);
    const biggerValues = new Float64Array(biggerKeys.length * columns);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const at = slotOf(biggerKeys, keys[i]);
      biggerKeys[at] = keys[i];
      biggerValues.set(values.subarray(i * columns, (i + 1) * columns), at * columns);
    }
    keys = biggerKeys;
    values = biggerValues;
  };

  return {
    set(fp, ...row) {
      if ((size + 1) * 2 > keys.length) grow();
      const at = slotOf(keys, fp);
      if (keys[at] === 0) {
        keys[at] = fp;
        size++;
      }
      for (let c = 0; c < columns; c++) values[at * columns + c] = row[c] ?? 0;
    },
    get(fp, column) {
      const at = slotOf(keys, fp);
      return keys[at] === 0 ? undefined : values[at * columns + column];
    },
    has: (fp) => keys[slotOf(keys, fp)] !== 0,
    forEach(visit) {
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] !== 0) visit(keys[i], (c) => values[i * columns + c]);
      }
    },
    get size() {
      return size;
    },
  };
}

function powerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}
