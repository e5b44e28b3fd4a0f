/**
 * Turns a write's events into the arguments of the apply script
 * (redis-script.ts): which keys to delete, rows to set, messages to publish,
 * in event order, each tagged with its transaction's commit LSN.
 *
 * Rules are matched per table version (the event's TableSchemas), once: that
 * is where templates are checked against the columns the events carry (rules
 * naming exact tables were also checked at start-up, redis-template-check.ts;
 * this catches glob rules and ALTER TABLE since). A template that
 * names an unknown column is an operator error; one whose value an event does
 * not carry (NULL, no old row without REPLICA IDENTITY FULL) skips that key
 * and is warned about once per table, template and operation (not when an
 * insert lacks the old row or a delete the new one: that is their nature).
 */
import type { Logger } from 'pino';
import { OperatorError } from '../../src/errors.ts';
import { formatLsn, type Lsn } from '../../src/lsn.ts';
import { serializeValue, writeValue } from '../../src/normalize/json-converter.ts';
import { globToRegExp } from '../../src/route/router.ts';
import type { ChangeEvent, TableSchemas } from '../../src/types.ts';
import type { RedisRule } from './redis-config.ts';
import { clusterFenceKey } from './redis-cluster.ts';
import { lsnHex } from './redis-script.ts';
import { parseTemplate, renderTemplate, unknownColumns, type KeyTemplate } from '../../src/route/row-templates.ts';

interface CompiledRule {
  index: number;
  tables: RegExp[];
  invalidate: KeyTemplate[];
  publish: string | undefined;
  refresh: { key: KeyTemplate; ttl: number } | undefined;
  stream: { key: string; maxlen: string } | undefined;
}


/** The live-check tag of operations that must apply whatever the stored checkpoint (snapshot reads). */
const ALWAYS_LIVE = 'f'.repeat(16);

/**
 * Whether the checkpoint says this event was applied before. A snapshot read
 * belongs to no transaction the checkpoint can have passed: it always applies,
 * and its fence keeps it from overwriting a newer streamed change.
 */
export function appliedBefore(event: ChangeEvent, checkpoint: Lsn | null): boolean {
  return checkpoint !== null && event.op !== 'r' && event.commitLsn < checkpoint;
}
export interface PlanSettings {
  sinkName: string;
  rules: readonly RedisRule[];
  fencePrefix: string;
  /** Redis Cluster: fence keys go in their key's hash slot (redis-cluster.ts). */
  cluster?: boolean;
  /** topic_prefix, for stream keys. */
  topicPrefix: string;
  /** JsonConverter schemas.enable for stream envelopes. */
  schemasEnable: boolean;
  logger: Logger;
}

export interface Plan {
  keys: string[];
  argv: string[];
  operations: number;
}

export interface Planner {
  /** The script's KEYS and operation ARGV (after the three header arguments) for these events. */
  plan(events: readonly ChangeEvent[], checkpointKey: string): Plan;
}

