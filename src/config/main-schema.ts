/**
 * The main file (config/slotline.yaml). Debezium-named settings keep Debezium's
 * meaning and default (shared/reference/debezium.md), written snake_case.
 */
import { z } from 'zod';
import { DEFAULT_NORMALIZE_OPTIONS } from '../normalize/options.ts';
import type { NormalizeOptions } from '../normalize/options.ts';
import { httpSchema } from './http-schema.ts';
import { count, durationMs, flag } from './schema-parts.ts';
import { sizeSchema } from './sizes.ts';
import { snapshotSchema } from './snapshot-schema.ts';
import { sourceSchema } from './source-schema.ts';
import { sourcesSchema, topicPrefixSchema } from './sources-schema.ts';

export const OPERATIONS = ['c', 'u', 'd', 't'] as const;
export type SkippableOperation = (typeof OPERATIONS)[number];

/** Debezium's `skipped.operations`: a list, `none`, or Debezium's comma string `c,d`. */
const skippedOperations = z
  .union([
    z.array(z.enum(OPERATIONS)),
    z.string().transform((text, ctx) => {
      if (text.trim() === 'none') return [];
      const ops = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = ops.find((op) => !(OPERATIONS as readonly string[]).includes(op));
      if (bad === undefined) return ops as SkippableOperation[];
      ctx.addIssue({ code: 'custom', input: text, message: `unknown operation "${bad}": expected a list of c, u, d, t, or "none"` });
      return z.NEVER;
    }),
  ])
  .transform((ops) => [...new Set(ops)])
  .prefault(['t'])
  .meta({
    description: 'Operations not to emit (c create, u update, d delete, t truncate). `[]` or `none` skips nothing. Also accepts Debezium\'s comma string `c,d`.',
    docType: 'list of c|u|d|t, or string',
  });

const runtimeSchema = z
  .strictObject({
    max_in_flight_bytes: sizeSchema(16 * 2 ** 20, 'Ceiling of event bytes read but not yet confirmed by every sink. Past it slotline stops reading and lets the slot hold the WAL.'),
    batch_max_events: count(2048, 'Most events handed to a sink in one write.'),
    batch_max_bytes: sizeSchema(4 * 2 ** 20, 'Most event bytes handed to a sink in one write.'),
    linger_ms: durationMs(5, 'How long a partial batch waits for more events before it is written.'),
    shutdown_timeout_ms: durationMs(30_000, 'On SIGTERM, how long sinks may take to flush before slotline exits anyway.', 1),
    retry: z
      .strictObject({
        initial_delay_ms: durationMs(200, 'First delay before a failed sink write is retried.', 1),
        max_delay_ms: durationMs(30_000, 'Ceiling of the exponential retry delay.', 1),
      })
      .refine((r) => r.max_delay_ms >= r.initial_delay_ms, { error: 'max_delay_ms must be >= initial_delay_ms', path: ['max_delay_ms'] })
      .prefault({})
      .describe('Backoff of retryable sink errors.'),
  })
  .prefault({})
  .describe('Batching, memory ceiling, retries and shutdown.');

const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
    format: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .describe('`json`: one JSON object per line (for log collectors); `pretty`: time, level word, message and fields, for people; `auto`: pretty when stderr is a terminal, else JSON.'),
  })
  .prefault({})
  .describe('Logging.');

const d = DEFAULT_NORMALIZE_OPTIONS;

