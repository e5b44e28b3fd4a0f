import { describe, expect, it } from 'vitest';
import { clusterFenceKey, hashTagOf, keySlot, slotTag, splitBySlot } from './redis-cluster.ts';

describe('redis cluster slots', () => {
  it.each([
    ['foo', 12182],
    ['bar', 5061],
    ['{user1000}.following', keySlot('user1000')],
    ['{}x', keySlot('{}x')], // an empty tag hashes the whole key
  ])('slot of %s', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('has a tag for every slot, and fences in their key\'s slot', () => {
    for (const slot of [0, 1, 5061, 12182, 16383]) expect(keySlot(`ckpt:{${slotTag(slot)}}`)).toBe(slot);
    for (const key of ['order:1', '{user:7}:cart', 'a{b']) expect(keySlot(clusterFenceKey('slotline:fence:', key))).toBe(keySlot(key));
    expect(hashTagOf('x{}{y}')).toBeNull();
  });

  it('splits a plan into one script per slot, each with its own checkpoint key, keeping order within a slot', () => {
    const keys = ['ckpt', 'foo', 'bar', 'f:{foo}', 'foo2'];
    const argv = ['D', 'c1', '2', 'D', 'c1', '3', 'P', 'c1', 'ch', 'm', 'S', 'c2', '2', '4', 'fv', 'val', '0'];
    const groups = splitBySlot({ keys, argv, operations: 4 }, 'ckpt');
    expect(groups.map((g) => g.slot)).toEqual([keySlot('foo'), keySlot('bar')]);
    const [foo, bar] = groups.map((g) => g.plan);
    expect(foo.keys).toEqual([`ckpt:{${slotTag(keySlot('foo'))}}`, 'foo', 'f:{foo}']);
    expect(foo.argv).toEqual(['D', 'c1', '2', 'S', 'c2', '2', '3', 'fv', 'val', '0']);
    expect(bar.argv).toEqual(['D', 'c1', '2', 'P', 'c1', 'ch', 'm']);
    expect(foo.operations + bar.operations).toBe(4);
  });
});
