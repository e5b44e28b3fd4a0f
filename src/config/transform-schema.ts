/**
 * The `transforms:` list of a sink file: Debezium's record transforms, with
 * Debezium's option names in snake_case (`add.fields.prefix` → `add_fields_prefix`).
 * Implementations live in src/route/transforms/; docs/config.md and the JSON
 * Schema are generated from these schemas.
 */
import { z } from 'zod';
import { ExpressionError, parseCondition } from '../route/transforms/filter-expression.ts';
import { parseTemplate } from '../route/row-templates.ts';
import { flag, qualifiedTableName } from './schema-parts.ts';
import { tableGlobSchema } from './table-glob.ts';

/** Debezium's `delete.tombstone.handling.mode` values. */
export const DELETE_TOMBSTONE_MODES = ['drop', 'tombstone', 'rewrite', 'rewrite-with-tombstone', 'delete-to-tombstone'] as const;
export type DeleteTombstoneMode = (typeof DELETE_TOMBSTONE_MODES)[number];

/** The envelope fields `add_fields` / `add_headers` can name: top level, or (bare or `source.`-prefixed) in `source`. */
const ENVELOPE_FIELDS = ['op', 'ts_ms', 'ts_us', 'ts_ns'];
const SOURCE_FIELDS = ['version', 'connector', 'name', 'ts_ms', 'snapshot', 'db', 'sequence', 'ts_us', 'ts_ns', 'schema', 'table', 'txId', 'lsn', 'xmin', 'origin', 'origin_lsn'];
const TRANSACTION_FIELDS = ['id', 'total_order', 'data_collection_order'];

/** Why `entry` (`field`, `struct.field`, optionally `:new_name`) names no envelope field; undefined when it does. */
export function fieldReferenceProblem(entry: string): string | undefined {
  const [reference, rename, extra] = entry.split(':');
  if (extra !== undefined || rename === '') return `${JSON.stringify(entry)}: expected "field" or "field:new_name"`;
  const parts = reference.split('.');
  if (parts.length === 1 && (ENVELOPE_FIELDS.includes(parts[0]) || SOURCE_FIELDS.includes(parts[0]) || TRANSACTION_FIELDS.includes(parts[0]))) return undefined;
  if (parts.length === 2 && parts[0] === 'source' && SOURCE_FIELDS.includes(parts[1])) return undefined;
  if (parts.length === 2 && parts[0] === 'transaction' && TRANSACTION_FIELDS.includes(parts[1])) return undefined;
  return `${JSON.stringify(reference)} is no envelope field (${ENVELOPE_FIELDS.join(', ')}, source.<${SOURCE_FIELDS.join('|')}>, transaction.<${TRANSACTION_FIELDS.join('|')}>)`;
}

const fieldReference = z.string().superRefine((entry, ctx) => {
  const message = fieldReferenceProblem(entry);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: entry });
});

export const unwrapTransformSchema = z
  .strictObject({
    type: z.literal('unwrap'),
    delete_tombstone_handling_mode: z.enum(DELETE_TOMBSTONE_MODES).optional().meta({
      description: 'Debezium `delete.tombstone.handling.mode`: `drop` drops deletes and tombstones; `tombstone` keeps each delete as a record with a null value (a Kafka tombstone in the JSON sense: `null` payload); `rewrite` writes the `before` row with `__deleted: "true"` (and `"false"` on other changes); `rewrite-with-tombstone` does that and keeps the tombstone; `delete-to-tombstone` makes each delete a real tombstone (no value bytes).',
      docDefault: '`tombstone`',
    }),
    delete_handling_mode: z.enum(['drop', 'tombstone', 'rewrite']).optional().meta({
      description: 'Older Debezium form (`delete.handling.mode`, with `drop_tombstones`), mapped onto `delete_tombstone_handling_mode`: drop → `drop` (`delete-to-tombstone` with drop_tombstones false), tombstone → `tombstone`, rewrite → `rewrite` (`rewrite-with-tombstone`). Give one form, not both.',
      docDefault: 'none',
    }),
    drop_tombstones: z.boolean().optional().meta({
      description: 'Older Debezium `drop.tombstones`, with `delete_handling_mode`: drop the tombstone that follows a delete.',
      docDefault: '`true` with `delete_handling_mode`',
    }),
    add_fields: z.array(fieldReference).default([]).meta({
      description: 'Envelope fields added to the value, prefixed: `op`, `table`, `lsn`, `source.ts_ms` become `__op`, `__table`, `__lsn`, `__source_ts_ms`. `field:name` names it `<prefix>name`.',
      docType: 'list of string',
    }),
    add_fields_prefix: z.string().default('__').describe('Debezium `add.fields.prefix`.'),
    add_headers: z.array(fieldReference).default([]).meta({
      description: 'Envelope fields added as record headers (Kafka), named like `add_fields`.',
      docType: 'list of string',
    }),
    add_headers_prefix: z.string().default('__').describe('Debezium `add.headers.prefix`.'),
  })
  .describe('Debezium ExtractNewRecordState: the record value becomes the row.')
  .check((ctx) => {
    const v = ctx.value;
    if (v.delete_tombstone_handling_mode !== undefined && (v.delete_handling_mode !== undefined || v.drop_tombstones !== undefined)) {
      ctx.issues.push({ code: 'custom', input: v, path: ['delete_handling_mode'], message: 'give delete_tombstone_handling_mode or the older delete_handling_mode/drop_tombstones, not both' });
    }
    if (v.delete_handling_mode === 'tombstone' && v.drop_tombstones === false) {
      ctx.issues.push({ code: 'custom', input: v, path: ['drop_tombstones'], message: 'delete_handling_mode tombstone already keeps one null-value record per delete; use delete_tombstone_handling_mode (e.g. rewrite-with-tombstone) for a tombstone as well' });
    }
  });

