/**
 * `slotline <command>`: parses the command line, prints help, runs the
 * command (./commands.ts) and turns its outcome into an exit code
 * (./exit-codes.ts).
 */
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describeError, SlotlineError } from '../errors.ts';
import { limitHeapGrowth } from '../runtime/heap-growth.ts';
import { version } from '../version.ts';
import { commandHelp, commands, type OptionValues } from './commands.ts';
import { EXIT_CODES_TEXT, EXIT_OK, EXIT_USAGE, exitCodeFor, UsageError } from './exit-codes.ts';

export { version };

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
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
    EXIT_CODES_TEXT,
  ].join('\n');
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
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    console.error(`slotline: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  let values: OptionValues;
  try {
    const options = Object.fromEntries(
      Object.entries(command.options).map(([o, { type, short, multiple }]) => [o, { type, multiple: multiple === true, ...(short ? { short } : {}) }]),
    );
    ({ values } = parseArgs({ args: rest, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    console.error(`slotline ${name}: ${(err as Error).message}\n\n${commandHelp(command)}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.log(commandHelp(command));
    return EXIT_OK;
  }
  try {
    limitHeapGrowth();
    return await command.run(values);
  } catch (err) {
    if (err instanceof UsageError) {
      // A bad option value says how to write it; a missing or misplaced option gets the command's help.
      console.error(err.hint ? `slotline ${name}: ${describeError(err)}` : `slotline ${name}: ${err.message}\n\n${commandHelp(command)}`);
      return EXIT_USAGE;
    }
    // Operator errors are expected: one line and a hint. Anything else is a bug: show the stack.
    console.error(`slotline ${name}: ${err instanceof SlotlineError ? describeError(err) : ((err as Error)?.stack ?? String(err))}`);
    return exitCodeFor(err);
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
