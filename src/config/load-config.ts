/**
 * Loads the main file and its sink files into one typed, defaults-applied
 * SlotlineConfig, or throws one ConfigError listing every problem of every
 * file in file order.
 *
 * Each file goes: read → YAML parse (syntax errors, duplicate keys) →
 * ${ENV} interpolation on the document (positions kept) → plain value →
 * zod validation, positioned through the document.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ConfigError, sortProblems } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';
import { interpolateDocument } from './interpolate.ts';
import type { Env } from './interpolate.ts';
import { mainConfigSchema } from './main-schema.ts';
import { sourceViews, type SinkSharingCheck, type SlotlineConfig } from './source-views.ts';
import { UsageError } from '../errors.ts';
import { resolveSinkFiles } from './sink-files.ts';
import { sinkCommonSchema, sinkFileSchema } from './sink-schema.ts';
import type { SinkConfig } from './sink-schema.ts';
import { indexPositions, parseYaml } from './yaml-positions.ts';
import { describeValue, validateValue } from './zod-problems.ts';
import type { ValidationContext } from './zod-problems.ts';

export type { SlotlineConfig, SinkSharingCheck };

export interface LoadConfigOptions {
  /** Sink type → schema of its type-specific keys (the connector registry's `configSchema`s). */
  sinkTypes: Record<string, z.ZodObject>;
  /** Variables for ${VAR} interpolation; process.env by default. */
  env?: Env;
  /** What a sink file serving several sources must change (connectors/index.ts, `sinkSharingProblems`). */
  sharing?: SinkSharingCheck;
  /** With `sources:`, the one to load (`--source`); required when there are two or more. */
  source?: string;
}

/** Every source of a main file: one with `source:`, each entry with `sources:`. */
export interface LoadedSources {
  /** True with `sources:`: logs, metrics and /status then name each source. */
  multi: boolean;
  sources: SlotlineConfig[];
}

/**
 * One source's configuration. With `sources:` it is the one `options.source`
 * names (or the only one); a command that serves one source refuses to guess.
 */
export async function loadConfig(mainPath: string, options: LoadConfigOptions): Promise<SlotlineConfig> {
  const { multi, sources } = await loadSources(mainPath, options);
  if (!multi) {
    if (options.source !== undefined) throw new UsageError(`--source ${options.source}: ${mainPath} has one source (\`source:\`), not a \`sources:\` list`, { hint: 'leave --source out' });
    return sources[0];
  }
  const names = sources.map((s) => s.source_name!);
  if (options.source === undefined) {
    if (sources.length === 1) return sources[0];
    throw new UsageError(`${mainPath} has ${sources.length} sources (${names.join(', ')}): say which one with --source`, { hint: `e.g. --source ${names[0]}` });
  }
  const picked = sources.find((s) => s.source_name === options.source);
  if (picked === undefined) throw new UsageError(`--source ${options.source}: ${mainPath} has no source of that name`, { hint: `the sources are ${names.join(', ')} (the names in its sources: list)` });
  return picked;
}

export async function loadSources(mainPath: string, options: LoadConfigOptions): Promise<LoadedSources> {
  const env = options.env ?? process.env;
  const problems: ConfigProblem[] = [];

  const main = await loadYamlFile(mainPath, env, 'main file');
  problems.push(...main.problems);
  const mainResult = main.value !== undefined ? validateValue(mainConfigSchema, main.value, main.ctx!) : undefined;
  if (mainResult && !mainResult.ok) problems.push(...mainResult.problems);

  const spec = mainResult?.ok ? mainResult.data.sinks : sinksSpecOf(main.raw);
  const sinkFiles = await resolveSinkFiles(mainPath, spec, (index) =>
    main.ctx ? main.ctx.positions.at(index === undefined ? ['sinks'] : ['sinks', index]) : { line: 0, column: 0 },
  );
  problems.push(...sinkFiles.problems);

  const sinks: SinkConfig[] = [];
  const sinkPositions = new Map<string, { given: string; positions: ValidationContext['positions'] }>();
  const names = new Map<string, string>();
  for (const file of sinkFiles.files) {
    const sink = await readSinkFile(file, env, options.sinkTypes);
    problems.push(...sink.problems);
    if (sink.name !== null) {
      const first = names.get(sink.name.value);
      if (first === undefined) names.set(sink.name.value, file);
      else problems.push({ file, ...sink.name.at, path: 'name', message: `duplicate sink name "${sink.name.value}" (also in ${first})` });
    }
    if (sink.config !== null) {
      sinks.push(sink.config);
      sinkPositions.set(sink.config.file, { given: file, positions: sink.positions! });
    }
  }

  const views = mainResult?.ok
    ? sourceViews({
      main: mainResult.data,
      given: { source: hasKey(main.raw, 'source'), topic_prefix: hasKey(main.raw, 'topic_prefix') },
      file: path.resolve(mainPath),
      sinks,
      mainFile: mainPath,
      mainAt: (at) => main.ctx!.positions.at(at),
      sinkAt: (sink, key) => ({ file: sinkPositions.get(sink.file)!.given, ...sinkPositions.get(sink.file)!.positions.at(key) }),
      sharing: options.sharing,
    })
    : undefined;
  if (views) problems.push(...views.problems);

  if (problems.length > 0 || !mainResult?.ok || !views) {
    throw new ConfigError(sortProblems(problems, [mainPath, ...sinkFiles.files]));
  }
  return { multi: mainResult.data.sources !== undefined, sources: views.views };
}

function hasKey(raw: unknown, key: string): boolean {
  return raw !== null && typeof raw === 'object' && Object.hasOwn(raw, key);
}

/**
 * One sink file on its own, validated as loadConfig validates the files a
 * main file lists (`slotline replay --sink` takes a file the config may not
 * list). Throws a ConfigError with every problem.
 */
