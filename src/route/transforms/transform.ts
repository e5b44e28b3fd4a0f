/**
 * A sink's transforms: each takes one event and gives the event as this sink
 * should see it, or null to drop it. Pure per event (a warning aside), so a
 * retried write sees the same records. They run per sink, on copies: one
 * sink's transforms never change what another sink receives.
 */
import type { Logger } from 'pino';
import type { TransformConfig } from '../../config/transform-schema.ts';
import type { TableDescription, TableName } from '../../sink.ts';
import type { ChangeEvent } from '../../types.ts';
import { createFilter } from './filter.ts';
import { createMask } from './mask.ts';
import { createMessageKey } from './message-key.ts';
import { createOutbox } from './outbox.ts';
import { createRoute } from './route.ts';
import { createUnwrap } from './unwrap.ts';

export interface Transform {
  /** It writes `record` (topic, key, value) that only record-writing sinks (Kafka, console) can honour. */
  readonly needsRecords?: boolean;
  /** The event for this sink, or null to drop it. Never changes the event given. */
  apply(event: ChangeEvent): ChangeEvent | null;
  /**
   * Called once at sink start-up: checks what the config names against the
   * catalog (a column that does not exist). Throws OperatorError.
   */
  check?(describeTable: (name: TableName) => Promise<TableDescription | null>): Promise<void>;
}

export interface TransformContext {
  logger: Logger;
  /** The sink's name, for messages. */
  sink: string;
  /** `topic_prefix`, for `{prefix}` in templates. */
  topicPrefix: string;
}

export function createTransform(config: TransformConfig, context: TransformContext): Transform {
  switch (config.type) {
    case 'unwrap':
      return createUnwrap(config);
    case 'key':
      return createMessageKey(config, context);
    case 'mask':
      return createMask(config);
    case 'outbox':
      return createOutbox(config, context);
    case 'filter':
      return createFilter(config, context);
    case 'route':
      return createRoute(config, context);
  }
}

/** The transforms of one sink file as one step; null when it has none. */
export function createTransformChain(configs: readonly TransformConfig[], context: TransformContext): Transform | null {
  if (configs.length === 0) return null;
  const steps = configs.map((c) => createTransform(c, context));
  return {
    needsRecords: steps.some((s) => s.needsRecords === true),
    apply(event) {
      let out: ChangeEvent | null = event;
      for (const step of steps) {
        out = step.apply(out);
        if (out === null) return null;
      }
      return out;
    },
    async check(describeTable) {
      for (const step of steps) await step.check?.(describeTable);
    },
  };
}
