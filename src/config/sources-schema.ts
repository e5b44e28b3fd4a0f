/**
 * `sources:` — several databases in one process. Each entry is a `source:`
 * section plus what makes it a pipeline of its own: a name (for logs,
 * metrics and `--source`), its topic prefix, the sinks it routes to and,
 * optionally, its own `snapshot` section.
 */
import { z } from 'zod';
import { snapshotSchema } from './snapshot-schema.ts';
import { mergeSource, sourceShape } from './source-schema.ts';

export const topicPrefixSchema = z
  .string()
  .max(249)
  .regex(/^[A-Za-z0-9._-]+$/, { error: (iss) => `invalid topic prefix ${JSON.stringify(iss.input)}: use letters, digits, ".", "_" and "-"` });

const sourceEntry = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'a source name has 1-63 lower-case letters, digits, "_" and "-", starting with a letter or digit' })
      .describe('Name of this source in logs (`source` field), metrics (`source` label), /status and `--source`.'),
    topic_prefix: topicPrefixSchema.describe('This source\'s Debezium `topic.prefix` (unique across sources).'),
    sinks: z
      .array(z.string().min(1))
      .min(1, { error: 'list at least one sink name, or omit `sinks` for every sink' })
      .optional()
      .meta({ description: 'Names of the sinks (from the sink files) this source routes to.', docDefault: 'every sink' }),
    snapshot: (snapshotSchema as unknown as z.ZodPrefault<typeof snapshotSchema>).unwrap().optional().meta({
      description: 'This source\'s `snapshot` section (the keys of the top-level one), instead of the top-level one.',
      docDefault: 'the top-level `snapshot`',
      docRepeats: 'snapshot',
    }),
    ...sourceShape,
  })
  .transform((entry, ctx) => {
    const { name, topic_prefix, sinks, snapshot, ...keys } = entry;
    return { name, topic_prefix, sinks, snapshot, source: mergeSource(keys, ctx) };
  });

export const sourcesSchema = z
  .array(sourceEntry)
  .min(1, { error: 'list at least one source, or use `source:` for one database' })
  .optional()
  .meta({
    description:
      'Several databases in one process (instead of `source` and `topic_prefix`): each entry has the keys of `source`, plus the keys below. Each source has its own slot, checkpoints and pipeline; one source failing does not stop the others. See docs/deploy.md, "Several databases".',
    docType: 'list of source',
    docRepeats: 'source',
    docDefault: 'one source: `source`',
  });

export type SourceEntry = z.output<typeof sourceEntry>;
