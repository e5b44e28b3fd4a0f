/**
 * From a validated main file and its sink files to one config per source:
 * what each pipeline is started with. With `source:` that is the file itself;
 * with `sources:` each entry gets the shared settings, its own connection,
 * slot, topic prefix and snapshot section, and the sinks it routes to.
 *
 * Checked here, across files: the two forms are not mixed, names and topic
 * prefixes are unique, two sources never read one slot, every routed sink
 * exists, and a sink file that serves several sources keeps what it writes
 * per source (checkpoint keys, indexes) apart.
 */
import type { ConfigProblem } from './config-error.ts';
import type { MainConfig } from './main-schema.ts';
import type { SinkConfig } from './sink-schema.ts';
import type { SourceConfig } from './source-schema.ts';
import type { Position } from './yaml-positions.ts';

/** One pipeline's configuration: the main file's settings as they apply to one source. */
export type SlotlineConfig = Omit<MainConfig, 'sinks' | 'sources' | 'topic_prefix' | 'source'> & {
  /** Absolute path of the main file. */
  file: string;
  /** The entry's name with `sources:`; null with `source:` (logs and metrics then carry no source). */
  source_name: string | null;
  source: SourceConfig;
  topic_prefix: string;
  /** The sink files this source routes to, in load order. */
  sinks: SinkConfig[];
};

/** What a sink file must change to serve several sources; `path` is the key in the sink file. */
export type SinkSharingCheck = (sink: SinkConfig) => Array<{ path: Array<string | number>; message: string }>;

export interface ViewInput {
  main: MainConfig;
  /** The main file as written: whether `source` / `topic_prefix` were given at all. */
  given: { source: boolean; topic_prefix: boolean };
  file: string;
  sinks: SinkConfig[];
  mainFile: string;
  mainAt: (path: Array<string | number>) => Position;
  /** The sink file as the operator named it, and where `path` is written in it. */
  sinkAt: (sink: SinkConfig, path: Array<string | number>) => Position & { file: string };
  sharing?: SinkSharingCheck;
}

export function sourceViews(input: ViewInput): { views: SlotlineConfig[]; problems: ConfigProblem[] } {
  const { main, mainFile, mainAt } = input;
  const { sources, source, topic_prefix, sinks: _spec, ...shared } = main;
  const problems: ConfigProblem[] = [];
  const at = (path: Array<string | number>, message: string) => problems.push({ file: mainFile, ...mainAt(path), path: dotted(path), message });

  if (sources === undefined) {
    if (topic_prefix === undefined) at(['topic_prefix'], 'required');
    const view = { ...shared, file: input.file, source_name: null, source, topic_prefix: topic_prefix ?? '', sinks: input.sinks };
    return { views: problems.length > 0 ? [] : [view], problems };
  }
  if (input.given.source) at(['source'], 'give `source` (one database) or `sources` (several), not both');
  if (input.given.topic_prefix) at(['topic_prefix'], 'with `sources`, each source has its own topic_prefix: move it into the entries');

  const byName = new Map(input.sinks.map((s) => [s.name, s]));
  const seen = { name: new Map<string, number>(), prefix: new Map<string, number>(), slot: new Map<string, number>() };
  const once = (kind: keyof typeof seen, value: string, i: number, path: Array<string | number>, what: string) => {
    const first = seen[kind].get(value);
    if (first === undefined) seen[kind].set(value, i);
    else at(path, `${what} is also used by sources[${first}]`);
  };
  const views: SlotlineConfig[] = [];
  const users = new Map<string, string[]>();
  for (const [i, entry] of sources.entries()) {
    once('name', entry.name, i, ['sources', i, 'name'], `source name "${entry.name}"`);
    once('prefix', entry.topic_prefix, i, ['sources', i, 'topic_prefix'], `topic prefix "${entry.topic_prefix}"`);
    const slots = [entry.source.slot, ...(entry.source.rewind ? [entry.source.rewind.slot] : [])];
    for (const slot of slots) once('slot', `${serverOf(entry.source)}\0${slot}`, i, ['sources', i, 'slot'], `slot "${slot}" on ${serverOf(entry.source)}`);
    const routed: SinkConfig[] = [];
    for (const [j, name] of (entry.sinks ?? [...byName.keys()]).entries()) {
      const sink = byName.get(name);
      if (sink === undefined) {
        at(['sources', i, 'sinks', j], `no sink file has name "${name}" (sinks: ${[...byName.keys()].join(', ') || 'none'})`);
        continue;
      }
      if (routed.includes(sink)) continue;
      routed.push(sink);
      users.set(name, [...(users.get(name) ?? []), entry.name]);
    }
    views.push({
      ...shared, file: input.file, source_name: entry.name, source: entry.source, topic_prefix: entry.topic_prefix,
      snapshot: entry.snapshot ?? shared.snapshot, sinks: routed,
    });
  }
  for (const [name, names] of users) {
    if (names.length < 2 || input.sharing === undefined) continue;
    const sink = byName.get(name)!;
    for (const p of input.sharing(sink)) {
      problems.push({ ...input.sinkAt(sink, p.path), path: dotted(p.path), message: `${p.message} (this sink serves sources ${names.join(', ')})` });
    }
  }
  return { views: problems.length > 0 ? [] : views, problems };
}

/** The server a source reads, as far as the file says: slot names are per server (cluster), not per database. */
function serverOf(source: SourceConfig): string {
  return source.hosts?.map((h) => `${h.host}:${h.port ?? source.port ?? 5432}`).join(',') ?? `${source.host ?? 'localhost'}:${source.port ?? 5432}`;
}

function dotted(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