/** Debezium 3's mode for the older pair (`delete.handling.mode`, `drop.tombstones`). */
export function deleteTombstoneMode(config: z.output<typeof unwrapTransformSchema>): DeleteTombstoneMode {
  if (config.delete_tombstone_handling_mode !== undefined) return config.delete_tombstone_handling_mode;
  if (config.delete_handling_mode === undefined && config.drop_tombstones === undefined) return 'tombstone';
  const dropTombstones = config.drop_tombstones ?? true;
  switch (config.delete_handling_mode ?? 'drop') {
    case 'drop':
      return dropTombstones ? 'drop' : 'delete-to-tombstone';
    case 'tombstone':
      return 'tombstone';
    case 'rewrite':
      return dropTombstones ? 'rewrite' : 'rewrite-with-tombstone';
  }
}

export const keyTransformSchema = z
  .strictObject({
    type: z.literal('key'),
    columns: z.record(qualifiedTableName, z.array(z.string().min(1)).min(1)).meta({
      description: 'Debezium `message.key.columns`: per table (`schema.table`), the columns that make the message key, e.g. `{ public.orders: [tenant_id] }`. The key (and so the Kafka partition) is built from them in table column order.',
      docType: 'map of list of column',
    }),
  })
  .describe('Debezium message.key.columns: the message key from other columns.');

const columnGlob = z.string().regex(/^[^.]+\.[^.]+\.[^.]+$/, { error: (iss) => `expected "schema.table.column" (globs * and ?), got ${JSON.stringify(iss.input)}` });

/** Java MessageDigest names Debezium accepts → Node digest names (MD2 is left out: Node's OpenSSL 3 has none). */
export const HASH_ALGORITHMS: Record<string, string> = {
  MD5: 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512',
  'SHA-512/224': 'sha512-224', 'SHA-512/256': 'sha512-256', 'SHA3-224': 'sha3-224', 'SHA3-256': 'sha3-256', 'SHA3-384': 'sha3-384', 'SHA3-512': 'sha3-512',
};

const maskRule = z
  .strictObject({
    columns: z.array(columnGlob).min(1).meta({ description: 'Globs over `schema.table.column` (`public.users.email`, `*.*.ssn`).', docType: 'list of glob' }),
    mask_with_chars: z.int().min(0).optional().meta({ description: 'Debezium `column.mask.with.N.chars`: the value becomes N `*`.', docDefault: 'none' }),
    hash: z
      .strictObject({
        algorithm: z.enum(Object.keys(HASH_ALGORITHMS) as [string, ...string[]]).describe('Java MessageDigest name, e.g. `SHA-256`.'),
        salt: z.string().describe('The salt, hashed before the value.'),
        version: z.union([z.literal(1), z.literal(2)]).default(1).describe('1: `column.mask.hash.<algorithm>.with.salt.<salt>` (hashes the Java-serialized string); 2: `column.mask.hash.v2.…` (hashes the UTF-8 text).'),
      })
      .optional()
      .meta({ description: 'Debezium `column.mask.hash`: the value becomes the lowercase hex digest of salt + value, cut to the column length (varchar(n), char(n)).', docDefault: 'none' }),
    truncate_to_chars: z.int().min(0).optional().meta({ description: 'Debezium `column.truncate.to.N.chars`: strings (and bytes) cut to N.', docDefault: 'none' }),
  })
  .check((ctx) => {
    const v = ctx.value;
    const given = [v.mask_with_chars, v.hash, v.truncate_to_chars].filter((x) => x !== undefined).length;
    if (given !== 1) ctx.issues.push({ code: 'custom', input: v, message: 'a mask rule has exactly one of mask_with_chars, hash, truncate_to_chars' });
  });

