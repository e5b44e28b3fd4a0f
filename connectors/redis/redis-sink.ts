/**
 * Redis sink: cache invalidation, write-through and notifications from the WAL.
 *
 * - Asks the runtime for whole transactions (Sink.wholeTransactions): a write
 *   is one apply script (redis-script.ts) holding every effect of its
 *   transactions plus this sink's checkpoint, so a crash never leaves half a
 *   transaction applied. A transaction too large for the in-flight ceiling
 *   comes in chunks; each chunk is atomic, and the checkpoint moves only with
 *   the last.
 * - The checkpoint (end LSN of the last transaction applied) makes replays
 *   after a restart, and retries of a write whose reply was lost, skip what is
 *   already applied; refresh writes are also fenced per key by LSN.
 * - Redis down or restarting: a command fails after one reconnect attempt or
 *   the request timeout, the runner retries the same write with backoff, and
 *   the checkpoint (and the slot) hold meanwhile. One write is in flight at a
 *   time, so memory stays bounded by the runtime's in-flight ceiling.
 * - PUBLISH is best-effort, as Redis Pub/Sub is: a subscriber that is away misses it.
 * - Redis Cluster: one script per hash slot, each with its slot's checkpoint
 *   (redis-cluster.ts documents the weaker guarantee).
 * - Replication (`wait.replicas`, on by default with Sentinel): Redis
 *   replicates asynchronously, so a write — checkpoint included — resolves
 *   only after WAIT says enough replicas have it; otherwise a failover could
 *   drop changes Postgres was already told to forget. A shortfall, or a
 *   reconnect between the script and WAIT, fails the write for a retry.
 */
import type { Cluster, Redis } from 'ioredis';
import { RetryableError } from '../../src/errors.ts';
import { formatLsn, type Lsn } from '../../src/lsn.ts';
import type { Sink, SinkContext } from '../../src/sink.ts';
import { checkpointKeyOf, fencePrefixOf, type RedisSinkConfig } from './redis-config.ts';
import { createRedisClient, describeTarget, waitForReplicas } from './redis-connection.ts';
import { classifyRedisError } from './redis-errors.ts';
import { splitBySlot } from './redis-cluster.ts';
import { appliedBefore, createPlanner, type Plan } from './redis-plan.ts';
import { checkTemplates } from './redis-template-check.ts';
import { APPLY_SCRIPT, describeCheckpoint, lsnHex, parseCheckpoint } from './redis-script.ts';

// ioredis flattens array arguments: a write of a large transaction has far more
// arguments than a spread call could take (the call stack would overflow).
type ApplyingRedis = (Redis | Cluster) & { slotlineApply(numKeys: number, keys: string[], header: string[], operations: string[]): Promise<number> };

