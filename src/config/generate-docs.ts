/**
 * `npm run docs`: writes docs/config.md, config/slotline.schema.json and
 * config/sink.schema.json from the zod schemas and the connector registry.
 * The generated files are committed; generate-docs.test.ts fails when they
 * differ from what this produces, so they cannot drift from the code.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './docs-markdown.ts';
import { mainFileJsonSchema, sinkFileJsonSchema } from './json-schemas.ts';
import type { SinkTypeDoc } from './json-schemas.ts';
import { PACKAGE_ROOT } from '../package-files.ts';


export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  text: string;
}

export function generateConfigFiles(sinkTypes: readonly SinkTypeDoc[]): GeneratedFile[] {
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  return [
    { path: 'docs/config.md', text: renderConfigDocs(sinkTypes) },
    { path: 'config/slotline.schema.json', text: json(mainFileJsonSchema()) },
    { path: 'config/sink.schema.json', text: json(sinkFileJsonSchema(sinkTypes)) },
  ];
}

/** The registry's sink types; imported lazily because the registry loads every sink's client library. */
export async function registeredSinkTypes(): Promise<SinkTypeDoc[]> {
  const { sinkPlugins } = await import('../../connectors/index.ts');
  return sinkPlugins.map((p) => ({ type: p.type, description: p.description, configSchema: p.configSchema }));
}

async function main(): Promise<void> {
  for (const file of generateConfigFiles(await registeredSinkTypes())) {
    const target = path.join(PACKAGE_ROOT, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.text);
    console.log(`wrote ${file.path}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
