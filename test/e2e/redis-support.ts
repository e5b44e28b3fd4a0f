/**
 * What the Redis end-to-end tests share: a config whose only sink is a
 * `type: redis` file (written next to the main file writeConfig makes), a
 * Redis client, and a subscriber that records published messages.
 */
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { repeatUntilStopped, writeConfig, type ConfigSpec, type Load } from './support.ts';

/** Writes slotline.yaml and sinks/redis.yaml (`sinkYaml`: everything after `type: redis`); returns the main file's path. */
export async function writeRedisConfig(spec: Omit<ConfigSpec, 'brokers' | 'kafkaExtra'>, sinkYaml: string, sinkName = 'cache'): Promise<string> {
  const path = await writeConfig(spec);
  const sinks = join(dirname(path), 'sinks');
  await rm(join(sinks, 'console.yaml'));
  await writeFile(join(sinks, 'redis.yaml'), `name: ${sinkName}\ntype: redis\n${sinkYaml}\n`);
  return path;
}

export function redisClient(url: string): Redis {
  // Tests want a failing command to fail now, not to queue while Redis is away.
  return new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 200, lazyConnect: false }).on('error', () => undefined);
}

export interface Subscription {
  messages: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function subscribe(url: string, channel: string): Promise<Subscription> {
  const client = redisClient(url);
  const messages: Array<Record<string, unknown>> = [];
  client.on('message', (_channel: string, text: string) => messages.push(JSON.parse(text)));
  await client.subscribe(channel);
  return {
    messages,
    close: async () => {
      client.disconnect();
    },
  };
}

/** The sink's stored checkpoint as a bigint LSN, or null. */
export async function storedCheckpoint(client: Redis, key: string): Promise<bigint | null> {
  const text = await client.get(key);
  return text ? BigInt(`0x${text}`) : null;
}


/**
 * A write load on `public.items (id, version, seq)`: each transaction updates
 * 1–4 random rows (version + 1, seq from a sequence), or deletes one and
 * inserts it back. `seq` orders changes for "changed after" checks.
 */
export function startCacheLoad(sql: (q: string, params?: unknown[]) => Promise<any[]>, keys: number, random: () => number): Load {
  return repeatUntilStopped(async () => {
    const ids = Array.from({ length: 1 + Math.floor(random() * 4) }, () => 1 + Math.floor(random() * keys));
    if (random() < 0.1) {
      await sql(
        `WITH gone AS (DELETE FROM public.items WHERE id = $1 RETURNING id, version)
         INSERT INTO public.items SELECT id, version + 1, nextval('public.items_seq') FROM gone`,
        [ids[0]],
      );
    } else {
      await sql("UPDATE public.items SET version = version + 1, seq = nextval('public.items_seq') WHERE id = ANY($1)", [ids]);
    }
  });
}
