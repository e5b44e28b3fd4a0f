/**
 * Sink files: the keys every sink has, merged with the keys of its type. The
 * per-type schemas come from the connector registry (connectors/index.ts) and
 * are passed in, so src/config never imports a sink implementation.
 */
import { z } from 'zod';
import { flag } from './schema-parts.ts';
import { tableGlobSchema } from './table-glob.ts';
import { transformsSchema } from './transform-schema.ts';

export const sinkCommonSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'a sink name has 1-64 letters, digits, ".", "_" and "-", starting with a letter or digit' })
    .describe('Unique name of the sink across all sink files; it names the sink in logs, metrics and checkpoints.'),
  type: z.string().describe('Sink type: one of the types below.'),
  tables: z
    .array(tableGlobSchema)
    .default(['*.*'])
    .meta({ description: 'Globs over `schema.table` of the changes this sink receives (`*` any characters, `?` one).', docType: 'list of glob' }),
  exclude_tables: z
    .array(tableGlobSchema)
    .default([])
    .meta({ description: 'Globs of tables left out even when `tables` matches them.', docType: 'list of glob' }),
  messages: flag(true, 'Also route logical decoding messages (`pg_logical_emit_message`, op `m`).'),
  transforms: transformsSchema,
});

export type SinkCommon = z.output<typeof sinkCommonSchema>;

/** A loaded sink file: common keys, the type's keys, and the file it came from. */
export type SinkConfig<S extends z.ZodObject = z.ZodObject> = SinkCommon & z.output<S> & {
  /** Absolute path of the sink file. */
  file: string;
};

/** The full schema of one sink type's file. */
export function sinkFileSchema(type: string, typeSchema: z.ZodObject) {
  const clash = Object.keys(typeSchema.shape).find((key) => key in sinkCommonSchema.shape);
  if (clash !== undefined) {
    throw new Error(`sink type "${type}" redefines the common key "${clash}"`);
  }
  const file = sinkCommonSchema
    .extend({ type: z.literal(type).describe(`\`${type}\``), ...typeSchema.shape })
    .strict()
    .describe(typeSchema.description ?? `${type} sink`);
  // `.shape` carries the keys but not the type's cross-key rules (its
  // refinements): those run on the whole file, after its keys are valid.
  const rules = (typeSchema.def.checks ?? []) as z.core.$ZodCheck<z.output<typeof file>>[];
  return rules.length > 0 ? file.check(...rules) : file;
}

/** One schema for any sink file, discriminated by `type` (a `oneOf` in JSON Schema). */
export function sinkFileUnionSchema(sinkTypes: Record<string, z.ZodObject>) {
  const options = Object.keys(sinkTypes)
    .sort()
    .map((type) => sinkFileSchema(type, sinkTypes[type]));
  if (options.length === 0) throw new Error('no sink types registered');
  return z.discriminatedUnion('type', options as [(typeof options)[number], ...typeof options]).describe('slotline sink file.');
}
