/**
 * Reads a Redis sink back for `slotline verify`, rule by rule, with the sink's
 * own templates and JSON:
 * - refresh: the row's key must hold the row as the sink SETs it (JsonConverter,
 *   schemas off); with a `ttl` the entry may have expired, so an absent one is
 *   not missing. The key's fence gives the commit LSN of its last write.
 *   Extras: keys matching the template's pattern (SCAN) that no row claims and
 *   that carry a fence — a key without one was not written by slotline (or
 *   its fence expired) and is not judged.
 * - invalidate: the application fills those keys; only keys that exist can be
 *   looked at, and their content is the application's, so they are counted,
 *   not compared, and entries left behind for deleted rows cannot be told from
 *   the application's own keys.
 * - stream and publish carry changes, not state: not verified.
 */
import type { Cluster, Redis } from 'ioredis';
import { writeValue } from '../../src/normalize/json-converter.ts';
import { globToRegExp } from '../../src/route/router.ts';
import type { TableSchemas } from '../../src/types.ts';
import { fingerprint } from '../../src/verify/fingerprints.ts';
import type { Expectation, Held, Json, SinkVerifier, Unclaimed, VerifierContext } from '../../src/verify/sink-verifier.ts';
import { clusterFenceKey } from './redis-cluster.ts';
import { fencePrefixOf, type RedisSinkConfig } from './redis-config.ts';
import { createRedisClient, describeTarget } from './redis-connection.ts';
import { classifyRedisError } from './redis-errors.ts';
import { parseTemplate, renderTemplate, type KeyTemplate } from '../../src/route/row-templates.ts';

const SCAN_COUNT = 1000;

interface Pattern {
  template: KeyTemplate;
  /** SCAN MATCH glob. */
  glob: string;
  regexp: RegExp;
  /** Literal characters: the most specific pattern owns a key several match. */
  literal: number;
}

