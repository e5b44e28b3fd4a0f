import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateConfigFiles, registeredSinkTypes } from './generate-docs.ts';
import { PACKAGE_ROOT } from '../package-files.ts';

describe('generated config docs and JSON Schemas', () => {
  it('are up to date with the zod schemas (run `npm run docs` after changing a schema)', async () => {
    const files = generateConfigFiles(await registeredSinkTypes());
    expect(files.map((f) => f.path)).toEqual(['docs/config.md', 'config/slotline.schema.json', 'config/sink.schema.json']);
    for (const file of files) {
      const committed = await readFile(path.join(PACKAGE_ROOT, file.path), 'utf8').catch(() => '(missing)');
      expect(committed, `${file.path} is stale: run npm run docs`).toBe(file.text);
    }
  });

  it('document every registered sink type, with a oneOf branch per type', async () => {
    const sinkTypes = await registeredSinkTypes();
    const [docs, , sinkSchema] = generateConfigFiles(sinkTypes);
    const branches = JSON.parse(sinkSchema.text).oneOf as { properties: { type: { const: string } } }[];
    expect(branches.map((b) => b.properties.type.const)).toEqual(sinkTypes.map((t) => t.type).sort());
    for (const { type } of sinkTypes) expect(docs.text).toContain(`### Sink type \`${type}\``);
  });
});
