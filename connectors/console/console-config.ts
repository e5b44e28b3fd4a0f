/** Keys of a `type: console` sink file: events as JSON lines, for demos and debugging. */
import { z } from 'zod';
import { flag, overrideOf } from '../../src/config/schema-parts.ts';
import type { SinkConfig } from '../../src/config/sink-schema.ts';

export const consoleConfigSchema = z
  .strictObject({
    output: z.string().min(1).default('stdout').describe('`stdout`, or the path of a file to append JSON lines to.'),
    pretty: flag(false, 'Indent the JSON over several lines instead of one line per event.'),
    schemas_enable: overrideOf(z.boolean(), 'schemas_enable', 'Override of the global `schemas_enable` for this sink.'),
  });

export type ConsoleSinkConfig = SinkConfig<typeof consoleConfigSchema>;
