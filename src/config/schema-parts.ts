/**
 * Building blocks shared by the main schema and the sink schemas. Every
 * setting carries its description and default here, because docs/config.md
 * and the JSON Schemas are generated from these schemas (STYLE.md, habit 5).
 *
 * Custom metadata keys (stripped from the JSON Schema, used by the docs):
 *   docType     the type as the docs should print it ("duration (ms)", "size")
 *   docDefault  a default that is not a literal value ("the global `schemas_enable`")
 */
import { z } from 'zod';

/** A duration in milliseconds, 0 allowed unless `min` says otherwise. */
export function durationMs(defaultMs: number, description: string, min = 0) {
  return z.int().min(min).default(defaultMs).meta({ description, docType: 'integer (ms)' });
}

export function count(defaultValue: number, description: string, min = 1) {
  return z.int().min(min).default(defaultValue).describe(description);
}

export function flag(defaultValue: boolean, description: string) {
  return z.boolean().default(defaultValue).describe(description);
}

/** An optional per-sink override of a global setting. */
export function overrideOf<T extends z.ZodType>(schema: T, globalKey: string, description: string, docType?: string) {
  return schema.optional().meta({ description, docDefault: `the global \`${globalKey}\``, ...(docType ? { docType } : {}) });
}

/**
 * A list given as a YAML list or as one comma-separated string, which is what
 * an environment variable can hold (`brokers: ${KAFKA_BROKERS}`).
 */
export function listOrCommaString<T extends z.ZodType>(item: T) {
  return z.union([
    z.array(item),
    z.string().transform((s, ctx) => {
      const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
      const out: z.output<T>[] = [];
      parts.forEach((part, i) => {
        const parsed = item.safeParse(part);
        if (parsed.success) out.push(parsed.data);
        else for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', input: part, message: `item ${i + 1}: ${issue.message}` });
      });
      return out;
    }),
  ]);
}

/** `schema.table` as written in the catalog (case-sensitive, no quoting). */
export const qualifiedTableName = z
  .string()
  .regex(/^[\p{L}_][\p{L}\p{N}_$]*\.[\p{L}_][\p{L}\p{N}_$]*$/u, { error: (iss) => `expected "schema.table", got ${JSON.stringify(iss.input)}` });

/**
 * TLS for a client connection: `true` verifies the server against the system
 * CAs, `false` is plaintext, a mapping gives files (paths relative to the
 * working directory) and verification.
 */
export function tlsUnion() {
  return z.union([
    z.boolean(),
    z.strictObject({
      ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA(s) to trust instead of the system CAs.', docDefault: 'the system CAs' }),
      cert: z.string().min(1).optional().meta({ description: 'PEM client certificate file, for mutual TLS.', docDefault: 'none' }),
      key: z.string().min(1).optional().meta({ description: 'PEM private key file of `cert`.', docDefault: 'none' }),
      reject_unauthorized: flag(true, 'Verify the server certificate and host name. Turn off only for tests.'),
    }),
  ]);
}

export function tlsSchema(description: string) {
  return tlsUnion().default(false).meta({ description, docType: 'boolean | mapping' });
}

export type TlsConfig = z.output<ReturnType<typeof tlsUnion>>;
