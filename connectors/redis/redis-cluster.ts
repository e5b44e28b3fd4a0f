/**
 * Redis Cluster support: a Lua script may only touch keys of one hash slot, so
 * a write's operations are split into one script per slot, each with its own
 * checkpoint key in that slot (`<checkpoint_key>:{<tag>}`).
 *
 * The weaker guarantee: each slot's part of a transaction is applied
 * atomically with that slot's checkpoint, but the parts of one transaction in
 * different slots are separate steps — a crash between them leaves some
 * slots applied and others not until the restart replays the transaction (the
 * applied slots then skip it by their own checkpoint). Refresh fences live in
 * their key's slot (`<fence_prefix>{<key>}` unless the key has a hash tag; a
 * key with a `}` but no hash tag cannot be wrapped so: give it a hash tag).
 */
import type { Plan } from './redis-plan.ts';

/** CRC16/XMODEM, the hash of Redis Cluster key slots. */
function crc16(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The part of a key that is hashed: the first non-empty `{…}`, else the whole key. */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key) ?? key)) % 16384;
}

let tags: string[] | null = null;
/** A short hash tag for each slot, so a checkpoint key can be placed in any slot. */
export function slotTag(slot: number): string {
  if (!tags) {
    const found: string[] = new Array(16384);
    let missing = 16384;
    for (let n = 0; missing > 0; n++) {
      const tag = n.toString(36);
      const s = crc16(Buffer.from(tag)) % 16384;
      if (found[s] === undefined) {
        found[s] = tag;
        missing--;
      }
    }
    tags = found;
  }
  return tags[slot];
}

/** The fence key of a refresh key, in the same slot. */
export function clusterFenceKey(prefix: string, key: string): string {
  return hashTagOf(key) !== null && hashTagOf(prefix + key) === hashTagOf(key) ? prefix + key : `${prefix}{${key}}`;
}

/** Operation widths in ARGV (see redis-script.ts) and where their key is. */
const WIDTH: Record<string, number> = { D: 3, S: 7, X: 5, P: 4, A: 7 };

/**
 * Splits a plan (one script's KEYS and operations) into one plan per hash slot.
 * A PUBLISH has no key: it goes with the operation before it (or the first slot).
 */
export function splitBySlot(plan: Plan, checkpointKey: string): Array<{ slot: number; plan: Plan }> {
  const groups = new Map<number, { keys: string[]; index: Map<string, number>; argv: string[]; operations: number }>();
  const group = (slot: number) => {
    let g = groups.get(slot);
    if (!g) {
      const ckpt = `${checkpointKey}:{${slotTag(slot)}}`;
      g = { keys: [ckpt], index: new Map([[ckpt, 1]]), argv: [], operations: 0 };
      groups.set(slot, g);
    }
    return g;
  };
  const ref = (g: ReturnType<typeof group>, key: string): string => {
    let at = g.index.get(key);
    if (at === undefined) {
      g.keys.push(key);
      at = g.keys.length;
      g.index.set(key, at);
    }
    return String(at);
  };
  let lastSlot: number | null = null;
  for (let i = 0; i < plan.argv.length; ) {
    const op = plan.argv[i];
    const width = WIDTH[op];
    if (width === undefined) throw new Error(`unknown operation ${op}`);
    const args = plan.argv.slice(i, i + width);
    if (op === 'P') {
      const g = group(lastSlot ?? keySlot(checkpointKey));
      g.argv.push(...args);
      g.operations++;
    } else {
      const key = plan.keys[Number(args[2]) - 1];
      const slot = keySlot(key);
      const g = group(slot);
      args[2] = ref(g, key);
      if (op === 'S' || op === 'X') args[3] = ref(g, plan.keys[Number(args[3]) - 1]);
      g.argv.push(...args);
      g.operations++;
      lastSlot = slot;
    }
    i += width;
  }
  return [...groups].map(([slot, g]) => ({ slot, plan: { keys: g.keys, argv: g.argv, operations: g.operations } }));
}