export async function loadSinkFile(file: string, options: LoadConfigOptions): Promise<SinkConfig> {
  const sink = await readSinkFile(file, options.env ?? process.env, options.sinkTypes);
  if (sink.problems.length > 0 || sink.config === null) throw new ConfigError(sortProblems(sink.problems, [file]));
  return sink.config;
}

interface ReadSinkFile {
  /** The validated file; null when it has problems. */
  config: SinkConfig | null;
  /** Where its keys are written (for problems found across files); null when it cannot be read. */
  positions: ValidationContext['positions'] | null;
  /** Its `name`, where it is written (for the duplicate check across files); null when it has none. */
  name: { value: string; at: { line: number; column: number } } | null;
  problems: ConfigProblem[];
}

async function readSinkFile(file: string, env: Env, sinkTypes: Record<string, z.ZodObject>): Promise<ReadSinkFile> {
  const sink = await loadYamlFile(file, env, 'sink file');
  const problems = [...sink.problems];
  if (sink.value === undefined) return { config: null, positions: null, name: null, problems };
  const ctx = sink.ctx!;
  const raw = sink.value as Record<string, unknown>;
  const name = typeof raw.name === 'string' ? { value: raw.name, at: ctx.positions.at(['name']) } : null;

  const typeSchema = typeof raw.type === 'string' && Object.hasOwn(sinkTypes, raw.type) ? sinkTypes[raw.type] : undefined;
  if (typeSchema === undefined) {
    const known = `(known types: ${Object.keys(sinkTypes).sort().join(', ')})`;
    const given = typeof raw.type === 'string' ? JSON.stringify(raw.type) : describeValue(raw.type);
    const message = raw.type === undefined ? `required ${known}` : `unknown sink type ${given} ${known}`;
    problems.push({ file, ...ctx.positions.at(['type']), path: 'type', message });
    // Still check the common keys; the type's own keys cannot be judged.
    const common = validateValue(sinkCommonSchema.omit({ type: true }).loose(), raw, ctx);
    if (!common.ok) problems.push(...common.problems);
    return { config: null, positions: ctx.positions, name, problems };
  }
  const result = validateValue(sinkFileSchema(raw.type as string, typeSchema), raw, ctx);
  if (!result.ok) return { config: null, positions: ctx.positions, name, problems: [...problems, ...result.problems] };
  return { config: problems.length > 0 ? null : ({ ...result.data, file: path.resolve(file) } as SinkConfig), positions: ctx.positions, name, problems };
}

interface LoadedYaml {
  /** The interpolated mapping; undefined when the file cannot be validated (unreadable, syntax errors, not a mapping). */
  value: Record<string, unknown> | undefined;
  /** Whatever the file holds, even with syntax errors; undefined when unreadable. */
  raw: unknown;
  ctx: ValidationContext | undefined;
  problems: ConfigProblem[];
}

async function loadYamlFile(file: string, env: Env, role: 'main file' | 'sink file'): Promise<LoadedYaml> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { value: undefined, raw: undefined, ctx: undefined, problems: [unreadableFile(file, role, err)] };
  }
  const yaml = parseYaml(file, text);
  const interpolation = interpolateDocument(yaml, env);
  const problems = [...yaml.problems, ...interpolation.problems];
  const syntaxBroken = yaml.doc.errors.length > 0;
  const ctx: ValidationContext = { file, positions: indexPositions(yaml), interpolated: interpolation.interpolated, broken: interpolation.broken };
  let value: unknown;
  try {
    value = yaml.doc.toJS();
  } catch {
    value = null; // a document broken enough that toJS gives up; its syntax errors say why
  }
  if (syntaxBroken) return { value: undefined, raw: value, ctx, problems };
  if (value === null || value === undefined) {
    problems.push({ file, line: 1, column: 1, path: '', message: `${role} is empty: expected a mapping of settings` });
    return { value: undefined, raw: value, ctx, problems };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ file, ...ctx.positions.at([]), path: '', message: `${role} must be a mapping of settings, got ${describeValue(value)}` });
    return { value: undefined, raw: value, ctx, problems };
  }
  return { value: value as Record<string, unknown>, raw: value, ctx, problems };
}

/** A file that cannot be read: one line naming it, and a hint for its cause. */
function unreadableFile(file: string, role: 'main file' | 'sink file', err: unknown): ConfigProblem {
  const code = (err as NodeJS.ErrnoException).code;
  const where = role === 'main file'
    ? `check the path given to --config (a relative path starts at the current directory, ${process.cwd()})`
    : `sink paths in the main file's \`sinks\` are relative to its directory`;
  const [message, hint] =
    code === 'ENOENT' ? [`${role} not found`, where]
      : code === 'EISDIR' ? [`${role} is a directory`, role === 'main file' ? '--config names the main YAML file, not a directory' : where]
        : code === 'EACCES' || code === 'EPERM' ? [`cannot read ${role}: permission denied`, `make it readable by the user slotline runs as (uid ${process.getuid?.() ?? '?'})`]
          : [`cannot read ${role}: ${(err as Error).message}`, where];
  return { file, line: 0, column: 0, path: '', message, hint };
}

/**
 * The sinks setting of a main file that failed validation, so that its sink
 * files are still checked; none when the main file is unreadable or no mapping.
 */
function sinksSpecOf(raw: unknown): string | string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const spec = (raw as Record<string, unknown>).sinks;
  if (typeof spec === 'string' && spec !== '') return spec;
  if (Array.isArray(spec) && spec.length > 0 && spec.every((s) => typeof s === 'string' && s !== '')) return spec as string[];
  return spec === undefined ? 'sinks/' : [];
}
