/**
 * The Redis sink's client: one server (`url`), Redis Cluster (`cluster`) or
 * the master behind Redis Sentinel (`sentinel`), with the sink's timeouts,
 * TLS and reconnect policy; and `WAIT` for replica acknowledgements.
 *
 * Commands fail fast while the server is away (one reconnect attempt or the
 * request timeout): the runner retries the whole write with backoff, which
 * also holds the checkpoint. With Sentinel, ioredis asks the sentinels for the
 * master on every reconnect, watches `+switch-master`, and a READONLY reply
 * (the old master, demoted mid-failover) forces a reconnect.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Command, Redis, type RedisOptions } from 'ioredis';
import { RetryableError } from '../../src/errors.ts';
import type { RedisSinkConfig } from './redis-config.ts';

export const DEFAULT_URL = 'redis://127.0.0.1:6379';

const backoff = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2_000);

const hostAndPort = (text: string) => ({ host: text.slice(0, text.lastIndexOf(':')), port: Number(text.slice(text.lastIndexOf(':') + 1)) });

/** A client for the configured deployment; not connected yet (call `connect()`). */
export function createRedisClient(config: RedisSinkConfig): Redis | Cluster {
  if (config.cluster) {
    return new Cluster(config.cluster.nodes.map(hostAndPort), { lazyConnect: true, redisOptions: redisOptions(config), clusterRetryStrategy: backoff });
  }
  if (config.sentinel) {
    const s = config.sentinel;
    return new Redis({
      ...redisOptions(config),
      sentinels: s.sentinels.map(hostAndPort),
      name: s.name,
      role: 'master',
      db: s.db,
      sentinelUsername: s.username,
      sentinelPassword: s.password,
      sentinelRetryStrategy: backoff,
      sentinelCommandTimeout: Math.min(config.request_timeout_ms, 10_000),
      failoverDetector: true,
      // A READONLY reply means the node we write to was demoted: ask the sentinels again.
      // 1 = reconnect without resending (the runner retries the write).
      reconnectOnError: (err) => (/^READONLY\b/.test(err.message) ? 1 : false),
    });
  }
  return new Redis(config.url ?? DEFAULT_URL, redisOptions(config));
}

function redisOptions(config: RedisSinkConfig): RedisOptions {
  return {
    lazyConnect: true,
    username: config.username,
    password: config.password,
    tls: tlsOptions(config.tls, config.url?.startsWith('rediss:') ?? false),
    connectTimeout: Math.min(config.request_timeout_ms, 10_000),
    commandTimeout: config.request_timeout_ms,
    maxRetriesPerRequest: 1,
    retryStrategy: backoff,
    // A restarted server may still be loading its AOF: wait for it, do not write into it.
    enableReadyCheck: true,
  };
}

function tlsOptions(tls: RedisSinkConfig['tls'], impliedByUrl: boolean): ConnectionOptions | undefined {
  if (tls === false) return impliedByUrl ? {} : undefined;
  if (tls === true) return {};
  return {
    ca: tls.ca ? readFileSync(tls.ca) : undefined,
    cert: tls.cert ? readFileSync(tls.cert) : undefined,
    key: tls.key ? readFileSync(tls.key) : undefined,
    rejectUnauthorized: tls.reject_unauthorized,
  };
}

/** Where the sink writes, for logs and messages (no password). */
export function describeTarget(config: RedisSinkConfig): string {
  if (config.cluster) return `cluster ${config.cluster.nodes.join(',')}`;
  if (config.sentinel) return `sentinel master "${config.sentinel.name}" via ${config.sentinel.sentinels.join(',')}`;
  return redactedUrl(config.url ?? DEFAULT_URL);
}

/** The URL without its password, for logs and messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * `WAIT replicas timeout` on the connection that ran the write: resolves once
 * `replicas` replicas have everything this connection wrote; a shortfall is a
 * RetryableError (the write stays applied on the master, and its retry is a
 * no-op apart from re-setting the checkpoint, which WAIT then covers). The
 * command's own timeout is the wait plus the request timeout, so a slow WAIT
 * is not cut short by `request_timeout_ms`.
 */
export async function waitForReplicas(redis: Redis, replicas: number, timeoutMs: number, requestTimeoutMs: number): Promise<void> {
  const command = new Command('WAIT', [String(replicas), String(timeoutMs)], { replyEncoding: 'utf8' });
  command.setTimeout(timeoutMs + requestTimeoutMs);
  void redis.sendCommand(command);
  const acknowledged = Number(await command.promise);
  if (acknowledged < replicas) {
    throw new RetryableError(`only ${acknowledged} of ${replicas} replica(s) acknowledged the write within ${timeoutMs} ms (wait.replicas); it is retried`);
  }
}