export function createRedisVerifier(config: RedisSinkConfig, context: VerifierContext): SinkVerifier {
  const rules = config.rules.map((rule) => ({
    tables: rule.tables.map(globToRegExp),
    invalidate: rule.invalidate.map(parseTemplate),
    refresh: rule.refresh ? { key: parseTemplate(rule.refresh.key), ttl: rule.refresh.ttl } : undefined,
  }));
  const patterns = new Map<string, Pattern>();
  for (const rule of rules) if (rule.refresh) patterns.set(spaceOf(rule.refresh.key), patternOf(rule.refresh.key));
  const fencePrefix = fencePrefixOf(config, context.topicPrefix);
  const fenceOf = (key: string): string => (config.cluster ? clusterFenceKey(fencePrefix, key) : fencePrefix + key);
  const placeholderCache = new WeakMap<TableSchemas, Record<string, Json>>();
  let client: Redis | Cluster | null = null;
  let unattributed = 0;
  const where = describeTarget(config);

  const call = async <T>(what: string, run: (c: Redis | Cluster) => Promise<T>): Promise<T> => {
    try {
      return await run(client!);
    } catch (err) {
      throw classifyRedisError(err, `${what} (${where})`, config.name);
    }
  };

  /** Replies of many single-key commands: one pipeline on a server, one command each on a cluster (keys in many slots). */
  const many = (what: string, commands: Array<[string, string]>): Promise<Array<string | number | null>> =>
    call(what, async (c) => {
      if (config.cluster) return Promise.all(commands.map(([cmd, key]) => (cmd === 'get' ? c.get(key) : c.exists(key))));
      const replies = (await c.pipeline(commands.map(([cmd, key]) => [cmd, key])).exec()) ?? [];
      return replies.map(([err, value]) => {
        if (err) throw err;
        return value as string | number | null;
      });
    });

  const rulesFor = (schema: string, table: string) => rules.filter((r) => r.tables.some((re) => re.test(`${schema}.${table}`)));

  return {
    async start() {
      client = createRedisClient(config);
      // The connection's own error (ECONNREFUSED…) says more than the rejected connect's "Connection is closed".
      let lastError: Error | null = null;
      client.on('error', (err: Error) => (lastError = err));
      try {
        await client.connect();
        await client.ping();
      } catch (err) {
        client.disconnect();
        client = null;
        throw classifyRedisError(lastError ?? err, `connecting to Redis ${where}`, config.name);
      }
    },
    spaces: (table) => rulesFor(table.schema, table.table).flatMap((r) => (r.refresh ? [spaceOf(r.refresh.key)] : [])),
    expect(row, toast) {
      const entries: Expectation[] = [];
      for (const rule of rulesFor(row.schema, row.table)) {
        for (const template of rule.invalidate) {
          const key = renderTemplate(template, row);
          if (key !== undefined) entries.push({ address: key, label: key, space: spaceOf(template), required: false });
        }
        if (!rule.refresh) continue;
        const key = renderTemplate(rule.refresh.key, row);
        if (key === undefined) continue;
        let placeholders = placeholderCache.get(row.schemas);
        if (placeholders === undefined) placeholderCache.set(row.schemas, (placeholders = JSON.parse(writeValue(row.schemas.value, toast)) as Record<string, Json>));
        const value = JSON.parse(writeValue(row.schemas.value, row.after)) as Json;
        entries.push({ address: key, label: key, space: spaceOf(rule.refresh.key), value, required: rule.refresh.ttl === 0, placeholders });
      }
      return entries;
    },
    async read(entries) {
      // A refresh entry (or an extra being re-read) is read with its fence; a cache key only for existence.
      const commands: Array<[string, string]> = [];
      for (const e of entries) {
        if (patterns.has(e.space)) commands.push(['get', e.address], ['get', fenceOf(e.address)]);
        else commands.push(['exists', e.address]);
      }
      const replies = await many(`reading ${entries.length} keys`, commands);
      let at = 0;
      return entries.map((e): Held => {
        if (!patterns.has(e.space)) return { present: replies[at++] === 1, lsn: null };
        const [value, fence] = [replies[at++] as string | null, replies[at++] as string | null];
        return { present: value !== null, value: value === null ? undefined : parseJson(value), lsn: commitOf(fence) };
      });
    },
    async *unclaimed(space, claimed): AsyncIterable<Unclaimed> {
      const pattern = patterns.get(space);
      if (!pattern) return;
      const nodes = config.cluster ? (client as Cluster).nodes('master') : [client as Redis];
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await call(`scanning keys ${pattern.glob}`, () => node.scan(cursor, 'MATCH', pattern.glob, 'COUNT', SCAN_COUNT));
          cursor = next;
          const mine = keys.filter((key) => !claimed(fingerprint(key)) && ownerOf(key, patterns) === space);
          if (mine.length === 0) continue;
          const fences = await many(`reading ${mine.length} fences`, mine.map((key) => ['get', fenceOf(key)]));
          for (const [i, key] of mine.entries()) {
            const lsn = commitOf(fences[i] as string | null);
            if (lsn === null) unattributed++;
            else yield { address: key, label: key, lsn };
          }
        } while (cursor !== '0');
      }
    },
    notes() {
      const notes: string[] = [];
      if (rules.some((r) => r.invalidate.length > 0)) {
        notes.push('invalidate rules: only keys that exist can be checked; the application fills them, so they are counted, not compared, and keys left behind for deleted rows cannot be told from the application\'s own');
      }
      if (rules.some((r) => (r.refresh?.ttl ?? 0) > 0)) notes.push('refresh rules with a ttl: an entry may have expired, so an absent one is not counted missing');
      if (config.rules.some((r) => r.stream || r.publish)) notes.push('stream and publish rules carry changes, not state: not verified');
      if (unattributed > 0) notes.push(`${unattributed} keys match a refresh pattern but have no fence (not written by slotline, or the fence expired): not judged`);
      return notes;
    },
    async stop() {
      client?.disconnect();
      client = null;
    },
  };
}

function spaceOf(template: KeyTemplate): string {
  return template.text;
}

function patternOf(template: KeyTemplate): Pattern {
  const literalGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
  const literalRe = (text: string): string => text.replace(/[\\^$.|+()[\]{}*?]/g, '\\$&');
  const parts = template.parts;
  return {
    template,
    glob: parts.map((p) => (typeof p === 'string' ? literalGlob(p) : '*')).join(''),
    regexp: new RegExp(`^${parts.map((p) => (typeof p === 'string' ? literalRe(p) : '.+')).join('')}$`, 's'),
    literal: parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0),
  };
}

/** The space of the most specific refresh pattern a key matches. */
function ownerOf(key: string, patterns: ReadonlyMap<string, Pattern>): string | null {
  let best: [string, Pattern] | null = null;
  for (const entry of patterns) if (entry[1].regexp.test(key) && (best === null || entry[1].literal > best[1].literal)) best = entry;
  return best?.[0] ?? null;
}

/** A fence is `<commit LSN><change LSN>`, 16 hex digits each. */
function commitOf(fence: string | null): bigint | null {
  return fence !== null && /^[0-9a-f]{32}$/.test(fence) ? BigInt(`0x${fence.slice(0, 16)}`) : null;
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}