export const mainConfigSchema = z
  .strictObject({
    source: sourceSchema.prefault({}),
    topic_prefix: topicPrefixSchema
      .optional()
      .meta({ description: 'Debezium `topic.prefix`: the stem of topic and schema names and `source.name`. Never change it once consumers exist. Required with `source`; with `sources` each source has its own.', docDefault: 'required with `source`' }),
    sources: sourcesSchema,
    sinks: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1, { error: 'list at least one sink file or directory' })])
      .default('sinks/')
      .meta({
        description: 'Sink files: a directory (each `*.yaml`/`*.yml` in it is one sink) or a list of files and directories, relative to this file.',
        docType: 'string | list of string',
      }),
    decimal_handling_mode: z.enum(['precise', 'double', 'string']).default(d.decimalHandlingMode).describe('Debezium `decimal.handling.mode`: numeric as Connect Decimal bytes, float64, or string.'),
    time_precision_mode: z.enum(['adaptive', 'adaptive_time_microseconds', 'connect']).default(d.timePrecisionMode).describe('Debezium `time.precision.mode`.'),
    binary_handling_mode: z.enum(['bytes', 'base64', 'base64-url-safe', 'hex']).default(d.binaryHandlingMode).describe('Debezium `binary.handling.mode`, for bytea and message content.'),
    interval_handling_mode: z.enum(['numeric', 'string']).default(d.intervalHandlingMode).describe('Debezium `interval.handling.mode`: microseconds, or ISO 8601 string.'),
    hstore_handling_mode: z.enum(['json', 'map']).default(d.hstoreHandlingMode).describe('Debezium `hstore.handling.mode`.'),
    money_fraction_digits: z.int().min(0).max(1000).default(d.moneyFractionDigits).describe('Debezium `money.fraction.digits`: scale of `money` values.'),
    tombstones_on_delete: flag(true, 'Debezium `tombstones.on.delete`: follow each delete with a tombstone (null value) for log compaction.'),
    schemas_enable: flag(true, 'JsonConverter `schemas.enable`: wrap keys and values as `{schema, payload}`.'),
    unavailable_value_placeholder: z.string().default(d.unavailableValuePlaceholder).describe('Debezium `unavailable.value.placeholder`: stands for an unchanged TOAST value the server did not send.'),
    debezium_compat: z
      .enum(['lossless', 'strict'])
      .default(d.debeziumCompat)
      .describe(
        '`lossless`: Debezium 3.6.1\'s events, except where Debezium leaves a column out (box, tsquery, money[], composite types, …) or loses a value (`name`, multi-dimensional arrays, NaN in numeric[], temporal array elements before 1582 or with microseconds, some unchanged TOAST values): there slotline keeps the data. '
        + '`strict`: what Debezium 3.6.1 sends, those columns left out and those values lost alike, for consumers whose schemas must match Debezium\'s; where Debezium stops (a NOT NULL column whose value it cannot convert), slotline stops too. See docs/type-mapping.md, "debezium_compat".',
      ),
    skipped_operations: skippedOperations,
    snapshot: snapshotSchema,
    runtime: runtimeSchema,
    http: httpSchema,
    log: logSchema,
  })
  .describe('slotline main configuration file.');

export type MainConfig = z.output<typeof mainConfigSchema>;

/** The normalizer's options; `database` is the captured database's name (the source knows it once connected). */
const NORMALIZE_KEYS = [
  'topic_prefix', 'decimal_handling_mode', 'time_precision_mode', 'binary_handling_mode', 'interval_handling_mode',
  'hstore_handling_mode', 'money_fraction_digits', 'unavailable_value_placeholder', 'debezium_compat',
] as const;
type NormalizeKeys = (typeof NORMALIZE_KEYS)[number];

/** The keys that say how events look: the normalizer's, and the global envelope defaults a sink file may override. */
export const EVENT_FORMAT_KEYS = [...NORMALIZE_KEYS, 'schemas_enable', 'tombstones_on_delete'] as const;
/** The topic prefix is required of a loaded source (the top level's, or its `sources:` entry's). */
export type EventFormatConfig = Omit<Pick<MainConfig, (typeof EVENT_FORMAT_KEYS)[number]>, 'topic_prefix'> & { topic_prefix: string };

export function normalizeOptionsOf(config: Pick<MainConfig, Exclude<NormalizeKeys, 'topic_prefix'>> & { topic_prefix: string }, database: string): NormalizeOptions {
  return {
    topicPrefix: config.topic_prefix,
    database,
    decimalHandlingMode: config.decimal_handling_mode,
    timePrecisionMode: config.time_precision_mode,
    binaryHandlingMode: config.binary_handling_mode,
    intervalHandlingMode: config.interval_handling_mode,
    hstoreHandlingMode: config.hstore_handling_mode,
    moneyFractionDigits: config.money_fraction_digits,
    unavailableValuePlaceholder: config.unavailable_value_placeholder,
    debeziumCompat: config.debezium_compat,
  };
}