export const maskTransformSchema = z
  .strictObject({
    type: z.literal('mask'),
    rules: z.array(maskRule).min(1).meta({
      description: 'Column rules; a column takes the first rule that matches it. Masking applies to text columns (text, varchar, char, name), as Debezium\'s; the field schema of every matched column gets Debezium\'s parameter (`masked` / `truncateLength`).',
      docType: 'list of mapping',
    }),
  })
  .describe('Debezium column.mask.* / column.truncate.*: personal data masked before anything is written.');

const column = (fallback: string, description: string) => z.string().min(1).default(fallback).describe(description);

/** `column:header[:alias]`, `column:envelope[:alias]` or `column:partition`. */
const placement = z.string().regex(/^[^:\s]+:(header|envelope|partition)(:[^:\s]+)?$/, {
  error: (iss) => `expected "column:header|envelope|partition[:alias]", got ${JSON.stringify(iss.input)}`,
});

export const outboxTransformSchema = z
  .strictObject({
    type: z.literal('outbox'),
    tables: z.array(tableGlobSchema).default(['*.*']).meta({
      description: 'The outbox tables (globs over `schema.table`); other tables\' events pass unchanged, so one sink can write the outbox events and ordinary change events.',
      docType: 'list of glob',
    }),
    table_field_event_id: column('id', 'Debezium `table.field.event.id`: the column whose value becomes the `id` header.'),
    table_field_event_key: column('aggregateid', 'Debezium `table.field.event.key`: the column whose value (with its schema) becomes the record key.'),
    table_field_event_type: column('type', 'Debezium `table.field.event.type`: the event type column; place it with `table_fields_additional_placement` (e.g. `type:header:eventType`).'),
    table_field_event_payload: column('payload', 'Debezium `table.field.event.payload`: the column whose value becomes the record value.'),
    table_field_event_timestamp: z.string().min(1).optional().meta({
      description: 'Debezium `table.field.event.timestamp`: a timestamp column for the Kafka record timestamp; else the event\'s `ts_ms`.',
      docDefault: 'the event\'s `ts_ms`',
    }),
    table_field_event_schema_version: z.string().min(1).optional().meta({
      description: 'Debezium `table.field.event.schema.version`: an int column whose value becomes the value schema\'s `version` (with envelope placements).',
      docDefault: 'none',
    }),
    table_fields_additional_placement: z.array(placement).default([]).meta({
      description: 'Debezium `table.fields.additional.placement`: more columns as headers, value (envelope) fields or the partition, e.g. `[type:header:eventType, tenant:envelope]`.',
      docType: 'list of string',
    }),
    route_by_field: column('aggregatetype', 'Debezium `route.by.field`: the column whose value names the topic.'),
    route_topic_regex: z.string().default('(?<routedByValue>.*)').describe('Debezium `route.topic.regex`, matched against the whole `route_by_field` value.'),
    route_topic_replacement: z.string().default('outbox.event.{routedByValue}').describe('Debezium `route.topic.replacement`: the topic, with `{group}` (or Debezium\'s `${group}`, written `$${group}` since `${…}` is an environment variable here) for the regex\'s named groups and `$1` for numbered ones.'),
    route_tombstone_on_empty_payload: flag(false, 'Debezium `route.tombstone.on.empty.payload`: a null or blank payload becomes a tombstone.'),
    table_expand_json_payload: flag(false, 'Debezium `table.expand.json.payload`: a JSON object payload becomes a struct (schema inferred as Debezium\'s JsonSchemaData does), not a string.'),
    table_op_invalid_behavior: z.enum(['warn', 'error', 'fatal']).default('warn').describe('Debezium `table.op.invalid.behavior`: an update of an outbox row is skipped with a warning, skipped with an error log, or stops the sink.'),
  })
  .describe('Debezium Outbox Event Router: outbox rows become domain events on their own topics.')
  .check((ctx) => {
    const source = `^(?:${ctx.value.route_topic_regex})$`;
    try {
      new RegExp(source);
    } catch (err) {
      ctx.issues.push({ code: 'custom', input: ctx.value.route_topic_regex, path: ['route_topic_regex'], message: `not a regular expression: ${(err as Error).message}` });
    }
  });

