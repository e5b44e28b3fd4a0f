/**
 * Redis in the conformance suite: a private server with a password and
 * `appendonly yes` (it is stopped for the outage, and what it held must
 * survive that), a write-through rule per run keeping `<prefix>:item:{id}`,
 * and the run's own checkpoint key and fence prefix.
 */
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../harness/redis.ts';
import { redisClient } from '../../e2e/redis-support.ts';
import type { SinkAdapter } from '../adapter.ts';
import type { Run } from '../run.ts';

const PASSWORD = 'conformance-secret';

export function redisAdapter(): SinkAdapter {
  let server: RedisServer;
  let client: Redis;
  const sinkYaml = (run: Run, password: string): string => `url: ${server.url}
password: ${password}
request_timeout_ms: 1000
checkpoint_key: "${run.prefix}:checkpoint"
fence_prefix: "${run.prefix}:fence:"
rules:
  - tables: ["public.items"]
    refresh: { key: "${run.prefix}:item:{id}" }`;

  return {
    type: 'redis',
    async start() {
      server = await startRedis({ appendOnly: true, args: ['--requirepass', PASSWORD] });
      client = redisClient(server.url.replace('redis://', `redis://:${PASSWORD}@`));
    },
    async close() {
      client?.disconnect();
      await server?.close();
    },
    sinkYaml: (run) => sinkYaml(run, PASSWORD),
    async read(run) {
      const keys = await client.keys(`${run.prefix}:item:*`);
      const values = keys.length === 0 ? [] : await client.mget(...keys);
      const rows = new Map<number, number>();
      keys.forEach((key, i) => {
        if (values[i] !== null) rows.set(Number(key.slice(key.lastIndexOf(':') + 1)), JSON.parse(values[i]!).seq);
      });
      return { rows };
    },
    break: () => server.stop(),
    restore: () => server.start(),
    // A refresh key takes any row: nothing is refused per record.
    badRecord: null,
    operatorError: {
      sinkYaml: (run) => sinkYaml(run, 'wrong-password'),
      message: /refused the credentials: WRONGPASS/,
      hint: /check username\/password/,
    },
  };
}
