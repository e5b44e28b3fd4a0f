/**
 * The `slotline` commands: what each does, its options with a placeholder and
 * a description (the per-command --help is generated from them), examples,
 * and the function that runs it. Each command's module is loaded only when it
 * runs, so `slotline validate` does not load every sink's client.
 */
import { UsageError } from './exit-codes.ts';

export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** What the value is, shown as `--name <placeholder>`; string options only. */
  placeholder?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, CommandOption>;
  examples?: string[];
  run(values: OptionValues): Promise<number>;
}

const CONFIG: CommandOption = { type: 'string', short: 'c', placeholder: 'file', description: 'the main YAML file (its sink files are found relative to it)' };
const SOURCE: CommandOption = { type: 'string', placeholder: 'name', description: 'with `sources:` in the main file, the source this command is about (required when there are several)' };

export const commands: Record<string, Command> = {
  run: {
    summary: 'stream changes from the slot to the sinks until stopped (SIGTERM/SIGINT)',
    usage: 'slotline run --config <file>',
    options: { config: CONFIG },
    examples: ['DATABASE_URL=postgres://slotline:…@db:5432/app slotline run --config config/slotline.yaml'],
    run: async (v) => (await import('./run.ts')).runCommand(requireConfig(v)),
  },
  validate: {
    summary:
      'check the config files (keys, types, env vars) without connecting; exit 0 if valid. With --explain-privileges, print the SQL a DBA runs for this config ' +
      '(role, grants, publication, replica identity): that connects, read-only, to look at the tables, as the config\'s user or through --inspect-url',
    usage: 'slotline validate --config <file> [--explain-privileges [--inspect-url <url>]]',
    options: {
      config: CONFIG,
      source: SOURCE,
      'explain-privileges': { type: 'boolean', description: 'print the SQL that gives the configured role what slotline needs (connects read-only)' },
      'inspect-url': { type: 'string', placeholder: 'url', description: 'with --explain-privileges: look at the database through this postgres:// URL (e.g. a DBA\'s) instead of the config\'s user' },
    },
    examples: ['slotline validate --config config/slotline.yaml', 'slotline validate -c config/slotline.yaml --explain-privileges --inspect-url postgres://admin@db/app'],
    run: async (v) => {
      if (v['inspect-url'] !== undefined && v['explain-privileges'] !== true) throw new UsageError('--inspect-url goes with --explain-privileges');
      return v['explain-privileges'] === true
        ? (await import('./explain-privileges.ts')).explainPrivilegesCommand({
          configPath: requireConfig(v), source: optionalString(v.source), inspectUrl: typeof v['inspect-url'] === 'string' ? v['inspect-url'] : undefined,
        })
        : (await import('./validate.ts')).validateCommand(requireConfig(v), optionalString(v.source));
    },
  },
  snapshot: {
    summary: 're-read tables into the sinks while streaming (incremental snapshot); the running worker does it',
    usage: 'slotline snapshot --config <file> --table <schema.table> [--table …] [--sink <name> …] [--where <condition>]',
    options: {
      config: CONFIG,
      source: SOURCE,
      table: { type: 'string', short: 't', multiple: true, placeholder: 'schema.table', description: 'a table to re-read (repeat for several); it must be in source.tables' },
      sink: { type: 'string', short: 's', multiple: true, placeholder: 'name', description: 'only into this sink (repeat for several); default: every sink that routes the table' },
      where: { type: 'string', short: 'w', placeholder: 'condition', description: 'only the rows matching this SQL condition over the table\'s columns' },
    },
    examples: [
      'slotline snapshot --config config/slotline.yaml --table public.products',
      'slotline snapshot -c config/slotline.yaml -t public.orders --sink search --where "created_at > now() - interval \'7 days\'"',
    ],
    run: async (v) => {
      const tables = list(v.table);
      if (tables.length === 0) throw new UsageError('missing --table <schema.table>');
      await checkTableNames('--table', tables);
      return (await import('./snapshot.ts')).snapshotCommand({
        configPath: requireConfig(v), source: optionalString(v.source), tables, sinks: list(v.sink), where: typeof v.where === 'string' ? v.where : undefined,
      });
    },
  },
  status: {
    summary: 'the slot, its retained WAL, the publication and the sinks\' checkpoints (and a running worker\'s /status); exit 1 on a problem',
    usage: 'slotline status --config <file> [--url http://host:9187] [--max-retained <size>] [--json]',
    options: {
      config: CONFIG,
      source: SOURCE,
      url: { type: 'string', short: 'u', placeholder: 'url', description: 'also read a running worker\'s /status at this address, e.g. http://127.0.0.1:9187' },
      'max-retained': { type: 'string', placeholder: 'size', description: 'a problem (exit 1) when the slot retains more WAL than this, e.g. 2GiB' },
      json: { type: 'boolean', description: 'print the report as JSON' },
    },
    examples: ['slotline status --config config/slotline.yaml --url http://127.0.0.1:9187 --max-retained 2GiB'],
    run: async (v) =>
      (await import('./status.ts')).statusCommand({
        configPath: requireConfig(v), source: optionalString(v.source),
        url: typeof v.url === 'string' ? v.url : undefined,
        maxRetained: typeof v['max-retained'] === 'string' ? v['max-retained'] : undefined,
        json: v.json === true,
      }),
  },
  replay: {
    summary: 're-send a window of history from the rewind slot into a sink (usually a shadow sink); the production slot is not touched',
    usage: 'slotline replay --config <file> --sink <sink file> [--from <LSN | ISO time | rewind>] [--to <LSN | now>] [--tables <schema.table> …] [--into-production] [--json]',
    options: {
      config: CONFIG,
      source: SOURCE,
      sink: { type: 'string', short: 's', placeholder: 'sink file', description: 'the sink file to write into (a shadow index, key prefix or topic prefix)' },
      from: { type: 'string', placeholder: 'LSN | ISO time | rewind', description: 'where the window starts (default: rewind, as far back as the rewind slot holds)' },
      to: { type: 'string', placeholder: 'LSN | now', description: 'where it ends (default: now, the server\'s WAL position at start)' },
      tables: { type: 'string', short: 't', multiple: true, placeholder: 'schema.table', description: 'only these tables (repeat, or comma-separated)' },
      'into-production': { type: 'boolean', description: 'allow a sink file that the running config also lists' },
      json: { type: 'boolean', description: 'print the summary as JSON' },
    },
    examples: ['slotline replay -c config/slotline.yaml --sink shadow/search-rebuild.yaml --from 2026-12-04T09:00:00Z'],
    run: async (v) => {
      if (typeof v.sink !== 'string') throw new UsageError('missing --sink <sink file>');
      const window = await import('../replay/replay-inputs.ts');
      window.checkWindow(window.parseFrom(optionalString(v.from)), window.parseTo(optionalString(v.to)));
      await checkTableNames('--tables', commaList(v.tables));
      return (await import('./replay.ts')).replayCommand({
        configPath: requireConfig(v), source: optionalString(v.source),
        sink: v.sink,
        from: typeof v.from === 'string' ? v.from : undefined,
        to: typeof v.to === 'string' ? v.to : undefined,
        tables: commaList(v.tables),
        intoProduction: v['into-production'] === true,
        json: v.json === true,
      });
    },
  },
  verify: {
    summary: 'reconcile a sink with the source tables: rows missing, stale or extra in the sink; exit 0 when none, 1 on drift',
    usage: 'slotline verify --config <file> --sink <name or sink file> [--tables <schema.table> …] [--json <report.json>] [--wait <duration>]',
    options: {
      config: CONFIG,
      source: SOURCE,
      sink: { type: 'string', short: 's', placeholder: 'name or sink file', description: 'a configured sink\'s name, or a (shadow) sink file' },
      tables: { type: 'string', short: 't', multiple: true, placeholder: 'schema.table', description: 'only these tables (repeat, or comma-separated)' },
      json: { type: 'string', placeholder: 'report.json', description: 'also write the report as JSON to this file' },
      wait: { type: 'string', placeholder: 'duration', description: 'how long to wait for the sink to pass the consistent point (e.g. 60s)' },
    },
    examples: ['slotline verify -c config/slotline.yaml --sink search --json drift.json'],
    run: async (v) => {
      if (typeof v.sink !== 'string') throw new UsageError('missing --sink <name or sink file>');
      await checkTableNames('--tables', commaList(v.tables));
      if (typeof v.wait === 'string') (await import('./verify.ts')).parseDuration(v.wait);
      return (await import('./verify.ts')).verifyCommand({
        configPath: requireConfig(v), source: optionalString(v.source), sink: v.sink, tables: commaList(v.tables), json: typeof v.json === 'string' ? v.json : undefined, wait: typeof v.wait === 'string' ? v.wait : undefined,
      });
    },
  },
  drill: {
    summary:
      'rehearse the loss of a sink: rebuild a shadow sink (from nothing, or --from the rewind slot onto a restored backup), verify it, print one report; ' +
      'exit 0 when it matches the tables, 1 on drift. Never touches the production slot or sinks',
    usage: 'slotline drill --config <file> --sink <shadow sink file> [--from <LSN | ISO time | rewind>] [--tables <schema.table> …] [--json <report.json>] [--wait <duration>]',
    options: {
      config: CONFIG,
      source: SOURCE,
      sink: { type: 'string', short: 's', placeholder: 'shadow sink file', description: 'the sink file to rebuild (a new index, key prefix or topic prefix); a sink file the config lists is refused' },
      from: {
        type: 'string', placeholder: 'LSN | ISO time | rewind',
        description: 'replay from the rewind slot from here, onto a shadow sink restored from a backup taken then (default: rebuild from nothing: a temporary slot, its snapshot, its stream)',
      },
      tables: { type: 'string', short: 't', multiple: true, placeholder: 'schema.table', description: 'only these tables (repeat, or comma-separated)' },
      json: { type: 'string', placeholder: 'report.json', description: 'also write the drill report as JSON to this file' },
      wait: { type: 'string', placeholder: 'duration', description: 'how long verify waits for the drill\'s stream to reach each of its positions (default 60s)' },
    },
    examples: [
      'slotline drill -c config/slotline.yaml --sink shadow/search-drill.yaml --json drill.json',
      'slotline drill -c config/slotline.yaml --sink shadow/search-restored.yaml --from 2026-12-04T09:00:00Z',
    ],
    run: async (v) => {
      if (typeof v.sink !== 'string') throw new UsageError('missing --sink <shadow sink file>');
      if (typeof v.from === 'string') (await import('../replay/replay-inputs.ts')).parseFrom(v.from);
      await checkTableNames('--tables', commaList(v.tables));
      if (typeof v.wait === 'string') (await import('./verify.ts')).parseDuration(v.wait);
      return (await import('./drill.ts')).drillCommand({
        configPath: requireConfig(v), source: optionalString(v.source),
        sink: v.sink,
        from: typeof v.from === 'string' ? v.from : undefined,
        tables: commaList(v.tables),
        json: typeof v.json === 'string' ? v.json : undefined,
        wait: typeof v.wait === 'string' ? v.wait : undefined,
      });
    },
  },
  'drop-slot': {
    summary: 'uninstall: drop the replication slot (and its snapshot records) after showing it and asking; refused while a worker streams from it',
    usage: 'slotline drop-slot --config <file> [--yes] [--drop-publication]',
    options: {
      config: CONFIG,
      source: SOURCE,
      yes: { type: 'boolean', short: 'y', description: 'do not ask (needed when stdin is not a terminal)' },
      'drop-publication': { type: 'boolean', description: 'also drop the publication (source.publication)' },
    },
    examples: ['slotline drop-slot --config config/slotline.yaml', 'slotline drop-slot --config config/slotline.yaml --yes --drop-publication'],
    run: async (v) =>
      (await import('./drop-slot.ts')).dropSlotCommand({ configPath: requireConfig(v), source: optionalString(v.source), yes: v.yes === true, dropPublication: v['drop-publication'] === true }),
  },
  demo: {
    summary: 'start an embedded PostgreSQL, make some changes and print their Debezium events',
    usage: 'slotline demo [--follow]',
    options: { follow: { type: 'boolean', short: 'f', description: 'keep running and print the psql URL, so you can make changes yourself (Ctrl-C stops)' } },
    examples: ['slotline demo', 'slotline demo --follow'],
    run: async (v) => (await import('./demo.ts')).demoCommand({ follow: v.follow === true }),
  },
};

