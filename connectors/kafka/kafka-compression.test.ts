import { compress } from 'snappy';
import { describe, expect, it } from 'vitest';
import { unxerialSnappy, xerialSnappy } from './kafka-compression.ts';

describe('snappy in the xerial framing (what the Java producer writes)', () => {
  const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `record ${i} ünïcödé;`).join(''));

  it('starts with snappy-java\'s header and splits into 32 KiB blocks', async () => {
    const framed = await xerialSnappy(data);
    expect(framed.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
    const blocks: number[] = [];
    for (let at = 16; at < framed.length; at += 4 + framed.readInt32BE(at)) blocks.push(framed.readInt32BE(at));
    expect(blocks).toHaveLength(Math.ceil(data.length / 32768));
  });

  it('round-trips, and also reads a bare snappy block', async () => {
    expect((await unxerialSnappy(await xerialSnappy(data))).equals(data)).toBe(true);
    expect((await unxerialSnappy(await compress(data))).equals(data)).toBe(true);
    expect((await unxerialSnappy(await xerialSnappy(Buffer.alloc(0)))).length).toBe(0);
  });
});
