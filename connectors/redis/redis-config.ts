/**
 * Keys of a `type: redis` sink file: cache invalidation, write-through and
 * notifications from the WAL. Each rule maps tables to effects; templates are
 * parsed here (redis-templates.ts) so a bad one fails at load time.
 */
import type { SharingProblem } from '../../src/sink.ts';
import { z } from 'zod';
import { count, durationMs, flag, overrideOf, tlsSchema } from '../../src/config/schema-parts.ts';
import type { SinkConfig } from '../../src/config/sink-schema.ts';
import { tableGlobSchema } from '../../src/config/table-glob.ts';
import { parseTemplate } from '../../src/route/row-templates.ts';

const keyTemplate = z.string().superRefine((text, ctx) => {
  try {
    parseTemplate(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', input: text, message: (err as Error).message });
  }
});

const hostPort = z.string().regex(/^[A-Za-z0-9._-]+:\d{1,5}$/, { error: 'expected host:port' });

const redisUrl = z.string().superRefine((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    ctx.addIssue({ code: 'custom', input: text, message: `invalid Redis URL ${JSON.stringify(text)}: expected redis://host:port[/db] or rediss://…` });
  }
});

const ruleSchema = z.strictObject({
  tables: z
    .array(tableGlobSchema)
    .min(1)
    .meta({ description: 'Globs over `schema.table` this rule applies to.', docType: 'list of glob' }),
  invalidate: z
    .array(keyTemplate)
    .default([])
    .meta({
      description:
        'Key templates to delete on every change of a row: `{col}` (key, else new row, else old row), `{key.col}`, `{before.col}`, `{after.col}`; `{{`/`}}` are literal braces. A key whose value the event lacks is skipped.',
      docType: 'list of key template',
    }),
  publish: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Channel to PUBLISH `{table, op, keys, lsn}` on after each change (best-effort: subscribers that are away miss it).', docDefault: 'none' }),
  refresh: z
    .strictObject({
      key: keyTemplate.meta({ description: 'Key template of the row\'s cache entry.', docType: 'key template' }),
      ttl: z.int().min(0).default(0).meta({ description: 'Expiry of the entry in seconds; 0 keeps it until the next change.', docType: 'integer (s)' }),
    })
    .optional()
    .meta({
      description: 'Write-through: SET the new row as JSON (Debezium JsonConverter form, schemas off) on insert/update, delete it on delete; LSN-fenced.',
      docDefault: 'none',
    }),
  stream: z
    .strictObject({
      key: z
        .string()
        .min(1)
        .default('slotline:{prefix}.{schema}.{table}')
        .meta({ description: 'Stream key; placeholders `{prefix}` (topic_prefix), `{schema}`, `{table}`.', docType: 'string' }),
      maxlen: count(100_000, 'Approximate length bound of each stream (XADD MAXLEN ~).'),
    })
    .optional()
    .meta({
      description:
        'Stream mode: XADD each change\'s Debezium envelope (field `value`, JsonConverter, schemas per `schemas_enable`) with fields `op` and `lsn` to a stream per table.',
      docDefault: 'none',
    }),
});

