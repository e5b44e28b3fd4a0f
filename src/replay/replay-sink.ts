/**
 * The sink a replay writes into: one sink file, usually a shadow of a
 * production sink (another index, key prefix or topic prefix). A file that
 * the running config lists is production, and so is a file that would share a
 * production sink's own checkpoint (it would skip, move or fence what the
 * production sink keeps there): both need `--into-production`.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { sinkConfigSchemas, sinkPlugin } from '../../connectors/index.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import { loadSinkFile } from '../config/load-config.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { OperatorError } from '../errors.ts';
import type { Lsn } from '../lsn.ts';
import type { Sink } from '../sink.ts';
import type { ChangeEvent } from '../types.ts';

export interface ReplaySinkFile {
  config: SinkConfig;
  /** The production sink this file is (with --into-production), or null for a shadow sink. */
  production: string | null;
}

/**
 * `--sink`: a sink file's path, or the name of a sink the config lists (its
 * file). Refuses production unless `intoProduction` is true; `'never'` (a
 * drill) has no way to allow it, and its hints say so.
 */
export async function resolveReplaySink(given: string, config: SlotlineConfig, intoProduction: boolean | 'never'): Promise<ReplaySinkFile> {
  const named = config.sinks.find((s) => s.name === given);
  const file = existsSync(given) ? given : named?.file;
  if (file === undefined) {
    throw new OperatorError(`sink file "${given}" does not exist`, {
      hint: `give the path of a sink file — usually a shadow sink (another index, key prefix or topic prefix) — or the name of a sink of ${config.file}: ${config.sinks.map((s) => s.name).join(', ')}`,
    });
  }
  const sink = await loadSinkFile(file, { sinkTypes: sinkConfigSchemas() });
  const real = realpathSync(file);
  const listed = config.sinks.find((s) => realpathSync(s.file) === real);
  const allowed = intoProduction === true;
  if (listed) {
    if (!allowed) {
      throw new OperatorError(`sink file ${path.relative('.', file) || file} is production: ${config.file} lists it (sink "${listed.name}")`, {
        hint: intoProduction === 'never'
          ? 'a drill never writes into a production sink: give it a shadow sink file (another index, key prefix or topic prefix) that the config does not list'
          : 'replay into a shadow sink file (another index, key prefix or topic prefix); or add --into-production to write into the production sink',
      });
    }
    return { config: sink, production: listed.name };
  }
  const location = checkpointLocation(sink, config.topic_prefix);
  const sharing = location === null ? undefined : config.sinks.find((s) => checkpointLocation(s, config.topic_prefix) === location);
  if (sharing && !allowed) {
    throw new OperatorError(`sink file ${file} keeps its checkpoint where production sink "${sharing.name}" does (${location})`, {
      hint: `give the shadow sink another name (its checkpoint follows the name), or its own checkpoint_key or transactional_id${intoProduction === 'never' ? '' : '; --into-production allows it'}`,
    });
  }
  return { config: sink, production: sharing?.name ?? null };
}

function checkpointLocation(sink: SinkConfig, topicPrefix: string): string | null {
  return sinkPlugin(sink.type).checkpointLocation?.(sink, topicPrefix) ?? null;
}

/** What reached the sink: counted after each write resolved (durably accepted). */
export interface ReplayTally {
  events: number;
  transactions: number;
  /** `schema.table` (empty for logical decoding messages) → op → count. */
  tables: Map<string, Map<string, number>>;
  firstCommitLsn: Lsn | null;
  lastCommitLsn: Lsn | null;
}

export function countingSink(sink: Sink): { sink: Sink; tally: ReplayTally } {
  const tally: ReplayTally = { events: 0, transactions: 0, tables: new Map(), firstCommitLsn: null, lastCommitLsn: null };
  const count = (events: readonly ChangeEvent[]): void => {
    for (const event of events) {
      // Rows read from a snapshot (op r) belong to no transaction.
      const streamed = event.op !== 'r' && event.commitLsn !== 0n;
      // A transaction before the last one counted is a repeat (the stream resumed after a lost connection).
      if (streamed && tally.lastCommitLsn !== null && event.commitLsn < tally.lastCommitLsn) continue;
      tally.events++;
      const table = event.schema === '' ? '' : `${event.schema}.${event.table}`;
      const ops = tally.tables.get(table) ?? new Map<string, number>();
      ops.set(event.op, (ops.get(event.op) ?? 0) + 1);
      tally.tables.set(table, ops);
      // Events come in commit order: a new commit LSN is a new transaction (0 is a non-transactional message).
      if (streamed && event.commitLsn !== tally.lastCommitLsn) {
        tally.transactions++;
        tally.firstCommitLsn ??= event.commitLsn;
        tally.lastCommitLsn = event.commitLsn;
      }
    }
  };
  return {
    tally,
    sink: {
      name: sink.name,
      wholeTransactions: sink.wholeTransactions,
      writesAhead: sink.writesAhead,
      start: () => sink.start(),
      async write(events, info) {
        await sink.write(events, info);
        count(events);
      },
      stop: () => sink.stop(),
    },
  };
}