export function createRedisSink(config: RedisSinkConfig, context: SinkContext): Sink {
  const logger = context.logger.child({ sink: config.name, type: 'redis' });
  const checkpointKey = checkpointKeyOf(config, context.topicPrefix);
  const planner = createPlanner({
    sinkName: config.name,
    rules: config.rules,
    fencePrefix: fencePrefixOf(config, context.topicPrefix),
    cluster: config.cluster !== undefined,
    topicPrefix: context.topicPrefix,
    schemasEnable: config.schemas_enable ?? context.schemasEnable,
    logger,
  });
  const where = describeTarget(config);
  const waitReplicas = config.cluster ? 0 : (config.wait.replicas ?? (config.sentinel ? 1 : 0));
  let client: ApplyingRedis | null = null;
  let checkpoint: Lsn | null = null;
  // Counts (re)connections: WAIT covers only what its own connection wrote.
  let connections = 0;
  let lastErrorLog = 0;
  // ioredis rejects commands with "Connection is closed." or "Reached the max
  // retries…" and reports the reason (WRONGPASS, ECONNREFUSED) only as an
  // 'error' event: keep it, so a refused password is an operator error.
  let lastConnectionError: { err: Error; at: number } | null = null;
  const classify = (err: unknown, doing: string) => {
    const direct = classifyRedisError(err, doing, config.name);
    if (direct.kind !== 'retryable' || !lastConnectionError || Date.now() - lastConnectionError.at > 30_000) return direct;
    const reason = classifyRedisError(lastConnectionError.err, doing, config.name);
    return reason.kind === 'operator' ? reason : direct;
  };

  return {
    name: config.name,
    wholeTransactions: true,
    async start() {
      await checkTemplates({ sinkName: config.name, file: config.file, rules: config.rules, describeTable: context.describeTable, logger }).catch((err) => {
        throw classify(err, 'checking key templates against the tables');
      });
      const redis = createRedisClient(config) as ApplyingRedis;
      redis.defineCommand('slotlineApply', { lua: APPLY_SCRIPT });
      // ioredis reports every failed reconnect as an 'error' event; the runner
      // logs failed writes, so these are logged at most every 10 s.
      let starting = true;
      redis.on('error', (err: Error) => {
        lastConnectionError = { err, at: Date.now() };
        // While starting, a failed connect is the start's own error, with its hint: not a warning before it.
        if (starting || Date.now() - lastErrorLog < 10_000) return;
        lastErrorLog = Date.now();
        logger.warn({ err: err.message, url: where }, 'redis connection error');
      });
      redis.on('ready', () => connections++);
      client = redis;
      try {
        await redis.connect();
        // In a cluster each hash slot has its own checkpoint, read by the scripts themselves.
        checkpoint = config.cluster ? null : parseCheckpoint(await redis.get(checkpointKey));
      } catch (err) {
        redis.disconnect();
        client = null;
        // ioredis rejects with "Connection is closed."; the reason (ECONNREFUSED…) came with the 'error' event.
        // Without one, or with a reset of a connection that was made (the server hung up with our
        // command unread, which a loaded machine turns from a close into an RST), the server hung up
        // without a Redis reply: something else listens there.
        const hungUp = new Error('the server closed the connection without a Redis reply (is it Redis? a TLS server needs rediss://)');
        const reason = lastConnectionError?.err as NodeJS.ErrnoException | undefined;
        const cause = reason === undefined ? (/^Connection is closed/.test((err as Error).message) ? hungUp : err) : reason.code === 'ECONNRESET' || reason.code === 'EPIPE' ? hungUp : reason;
        throw classify(cause, `connecting to Redis ${where}`);
      } finally {
        starting = false;
      }
      logger.info({ url: where, checkpointKey, checkpoint: describeCheckpoint(checkpoint), waitReplicas }, 'redis sink ready');
    },
    async write(events, info) {
      if (!client) throw new Error('redis sink written before start()');
      const done = checkpoint;
      // Transactions at or below the stored checkpoint were applied before a restart;
      // the script skips them too, this only saves sending them.
      const fresh = events.filter((e) => !appliedBefore(e, done));
      const last = info.commits.length > 0 ? info.commits[info.commits.length - 1].endLsn : null;
      const plan = planner.plan(fresh, checkpointKey);
      if (plan.operations === 0 && (last === null || (done !== null && last <= done))) return;
      const header = [last === null ? '' : lsnHex(last), String(config.fence_ttl), config.unlink ? 'UNLINK' : 'DEL'];
      const apply = (p: Plan) => client!.slotlineApply(p.keys.length, p.keys, header, p.argv);
      try {
        if (config.cluster) {
          await Promise.all(splitBySlot(plan, checkpointKey).map((group) => apply(group.plan)));
        } else {
          const connection = connections;
          await apply(plan);
          if (waitReplicas > 0) {
            await waitForReplicas(client as Redis, waitReplicas, config.wait.timeout_ms, config.request_timeout_ms).catch((err) => {
              // A master that lost its replicas may have just been replaced: ask the sentinels again.
              if (config.sentinel) client?.disconnect(true);
              throw err;
            });
            // A reconnect between the script and WAIT (a failover) leaves the script's
            // effects unconfirmed: retry, and the retry's WAIT covers them.
            if (connections !== connection) throw new RetryableError('the Redis connection changed before WAIT confirmed the write; it is retried');
          }
        }
      } catch (err) {
        throw classify(err, `applying ${fresh.length} change(s) from ${formatLsn(events[0].lsn)}`);
      }
      if (last !== null && (checkpoint === null || last > checkpoint)) checkpoint = last;
    },
    async stop() {
      const redis = client;
      client = null;
      if (!redis) return;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