export function createPlanner(settings: PlanSettings): Planner {
  const rules: CompiledRule[] = settings.rules.map((rule, index) => ({
    index,
    tables: rule.tables.map(globToRegExp),
    invalidate: rule.invalidate.map(parseTemplate),
    publish: rule.publish,
    refresh: rule.refresh ? { key: parseTemplate(rule.refresh.key), ttl: rule.refresh.ttl } : undefined,
    stream: rule.stream ? { key: rule.stream.key, maxlen: String(rule.stream.maxlen) } : undefined,
  }));
  const byTable = new WeakMap<TableSchemas, CompiledRule[]>();
  const warned = new Set<string>();
  const fenceOf = (key: string): string => (settings.cluster ? clusterFenceKey(settings.fencePrefix, key) : settings.fencePrefix + key);

  const rulesFor = (event: ChangeEvent): CompiledRule[] => {
    let found = byTable.get(event.schemas);
    if (found) return found;
    const qualified = `${event.schema}.${event.table}`;
    found = rules.filter((r) => r.tables.some((re) => re.test(qualified)));
    for (const rule of found) {
      for (const template of [...rule.invalidate, ...(rule.refresh ? [rule.refresh.key] : [])]) {
        const unknown = unknownColumns(template, event.schemas.value);
        if (unknown.length > 0) {
          const columns = (event.schemas.value.fields ?? []).map((f) => f.field).join(', ');
          throw new OperatorError(
            `sink "${settings.sinkName}": rule ${rule.index + 1}: key template ${JSON.stringify(template.text)} names column(s) ${unknown.join(', ')}, which ${qualified} does not have (columns: ${columns})`,
            { hint: 'fix the template in the sink file, or narrow the rule\'s tables', permanent: true },
          );
        }
      }
    }
    byTable.set(event.schemas, found);
    return found;
  };

  const warnMissing = (event: ChangeEvent, template: KeyTemplate): void => {
    const id = `${event.schema}.${event.table}\u0000${template.text}\u0000${event.op}`;
    if (warned.has(id)) return;
    warned.add(id);
    const needsOld = template.parts.some((p) => typeof p !== 'string' && p.source === 'before');
    settings.logger.warn(
      { table: `${event.schema}.${event.table}`, template: template.text, op: event.op, lsn: formatLsn(event.lsn) },
      needsOld && !event.before
        ? `key template needs the old row, which ${event.schema}.${event.table} does not send: that key is skipped (set REPLICA IDENTITY FULL on the table)`
        : 'key template names a value this change does not carry (NULL or unchanged TOAST): that key is skipped',
    );
  };

  return {
    plan(events, checkpointKey) {
      const keys = [checkpointKey];
      const keyIndex = new Map<string, number>([[checkpointKey, 1]]);
      const ref = (key: string): string => {
        let at = keyIndex.get(key);
        if (at === undefined) {
          keys.push(key);
          at = keys.length;
          keyIndex.set(key, at);
        }
        return String(at);
      };
      const argv: string[] = [];
      let operations = 0;
      for (const event of events) {
        if (event.op === 'm' || event.op === 't') {
          if (event.op === 't') warnOnce(settings.logger, warned, event, 'truncate: the Redis sink cannot know which keys the table had; its cache entries stay until they expire or change');
          continue;
        }
        // The script's own checkpoint test (see appliedBefore): a read is tagged to pass it.
        const tag = event.op === 'r' ? ALWAYS_LIVE : lsnHex(event.commitLsn as Lsn);
        const commit = lsnHex(event.commitLsn as Lsn);
        for (const rule of rulesFor(event)) {
          const deleted: string[] = [];
          for (const template of rule.invalidate) {
            const key = renderTemplate(template, event);
            if (key === undefined) {
              if (!naturallyAbsent(template, event)) warnMissing(event, template);
              continue;
            }
            if (deleted.includes(key)) continue;
            deleted.push(key);
            argv.push('D', tag, ref(key));
            operations++;
          }
          if (rule.refresh) {
            const key = renderTemplate(rule.refresh.key, event);
            if (key === undefined) {
              warnMissing(event, rule.refresh.key);
            } else {
              const fence = `${commit}${lsnHex(event.lsn)}`;
              if (event.op === 'd') argv.push('X', tag, ref(key), ref(fenceOf(key)), fence);
              else argv.push('S', tag, ref(key), ref(fenceOf(key)), fence, writeValue(event.schemas.value, event.after), String(rule.refresh.ttl));
              operations++;
              deleted.push(key);
            }
          }
          if (rule.stream) {
            const key = rule.stream.key.replaceAll('{prefix}', settings.topicPrefix).replaceAll('{schema}', event.schema).replaceAll('{table}', event.table);
            const value = serializeValue(event, { schemasEnable: settings.schemasEnable });
            argv.push('A', tag, ref(key), rule.stream.maxlen, event.op, formatLsn(event.lsn), value);
            operations++;
          }
          if (rule.publish) {
            const message = JSON.stringify({ table: `${event.schema}.${event.table}`, op: event.op, keys: deleted, lsn: formatLsn(event.lsn) });
            argv.push('P', tag, rule.publish, message);
            operations++;
          }
        }
      }
      return { keys, argv, operations };
    },
  };
}

/** An insert has no old row and a delete no new one: a template naming them just does not apply. */
function naturallyAbsent(template: KeyTemplate, event: ChangeEvent): boolean {
  return template.parts.some(
    (p) => typeof p !== 'string' && ((p.source === 'before' && (event.op === 'c' || event.op === 'r')) || (p.source === 'after' && event.op === 'd')),
  );
}

function warnOnce(logger: Logger, warned: Set<string>, event: ChangeEvent, message: string): void {
  const id = `${event.schema}.${event.table}\u0000${event.op}`;
  if (warned.has(id)) return;
  warned.add(id);
  logger.warn({ table: `${event.schema}.${event.table}` }, message);
}
