/**
 * JSON Schemas of the main file and of a sink file, generated from the zod
 * schemas that validate them, for editors (`# yaml-language-server: $schema=…`)
 * and for the docs generator.
 */
import { z } from 'zod';
import { mainConfigSchema } from './main-schema.ts';
import { sinkCommonSchema, sinkFileUnionSchema } from './sink-schema.ts';

export type JsonSchema = { [key: string]: unknown };

/** What the docs need of a registered sink type (a subset of SinkPlugin). */
export interface SinkTypeDoc {
  type: string;
  description: string;
  configSchema: z.ZodObject;
}

/** Metadata keys only the docs read (see schema-parts.ts). */
const DOC_KEYS = ['docType', 'docDefault'];

/**
 * @param forDocs keep the docs' metadata keys; otherwise the schema holds only
 *   JSON Schema keywords
 */
export function toJsonSchema(schema: z.ZodType, forDocs: boolean): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'input',
    override: ({ jsonSchema }) => {
      const node = jsonSchema as JsonSchema;
      // z.int() bounds every integer by the safe range; that is noise to an editor.
      if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
      if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
      if (!forDocs) for (const key of DOC_KEYS) delete node[key];
    },
  }) as JsonSchema;
  return forDocs ? json : acceptEnvReferences(json);
}

/** A whole value that is one `${VAR}` or `${VAR:-default}` reference. */
const ENV_REFERENCE: JsonSchema = { type: 'string', pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$' };

/**
 * `port: ${PGPORT}` is valid (the loader converts after interpolation), so an
 * editor must not flag it: every number or boolean also accepts a reference.
 */
function acceptEnvReferences(node: JsonSchema): JsonSchema {
  for (const key of ['properties', 'additionalProperties', 'items', 'anyOf', 'oneOf']) {
    const child = node[key];
    if (Array.isArray(child)) {
      // A branch that became a bare anyOf joins its parent's list.
      node[key] = child
        .map((c) => acceptEnvReferences(c as JsonSchema))
        .flatMap((c) => (Object.keys(c).length === 1 && Array.isArray(c.anyOf) && key === 'anyOf' ? (c.anyOf as JsonSchema[]) : [c]));
    }
    else if (key === 'properties' && child && typeof child === 'object') {
      node[key] = Object.fromEntries(Object.entries(child).map(([k, v]) => [k, acceptEnvReferences(v as JsonSchema)]));
    } else if (child && typeof child === 'object') node[key] = acceptEnvReferences(child as JsonSchema);
  }
  if (node.type !== 'integer' && node.type !== 'number' && node.type !== 'boolean') return node;
  const { description, default: fallback, ...typed } = node;
  return {
    ...(description !== undefined ? { description } : {}),
    ...(fallback !== undefined ? { default: fallback } : {}),
    anyOf: [typed, ENV_REFERENCE],
  };
}

export function mainFileJsonSchema(forDocs = false): JsonSchema {
  return { ...toJsonSchema(mainConfigSchema, forDocs), title: 'slotline main configuration' };
}

export function sinkFileJsonSchema(sinkTypes: readonly SinkTypeDoc[], forDocs = false): JsonSchema {
  const union = sinkFileUnionSchema(Object.fromEntries(sinkTypes.map((t) => [t.type, t.configSchema.describe(t.description)])));
  return { ...toJsonSchema(union, forDocs), title: 'slotline sink file' };
}

export function sinkCommonJsonSchema(): JsonSchema {
  return toJsonSchema(sinkCommonSchema, true);
}
