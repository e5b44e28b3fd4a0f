/**
 * Renders docs/config.md from the JSON Schemas (with the docs' metadata):
 * one table per section, a row per key, nested mappings as dotted keys.
 * Throws when a setting lacks a description or a default, so the rule "every
 * setting has both" (STYLE.md, habit 5) is checked each time the docs are built.
 */
import type { JsonSchema, SinkTypeDoc } from './json-schemas.ts';
import { mainFileJsonSchema, sinkCommonJsonSchema, toJsonSchema } from './json-schemas.ts';
import { transformSchemas } from './transform-schema.ts';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

export function renderConfigDocs(sinkTypes: readonly SinkTypeDoc[]): string {
  const main = mainFileJsonSchema(true);
  const props = properties(main);
  const topLevel = Object.keys(props).filter((k) => !isSection(props[k]));
  const sections = Object.keys(props).filter((k) => isSection(props[k]));

  const out: string[] = [INTRO, '## Main file', '', text(main.description), ''];
  out.push('### Top level', '', ...table(topLevel.flatMap((k) => rows(k, props[k], required(main).includes(k)))), '');
  for (const key of sections) {
    out.push(`### \`${key}\``, '', text(props[key].description), '');
    const section = objectOf(props[key])!;
    out.push(...table(Object.entries(properties(section)).flatMap(([k, v]) => rows(k, v, required(section).includes(k)))), '');
  }

  out.push('## Sink files', '', SINK_INTRO, '', '### Common keys', '');
  const common = sinkCommonJsonSchema();
  out.push(...table(Object.entries(properties(common)).flatMap(([k, v]) => rows(k, v, required(common).includes(k)))), '');
  out.push('### Transforms', '', TRANSFORMS_INTRO, '');
  for (const transform of transformSchemas) {
    const schema = toJsonSchema(transform, true);
    const { type: _type, ...options } = properties(schema);
    out.push(`#### Transform \`${(properties(schema).type as JsonSchema).const as string}\``, '', text(schema.description), '');
    if (Object.keys(options).length > 0) out.push(...table(Object.entries(options).flatMap(([k, v]) => rows(k, v, required(schema).includes(k)))), '');
  }
  for (const sinkType of [...sinkTypes].sort((a, b) => a.type.localeCompare(b.type))) {
    const schema = toJsonSchema(sinkType.configSchema, true);
    out.push(`### Sink type \`${sinkType.type}\``, '', sinkType.description, '');
    out.push(...table(Object.entries(properties(schema)).flatMap(([k, v]) => rows(k, v, required(schema).includes(k)))), '');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

function rows(key: string, node: JsonSchema, isRequired: boolean): Row[] {
  const description = text(node.description);
  if (!description) throw new Error(`config setting "${key}" has no description`);
  const row: Row = { key: `\`${key}\``, type: typeOf(node), default: defaultOf(key, node, isRequired), description };
  // A list of mappings documents its items' keys as `key[].child`.
  const itemNode = (node.items ?? {}) as JsonSchema;
  const items = node.type === 'array' && itemNode.type === 'object' ? objectOf(itemNode) : undefined;
  const object = objectOf(node) ?? items;
  if (!object) return [row];
  const stem = items ? `${key}[]` : key;
  // A node that repeats a section's keys (`sources[]` has every key of `source`) documents only its own.
  const repeated = typeof node.docRepeats === 'string' ? Object.keys(properties(objectOf(properties(mainFileJsonSchema(true))[node.docRepeats] as JsonSchema) ?? {})) : [];
  const children = Object.entries(properties(object))
    .filter(([k]) => !repeated.includes(k))
    .flatMap(([k, v]) => rows(`${stem}.${k}`, v, required(object).includes(k)));
  return [row, ...children];
}

function defaultOf(key: string, node: JsonSchema, isRequired: boolean): string {
  if (isRequired) return '**required**';
  if (typeof node.docDefault === 'string') return node.docDefault;
  if (!('default' in node)) throw new Error(`config setting "${key}" has neither a default nor "required"`);
  const value = node.default;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  return `\`${yamlText(value)}\``;
}

/** A value as it would be written in the YAML file. */
function yamlText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlText).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${yamlText(v)}`).join(', ')}}`;
  // Plain when YAML would read the text back as the same string.
  if (typeof value === 'string' && /^[\w.\-/{}*]+$/.test(value) && !/^(true|false|null|~)$/i.test(value) && Number.isNaN(Number(value))) return value;
  return JSON.stringify(value);
}

