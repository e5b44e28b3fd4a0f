/**
 * A worker's sinks: made from their files (each with its transforms and the
 * caller's wrapper), then the caller's extra ones; started in order before
 * anything exists on the server; stopped when the worker ends. Every list
 * here is index-aligned with buildSinks.
 */
import type { Logger } from 'pino';
import { sinkPlugin } from '../../connectors/index.ts';
import type { EventFormatConfig } from '../config/main-schema.ts';
import type { SinkConfig } from '../config/sink-schema.ts';
import { describeError, errorKind, OperatorError } from '../errors.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { RouteFilter } from '../route/router.ts';
import { createTransformChain } from '../route/transforms/transform.ts';
import type { Sink, SinkContext } from '../sink.ts';
import type { Queryable } from '../source/pg-catalog.ts';
import { createTableDescriber } from '../source/pg-table-describer.ts';
import type { RuntimeConfig, WorkerOverrides } from './source-plan.ts';
import { withTransforms } from './transformed-sink.ts';

/** The configured sinks (each wrapped if asked), then the caller's extra ones. */
export async function buildSinks(files: readonly SinkConfig[], overrides: WorkerOverrides, telemetry: Telemetry, context: SinkContext): Promise<Sink[]> {
  const configured: Sink[] = [];
  for (const s of files) {
    const sink = await createSink(s, context, telemetry);
    configured.push(overrides.wrapSink ? overrides.wrapSink(sink) : sink);
  }
  return [...configured, ...(overrides.sinks ?? [])];
}

/** Each sink's name and type, for telemetry and start errors; the caller's extra sinks are of type 'extra'. */
export function sinkTypesOf(files: readonly SinkConfig[], overrides: WorkerOverrides): { name: string; type: string }[] {
  return [...files.map((s) => ({ name: s.name, type: s.type })), ...(overrides.sinks ?? []).map((s) => ({ name: s.name, type: 'extra' }))];
}

/** What each sink routes. The snapshot state table's own changes never reach a sink, whatever the globs say. */
export function sinkRoutesOf(files: readonly SinkConfig[], overrides: WorkerOverrides, stateTable: string): RouteFilter[] {
  return [
    ...files.map((s) => ({ tables: s.tables, exclude_tables: [...s.exclude_tables, stateTable], messages: s.messages })),
    ...(overrides.sinks ?? []).map(() => ({ tables: ['*'], exclude_tables: [stateTable], messages: true })),
  ];
}

export interface SinkContextInput {
  /** The normalizer's options; their topic prefix is the sinks' too. */
  normalize: NormalizeOptions;
  /** The global envelope defaults a sink file may override. */
  format: Pick<EventFormatConfig, 'schemas_enable' | 'tombstones_on_delete'>;
  /** Where catalog look-ups go. */
  admin: Queryable;
  logger: Logger;
}

/** What every sink is made with: the event format, and catalog look-ups on `admin`. */
export function sinkContextOf({ normalize, format, admin, logger }: SinkContextInput): SinkContext {
  return {
    logger,
    topicPrefix: normalize.topicPrefix,
    normalize,
    schemasEnable: format.schemas_enable,
    tombstonesOnDelete: format.tombstones_on_delete,
    describeTable: createTableDescriber(admin),
  };
}

/** A sink from its file, its dead letters counted in the telemetry. */
export async function createSink(sink: SinkConfig, context: SinkContext, telemetry: Telemetry): Promise<Sink> {
  const created = await sinkPlugin(sink.type).create(sink, { ...context, deadLettered: (n) => void (telemetry.sink(sink.name).deadLettered += n) });
  const transform = createTransformChain(sink.transforms ?? [], { logger: context.logger, sink: sink.name, topicPrefix: context.topicPrefix });
  return withTransforms(created, transform, context);
}

export interface SinkBatching {
  maxEvents: number;
  maxBytes: number;
  lingerMs: number;
}

/** Per-sink batching, index-aligned with buildSinks: a sink file may override the global settings (`batch:`). */
export function batchingOf(files: readonly SinkConfig[], overrides: WorkerOverrides, runtime: RuntimeConfig): SinkBatching[] {
  return [...files.map((s) => sinkBatching(s, runtime)), ...(overrides.sinks ?? []).map(() => sinkBatching({}, runtime))];
}

/** One sink file's batching: its `batch:` overrides over the global runtime settings. */
export function sinkBatching(sink: object, runtime: RuntimeConfig): SinkBatching {
  const b = (sink as { batch?: { max_events?: number; max_bytes?: number; linger_ms?: number } }).batch ?? {};
  return {
    maxEvents: b.max_events ?? runtime.batch_max_events,
    maxBytes: b.max_bytes ?? runtime.batch_max_bytes,
    lingerMs: b.linger_ms ?? runtime.linger_ms,
  };
}

/**
 * Starts the sinks in order, marking each ok in the telemetry. When one
 * cannot start, those already started are stopped and its start error is
 * thrown (see sinkStartError). `types`: index-aligned, from sinkTypesOf.
 */
export async function startSinks(sinks: readonly Sink[], types: readonly { type: string }[], telemetry: Telemetry, logger: Logger): Promise<void> {
  const started: Sink[] = [];
  for (const [i, sink] of sinks.entries()) {
    try {
      await sink.start();
    } catch (err) {
      await stopSinks(started, logger);
      throw sinkStartError(sink.name, types[i]?.type ?? 'extra', err);
    }
    started.push(sink);
    telemetry.sink(sink.name).state = 'ok';
  }
}

/**
 * A sink's own operator errors carry their hint. Anything else at start (the
 * server refused or timed out) would be retried later in a running pipeline;
 * at start it stops slotline — as an unreachable PostgreSQL does — with a
 * hint, before the slot exists. `again`: what the operator runs again
 * (a replay or a drill is not a start of slotline).
 */
export function sinkStartError(name: string, type: string, err: unknown, again = 'start slotline again'): unknown {
  if (errorKind(err) === 'operator') return err;
  return new OperatorError(`sink "${name}" (${type}) cannot be reached at start: ${describeError(err)}`, {
    hint: `check that ${type} is running and that the address in the sink file is right; nothing was created in PostgreSQL, so ${again} once it is reachable`,
    cause: err,
  });
}

export async function stopSinks(sinks: readonly Sink[], logger: Logger): Promise<void> {
  for (const sink of sinks) {
    await sink.stop().catch((err) => logger.warn({ sink: sink.name, err: describeError(err) }, 'sink did not stop cleanly'));
  }
}
