/**
 * `slotline <command>`: run, validate, demo. Exit codes: 0 clean shutdown,
 * 1 operator error (bad config, auth, missing privilege…), 2 usage.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describeError, SlotlineError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_OPERATOR = 1;
export const EXIT_USAGE = 2;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | string[] | undefined>): Promise<number>;
}

const commands: Record<string, Command> = {
  run: {
    summary: 'stream changes from the slot to the sinks until stopped (SIGTERM/SIGINT)',
    usage: 'slotline run --config <file>',
    options: { config: { type: 'string', short: 'c' } },
    run: async (v) => (await import('./run.ts')).runCommand(requireConfig(v)),
  },
  validate: {
    summary: 'check the config files (keys, types, env vars) without connecting; exit 0 if valid',
    usage: 'slotline validate --config <file>',
    options: { config: { type: 'string', short: 'c' } },
    run: async (v) => (await import('./validate.ts')).validateCommand(requireConfig(v)),
  },
  snapshot: {
    summary: 're-read tables into the sinks while streaming (incremental snapshot); the running worker does it',
    usage: 'slotline snapshot --config <file> --table <schema.table> [--table …] [--sink <name> …] [--where <condition>]',
    options: {
      config: { type: 'string', short: 'c' },
      table: { type: 'string', short: 't', multiple: true },
      sink: { type: 'string', short: 's', multiple: true },
      where: { type: 'string', short: 'w' },
    },
    run: async (v) => {
      const list = (x: unknown): string[] => (Array.isArray(x) ? x : typeof x === 'string' ? [x] : []);
      const tables = list(v.table);
      if (tables.length === 0) throw new UsageError('missing --table <schema.table>');
      return (await import('./snapshot.ts')).snapshotCommand({
        configPath: requireConfig(v), tables, sinks: list(v.sink), where: typeof v.where === 'string' ? v.where : undefined,
      });
    },
  },
  demo: {
    summary: 'start an embedded PostgreSQL, make some changes and print their Debezium events',
    usage: 'slotline demo [--follow]',
    options: { follow: { type: 'boolean', short: 'f' } },
    run: async (v) => (await import('./demo.ts')).demoCommand({ follow: v.follow === true }),
  },
};

class UsageError extends Error {}

function requireConfig(values: Record<string, string | boolean | string[] | undefined>): string {
  if (typeof values.config !== 'string') throw new UsageError('missing --config <file>');
  return values.config;
}

function mainHelp(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    `slotline ${version()} — PostgreSQL change data capture to Kafka, Redis and Elasticsearch`,
    '',
    'Usage: slotline <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show help (also: slotline <command> --help)',
    '  -v, --version  print the version',
    '',
    'Exit codes: 0 clean shutdown, 1 operator error (config, auth, privileges), 2 usage error.',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  const opts = Object.entries(command.options).map(([o, spec]) => `  ${spec.short ? `-${spec.short}, ` : '    '}--${o}${spec.type === 'string' ? ' <value>' : ''}`);
  return [`Usage: ${command.usage}`, '', command.summary, '', 'Options:', ...opts, '  -h, --help'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '-v' || name === '--version') {
    console.log(version());
    return EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    console.error(`slotline: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    console.error(`slotline ${name}: ${(err as Error).message}\n\n${commandHelp(name, command)}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.log(commandHelp(name, command));
    return EXIT_OK;
  }
  try {
    return await command.run(values);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`slotline ${name}: ${err.message}\n\n${commandHelp(name, command)}`);
      return EXIT_USAGE;
    }
    // Operator errors are expected: one line and a hint. Anything else is a bug: show the stack.
    console.error(`slotline ${name}: ${err instanceof SlotlineError ? describeError(err) : ((err as Error)?.stack ?? String(err))}`);
    return EXIT_OPERATOR;
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