function typeOf(node: JsonSchema): string {
  if (typeof node.docType === 'string') return node.docType;
  if (Array.isArray(node.enum)) return node.enum.map((v) => String(v)).join(' | ');
  if ('const' in node) return JSON.stringify(node.const);
  const branches = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  if (branches) return branches.map(typeOf).join(' | ');
  if (Array.isArray(node.type)) return node.type.join(' | ');
  if (node.type === 'array') return `list of ${typeOf((node.items ?? {}) as JsonSchema)}`;
  if (node.type === 'object') {
    const values = node.additionalProperties;
    return node.properties || !values || typeof values !== 'object' ? 'mapping' : `map of ${typeOf(values as JsonSchema)}`;
  }
  return typeof node.type === 'string' ? node.type : 'any';
}

/** A key shown as its own section: a mapping of settings rather than a value. */
function isSection(node: JsonSchema): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

/** The mapping-with-keys form of a node, also inside `boolean | mapping` unions. */
function objectOf(node: JsonSchema): JsonSchema | undefined {
  if (node.type === 'object' && node.properties) return node;
  const branches = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  return branches?.find((b) => b.type === 'object' && b.properties);
}

function properties(node: JsonSchema): Record<string, JsonSchema> {
  return (node.properties ?? {}) as Record<string, JsonSchema>;
}

function required(node: JsonSchema): string[] {
  return (node.required ?? []) as string[];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '';
}

function table(rows: Row[]): string[] {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${cell(r.key)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`),
  ];
}

const INTRO = `# Configuration reference

<!-- Generated by src/config/generate-docs.ts from the zod schemas in src/config and connectors/*/…-config.ts. Do not edit: run \`npm run docs\`. -->

slotline reads one main file (\`config/slotline.yaml\`) and one YAML file per sink.
\`slotline.schema.json\` and \`sink.schema.json\` beside them give editors completion and checks:
start a file with \`# yaml-language-server: $schema=<path to the schema>\`.

- **Environment variables.** \`\${VAR}\` in any value is replaced by the variable, also inside a longer string;
  \`\${VAR:-default}\` gives a default for an unset or empty variable; \`$\${\` is a literal \`\${\`.
  An unset variable without a default is an error. Where a setting wants a number or a boolean,
  the replaced text is read as one (\`port: \${PGPORT}\`).
- **Sizes** are bytes, or a number with a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. \`64MiB\`.
- **Unknown keys are errors**, as are wrong types and values. Every problem of every file is reported at once,
  one line each: \`file:line:column key.path: message\`.
`;

const TRANSFORMS_INTRO = `Each entry of a sink file's \`transforms\` list has a \`type\` and that type's keys. They apply in order, to this sink's events only;
\`mask\` and \`key\` come before \`unwrap\` (Debezium applies them in the connector). What each does per sink type: [transforms.md](transforms.md).`;

const SINK_INTRO = `Each sink file describes one sink: the keys below, then the keys of its \`type\`.
The main file's \`sinks\` names the files: a directory (each \`*.yaml\` / \`*.yml\` in it, in name order) or a list of files and directories.
Sink names must be unique across all files. Table globs match \`schema.table\`: \`*\` any run of characters and \`?\` one character
(\`public.*\`, \`*.orders\`), case-sensitive; a table is routed to the sink when \`tables\` matches it and \`exclude_tables\` does not.`;