export const redisConfigSchema = z.strictObject({
  url: redisUrl
    .optional()
    .meta({ description: 'Server URL: `redis://host:port/db`, or `rediss://` for TLS. Give one of `url`, `cluster` and `sentinel`.', docType: 'URL', docDefault: '`redis://127.0.0.1:6379` when neither `cluster` nor `sentinel` is given' }),
  username: z.string().min(1).optional().meta({ description: 'ACL user name (Redis 6+).', docDefault: 'the URL\'s, else `default`' }),
  password: z.string().optional().meta({ description: 'Password; prefer `${REDIS_PASSWORD}` over writing it here.', docDefault: 'the URL\'s, else none' }),
  tls: tlsSchema('TLS to the server (also implied by a `rediss://` URL).'),
  cluster: z
    .strictObject({
      nodes: z
        .array(hostPort)
        .min(1)
        .meta({ description: 'Seed nodes, `host:port`; the rest are discovered.', docType: 'list of host:port' }),
    })
    .optional()
    .meta({
      description:
        'Redis Cluster instead of `url`\'s single server (its user, password and TLS still apply). Weaker guarantee: a transaction\'s keys in different hash slots are applied as one atomic step per slot, each with its own checkpoint key.',
      docDefault: 'none (the single server at `url`)',
    }),
  sentinel: z
    .strictObject({
      name: z.string().min(1).describe('Name of the master group the sentinels monitor (`sentinel monitor <name> …`).'),
      sentinels: z
        .array(hostPort)
        .min(1)
        .meta({ description: 'Sentinels to ask for the current master, `host:port`; list more than one, any that answers will do.', docType: 'list of host:port' }),
      username: z.string().min(1).optional().meta({ description: 'ACL user on the sentinels (not the master: that is `username`).', docDefault: 'none' }),
      password: z.string().optional().meta({ description: 'Password of the sentinels (`requirepass` in sentinel.conf); the master\'s is `password`.', docDefault: 'none' }),
      db: z.int().min(0).default(0).describe('Database number on the master.'),
    })
    .optional()
    .meta({
      description:
        'Redis Sentinel instead of `url`: the master is asked of the sentinels at connect time and again after a failover (`username`, `password` and `tls` apply to the master). Writes wait for `wait.replicas` replicas (1 by default here): see `wait` for what a failover can still lose.',
      docDefault: 'none (the single server at `url`)',
    }),
  wait: z
    .strictObject({
      replicas: z
        .int()
        .min(0)
        .optional()
        .meta({ description: 'Replicas that must acknowledge each write (Redis `WAIT`) before its changes count as applied; 0 turns it off.', docType: 'integer', docDefault: '1 with `sentinel`, else 0' }),
      timeout_ms: durationMs(5_000, 'How long a write waits for them; fewer acknowledgements fail the write, which is retried with backoff (the checkpoint and the slot hold).', 1),
    })
    .default({ timeout_ms: 5_000 })
    .meta({
      description:
        'Replication acknowledgement (not with `cluster`). Redis replicates asynchronously: without it, a failover can lose writes the old master acknowledged — invalidations, refreshes and this sink\'s checkpoint — after Postgres was told it may forget them. With it, a write counts only once `replicas` replicas have it in memory; a failover keeps it if the promoted replica is one of them (Sentinel promotes the replica with the most data; set `replicas` to the number of replicas for this to hold whichever is promoted). Replicas acknowledge what they hold in memory, not on disk. Without enough live replicas (e.g. after a failover with one replica, until the old master rejoins) writes fail and are retried: the sink stops advancing rather than risk a loss.',
      docType: 'mapping',
    }),
  rules: z
    .array(ruleSchema)
    .min(1)
    .meta({
      description:
        'What each table\'s changes do in Redis; a change matching several rules applies them all, in order. A rule has `tables` (globs), and any of `invalidate` (key templates to delete), `publish` (channel), `refresh` (`key` template, `ttl` seconds: write-through, LSN-fenced) and `stream` (`key`, `maxlen`: XADD the Debezium envelope). Templates: `{col}` (key, else new row, else old row), `{key.col}`, `{before.col}`, `{after.col}`; `{{`/`}}` are literal braces. Templates of rules naming exact tables are checked against them at start-up: an unknown column stops slotline; a value the table\'s events cannot carry (`{before.col}` without REPLICA IDENTITY FULL) is a warning, and that key is skipped. Rules with globs are checked at a table\'s first change.',
      docType: 'list of rule',
    }),
  schemas_enable: overrideOf(z.boolean(), 'schemas_enable', 'Override of the global `schemas_enable` for stream mode\'s envelopes.'),
  unlink: flag(false, 'Delete keys with UNLINK (memory freed in the background) instead of DEL.'),
  checkpoint_key: z
    .string()
    .min(1)
    .default('slotline:checkpoint:{sink}')
    .meta({ description: 'Key holding the end LSN of the last transaction applied, written in the same step; `{sink}` is the sink name, `{prefix}` the topic prefix (needed when the file serves several `sources`).', docType: 'string' }),
  fence_prefix: z
    .string()
    .default('slotline:fence:')
    .describe('Prefix of the keys holding each refresh key\'s last applied LSN (the fence against stale replays); `{prefix}` is the topic prefix (needed when the file serves several `sources` and has refresh rules).'),
  fence_ttl: z
    .int()
    .min(0)
    .default(604_800)
    .meta({ description: 'Expiry of a fence in seconds (0 = never); it must outlast any replay, i.e. any downtime of this sink.', docType: 'integer (s)' }),
  request_timeout_ms: durationMs(10_000, 'Timeout of one command; a write that times out is retried (it is idempotent).', 1),
}).superRefine((config, ctx) => {
  const given = (['url', 'cluster', 'sentinel'] as const).filter((key) => config[key] !== undefined);
  if (given.length > 1) {
    ctx.addIssue({ code: 'custom', path: [given[1]], input: config[given[1]], message: `give only one of url, cluster and sentinel (this file has ${given.join(' and ')})` });
  }
  if (config.cluster !== undefined && (config.wait.replicas ?? 0) > 0) {
    ctx.addIssue({ code: 'custom', path: ['wait', 'replicas'], input: config.wait.replicas, message: 'wait.replicas is not supported with cluster yet: leave it out (0)' });
  }
});

export type RedisRule = z.output<typeof ruleSchema>;
export type RedisSinkConfig = SinkConfig<typeof redisConfigSchema>;

/** The checkpoint key of this sink file for a source: `{sink}` and `{prefix}` filled in. */
export function checkpointKeyOf(config: Pick<RedisSinkConfig, 'checkpoint_key' | 'name'>, topicPrefix: string): string {
  return config.checkpoint_key.replaceAll('{sink}', config.name).replaceAll('{prefix}', topicPrefix);
}

/** The fence prefix of this sink file for a source: `{prefix}` filled in. */
export function fencePrefixOf(config: Pick<RedisSinkConfig, 'fence_prefix'>, topicPrefix: string): string {
  return config.fence_prefix.replaceAll('{prefix}', topicPrefix);
}

/** What a sink file serving several sources must change: one checkpoint and one set of fences per source. */
export function redisSharingProblems(config: RedisSinkConfig): SharingProblem[] {
  const problems: SharingProblem[] = [];
  if (!config.checkpoint_key.includes('{prefix}')) {
    problems.push({ path: ['checkpoint_key'], message: 'put `{prefix}` in checkpoint_key (e.g. `slotline:checkpoint:{prefix}:{sink}`): each source needs its own checkpoint' });
  }
  if (config.rules.some((rule) => rule.refresh) && !config.fence_prefix.includes('{prefix}')) {
    problems.push({ path: ['fence_prefix'], message: 'put `{prefix}` in fence_prefix (e.g. `slotline:fence:{prefix}:`): a refresh fence compares positions of one source only' });
  }
  return problems;
}
