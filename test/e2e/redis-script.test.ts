/**
 * The apply script (connectors/redis/redis-script.ts) against a real Redis:
 * the LSN fence on refresh keys and the checkpoint guard that makes replays
 * and retried writes skip what is already applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { APPLY_SCRIPT, lsnHex } from '../../connectors/redis/redis-script.ts';
import { redisUrl, uniqueName } from '../harness/context.ts';
import { redisClient } from './redis-support.ts';

describe('redis apply script', () => {
  let redis: Redis;
  const p = uniqueName('rs');
  const ckpt = `${p}:ckpt`;
  beforeAll(() => {
    redis = redisClient(redisUrl());
  });
  afterAll(() => redis?.disconnect());

  /** Runs the script: `keys` after the checkpoint key, `ops` referring to them as #2, #3, … */
  const apply = (checkpoint: bigint | null, keys: string[], ops: string[]): Promise<number> =>
    redis.eval(APPLY_SCRIPT, 1 + keys.length, ckpt, ...keys, checkpoint === null ? '' : lsnHex(checkpoint), '0', 'DEL', ...ops) as Promise<number>;
  const fence = (commit: bigint, lsn: bigint) => lsnHex(commit) + lsnHex(lsn);

  it('applies a refresh only when its LSN is newer than the key\'s fence, and a delete leaves the fence', async () => {
    const key = `${p}:order:1`;
    const keys = [key, `${p}:fence:${key}`];
    const set = (commit: bigint, value: string) => ['S', lsnHex(commit), '2', '3', fence(commit, commit - 8n), value, '0'];
    expect(await apply(null, keys, set(0x200n, 'v2'))).toBe(1);
    expect(await apply(null, keys, set(0x100n, 'v1'))).toBe(0); // older: a replay cannot put it back
    expect(await redis.get(key)).toBe('v2');
    expect(await apply(null, keys, ['X', lsnHex(0x300n), '2', '3', fence(0x300n, 0x2f0n)])).toBe(1);
    expect(await redis.exists(key)).toBe(0);
    expect(await apply(null, keys, set(0x200n, 'v2'))).toBe(0); // the fence outlives the key
    expect(await redis.exists(key)).toBe(0);
    expect(await redis.get(`${p}:fence:${key}`)).toBe(fence(0x300n, 0x2f0n));
  });

  it('skips operations of transactions below the stored checkpoint and never moves it back', async () => {
    const a = `${p}:a`;
    const b = `${p}:b`;
    await redis.mset(a, '1', b, '1');
    // Transaction committing at 0x1000, ending at 0x1100.
    expect(await apply(0x1100n, [a], ['D', lsnHex(0x1000n), '2'])).toBe(1);
    expect(await redis.get(ckpt)).toBe(lsnHex(0x1100n));
    // Its replay (same write retried after a lost reply) is skipped; a later transaction in the same write is not.
    await redis.set(a, 'recached');
    expect(await apply(0x2100n, [a, b], ['D', lsnHex(0x1000n), '2', 'D', lsnHex(0x2000n), '3'])).toBe(1);
    expect(await redis.mget(a, b)).toEqual(['recached', null]);
    expect(await apply(0x1100n, [], [])).toBe(0);
    expect(await redis.get(ckpt)).toBe(lsnHex(0x2100n));
  });
});