function requireConfig(values: OptionValues): string {
  if (typeof values.config !== 'string') throw new UsageError('missing --config <file>');
  return values.config;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/** `-c, --config <file>` and its description, aligned, then the examples. */
export function commandHelp(command: Command): string {
  const help: CommandOption = { type: 'boolean', short: 'h', description: 'show this help' };
  const options: Array<[string, CommandOption]> = [...Object.entries(command.options), ['help', help]];
  const left = options.map(([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.placeholder ?? 'value'}>` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = [`Usage: ${command.usage}`, '', command.summary, '', 'Options:', ...options.map(([, o], i) => `  ${left[i].padEnd(width)}${o.description}`)];
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Table names given on the command line must read as schema.table before anything connects. */
async function checkTableNames(option: string, tables: string[]): Promise<void> {
  const { parseTableName } = await import('../source/pg-catalog.ts');
  const { SlotlineError } = await import('../errors.ts');
  for (const table of tables) {
    try {
      parseTableName(table);
    } catch (err) {
      if (!(err instanceof SlotlineError)) throw err;
      throw new UsageError(`${option}: ${err.message}`, { hint: err.hint });
    }
  }
}

/** A repeatable option whose values may also be comma-separated. */
function commaList(x: unknown): string[] {
  return list(x).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
}
