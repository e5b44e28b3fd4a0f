/**
 * The commands with `sources:` in the main file: validate reports every
 * source; a command about one source needs --source when there are several
 * and refuses a name the file does not have; a sink file that would mix two
 * sources is refused with the key to change — before anything connects.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from '../../src/cli/exit-codes.ts';
import { testTempDir } from '../harness/temp-dirs.ts';
import { expectOneLineAndHint, runSlotline as run } from '../e2e/support.ts';

/** Two sources on a server nobody listens on: nothing here may connect. `billing` routes only to `billingSinks`. */
const main = (billingSinks = '[tap]') => `sources:
  - { name: orders, topic_prefix: orders, url: "postgres://app@127.0.0.1:1/orders", slot: orders }
  - { name: billing, topic_prefix: billing, url: "postgres://app@127.0.0.1:1/billing", slot: billing, sinks: ${billingSinks} }
`;

async function files(sinks: Record<string, string>, billingSinks?: string): Promise<string> {
  const dir = await testTempDir('sources-cli');
  await mkdir(join(dir, 'sinks'));
  await writeFile(join(dir, 'slotline.yaml'), main(billingSinks));
  for (const [name, text] of Object.entries(sinks)) await writeFile(join(dir, 'sinks', name), text);
  return join(dir, 'slotline.yaml');
}

describe('commands with several sources', () => {
  it('validate reports each source with its slot, prefix and sinks', async () => {
    const config = await files({ 'tap.yaml': 'name: tap\ntype: console\n', 'cache.yaml': 'name: cache\ntype: redis\nurl: redis://127.0.0.1:1\ncheckpoint_key: "ckpt:{prefix}:{sink}"\nrules:\n  - tables: ["*.*"]\n    invalidate: ["item:{id}"]\n' });
    const result = await run(['validate', '--config', config]);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${config}: valid — source "orders": slot "orders", publication "slotline", topic prefix "orders", sinks: cache (redis), tap (console)`,
      `${config}: valid — source "billing": slot "billing", publication "slotline", topic prefix "billing", sinks: tap (console)`,
    ]);
    const one = await run(['validate', '--config', config, '--source', 'billing']);
    expect(one.stdout.trim().split('\n'), one.stderr).toHaveLength(1);
  });

  it.each([
    [['status'], / has 2 sources \(orders, billing\): say which one with --source$/, /^ {2}hint: e\.g\. --source orders$/],
    [['status', '--source', 'shipping'], /: --source shipping: \S+ has no source of that name$/, /the sources are orders, billing/],
    [['drop-slot', '--yes'], / has 2 sources \(orders, billing\): say which one with --source$/, /--source orders/],
    [['snapshot', '--table', 'public.items'], / has 2 sources \(orders, billing\): say which one with --source$/, /--source orders/],
  ])('%s without a source it can name: exit 2, one line and a hint, nothing connects', async (args, line, hint) => {
    const config = await files({ 'tap.yaml': 'name: tap\ntype: console\n' });
    expectOneLineAndHint(await run([args[0], '--config', config, ...args.slice(1)]), EXIT_USAGE, line, hint);
  });

  it('run refuses a sink file that would mix two sources, naming the key to change (exit 78)', async () => {
    const config = await files({
      'tap.yaml': 'name: tap\ntype: console\n',
      'cache.yaml': 'name: cache\ntype: redis\nurl: redis://127.0.0.1:1\nrules:\n  - tables: ["*.*"]\n    refresh: { key: "item:{id}" }\n',
    }, '[tap, cache]');
    const result = await run(['run', '--config', config]);
    expect(result.code, result.stderr).toBe(EXIT_CONFIG);
    expect(result.stderr).toContain('sinks/cache.yaml:1:1 checkpoint_key: put `{prefix}` in checkpoint_key');
    expect(result.stderr).toContain('sinks/cache.yaml:1:1 fence_prefix: put `{prefix}` in fence_prefix');
    expect(result.stderr).toContain('(this sink serves sources orders, billing)');
  });
});
