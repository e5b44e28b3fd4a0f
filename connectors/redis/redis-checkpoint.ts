/**
 * The Redis sink's stored checkpoint, read on a short connection of its own
 * (for `slotline status`): the end LSN of the last transaction applied, kept
 * with every write in the same Lua step as the write itself.
 */
import type { StoredCheckpoint } from '../../src/sink.ts';
import { checkpointKeyOf, type RedisSinkConfig } from './redis-config.ts';
import { createRedisClient, describeTarget } from './redis-connection.ts';
import { parseCheckpoint } from './redis-script.ts';

export async function readRedisCheckpoint(config: RedisSinkConfig, topicPrefix: string): Promise<StoredCheckpoint> {
  const key = checkpointKeyOf(config, topicPrefix);
  const where = `${describeTarget(config)} key ${key}`;
  if (config.cluster) {
    return { where: `${describeTarget(config)} keys ${key}:{<tag>}`, lsn: null, note: 'Redis Cluster keeps one checkpoint per hash slot' };
  }
  const client = createRedisClient(config);
  let lastError: Error | null = null;
  client.on('error', (err: Error) => (lastError = err));
  try {
    await client.connect();
    return { where, lsn: parseCheckpoint(await client.get(key)) };
  } catch (err) {
    throw lastError ?? err;
  } finally {
    client.disconnect();
  }
}