export const filterTransformSchema = z
  .strictObject({
    type: z.literal('filter'),
    condition: z.string().superRefine((text, ctx) => {
      try {
        parseCondition(text);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        ctx.addIssue({ code: 'custom', input: text, message: `${err.message} in ${JSON.stringify(text)}` });
      }
    }).meta({
      description: 'Keep the event when this holds, e.g. `after.status == \'paid\' and op != \'d\'`: `op`, `schema`, `table`, `before.<column>`, `after.<column>`, literals (\'text\', numbers, true, false, null, [lists]), `== != < <= > >= in`, `and or not`, parentheses.',
      docType: 'expression',
    }),
    tables: z.array(tableGlobSchema).default(['*.*']).meta({
      description: 'The tables the condition applies to (globs over `schema.table`); other tables\' events pass. Columns it names are checked against these tables: at start-up for exact names, at the first change for globs.',
      docType: 'list of glob',
    }),
  })
  .describe('Debezium Filter: keep or drop events by a condition.');

export const routeTransformSchema = z
  .strictObject({
    type: z.literal('route'),
    topic: z.string().superRefine((text, ctx) => {
      try {
        parseTemplate(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', input: text, message: (err as Error).message });
      }
    }).meta({
      description: 'Topic (Kafka, console) or index (Elasticsearch) template: `{prefix}`, `{schema}`, `{table}`, and columns as in Redis key templates: `{col}` (key, else new row, else old row), `{key.col}`, `{before.col}`, `{after.col}`; `{{`/`}}` are literal braces. E.g. `"{prefix}.{after.tenant}.orders"`.',
      docType: 'template',
    }),
    tables: z.array(tableGlobSchema).default(['*.*']).meta({
      description: 'The tables routed this way (globs over `schema.table`); other tables keep the sink\'s template. Columns are checked against these tables: at start-up for exact names, at the first change for globs.',
      docType: 'list of glob',
    }),
  })
  .describe('Content-based routing: the topic or index from column values.');

export const transformSchemas = [unwrapTransformSchema, keyTransformSchema, maskTransformSchema, outboxTransformSchema, filterTransformSchema, routeTransformSchema] as const;

export const TRANSFORM_TYPES = transformSchemas.map((t) => t.shape.type.value);

export const transformSchema = z.discriminatedUnion('type', [...transformSchemas], {
  error: (iss) => {
    if (iss.code !== 'invalid_union') return undefined;
    const given = (iss.input as { type?: unknown } | undefined)?.type;
    return `${given === undefined ? 'missing transform type' : `unknown transform type ${JSON.stringify(given)}`}; known: ${TRANSFORM_TYPES.join(', ')}`;
  },
});

export type TransformConfig = z.output<typeof transformSchema>;
export type UnwrapConfig = z.output<typeof unwrapTransformSchema>;
export type KeyConfig = z.output<typeof keyTransformSchema>;
export type MaskConfig = z.output<typeof maskTransformSchema>;
export type OutboxConfig = z.output<typeof outboxTransformSchema>;
export type FilterConfig = z.output<typeof filterTransformSchema>;
export type RouteConfig = z.output<typeof routeTransformSchema>;

/** `mask` and `key` act where Debezium's connector does (before any SMT), so they come before `unwrap`/`outbox`. */
export const CONNECTOR_LEVEL: ReadonlySet<string> = new Set(['mask', 'key']);

export const transformsSchema = z
  .array(transformSchema)
  .default([])
  .meta({ description: 'Transforms applied in order to this sink\'s events, after routing and before the sink writes them (docs/transforms.md).', docType: 'list of transform' })
  .check((ctx) => {
    let smtSeen: string | undefined;
    ctx.value.forEach((t, i) => {
      if (!CONNECTOR_LEVEL.has(t.type)) smtSeen ??= t.type;
      else if (smtSeen !== undefined) {
        ctx.issues.push({ code: 'custom', input: t, path: [i, 'type'], message: `"${t.type}" must come before "${smtSeen}": Debezium applies it in the connector, before any record transform` });
      }
    });
  });
