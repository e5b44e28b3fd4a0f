import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../test/harness/child-process.ts';
import { REPO, runSlotline } from '../../test/e2e/support.ts';
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercentOf } from './heap-growth.ts';

/**
 * What limitHeapGrowth() set in a fresh process, and the factor V8 itself
 * then reports after a full collection (`--trace-gc-verbose` prints it):
 * proof that the flag set at run time is the one V8 grows the heap by.
 */
async function inChild(nodeArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<{ set: string; factor: string | undefined }> {
  const module = JSON.stringify(join(REPO, 'src', 'runtime', 'heap-growth.ts'));
  const script = `import(${module}).then((m) => { console.log('set ' + m.limitHeapGrowth()); globalThis.gc(); })`;
  const result = await runCommand('node', process.execPath, ['--expose-gc', '--trace-gc-verbose', ...nodeArgs, '-e', script], { env, timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(0);
  const set = /^set (\S+)$/m.exec(result.stdout)?.[1];
  expect(set, result.stdout).toBeDefined();
  return { set: set!, factor: /\[HeapController\] factor ([\d.]+)/.exec(result.stdout)?.[1] };
}

describe('heap growth', () => {
  it('is 1.5 by default, SLOTLINE_HEAP_GROWING_PERCENT chooses another, and 0 or a node flag leave it to V8 or the flag', async () => {
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(50);
    expect(await inChild([])).toEqual({ set: '50', factor: '1.5' });
    expect(await inChild([], { SLOTLINE_HEAP_GROWING_PERCENT: '100' })).toEqual({ set: '100', factor: '2.0' });
    expect(await inChild(['--heap-growing-percent=30'], { SLOTLINE_HEAP_GROWING_PERCENT: '100' })).toEqual({ set: 'null', factor: '1.3' });
    // 0: nothing is set, and V8 picks its factor from its own speeds.
    expect((await inChild([], { SLOTLINE_HEAP_GROWING_PERCENT: '0' })).set).toBe('null');
  });

  it('reads the variable strictly', () => {
    expect(heapGrowingPercentOf([], undefined)).toBe(50);
    expect(heapGrowingPercentOf([], ' ')).toBe(50);
    expect(heapGrowingPercentOf([], '75')).toBe(75);
    expect(heapGrowingPercentOf([], '0')).toBeNull();
    expect(heapGrowingPercentOf(['--heap_growing_percent=20'], '75')).toBeNull();
    for (const bad of ['1.5', '-10', '50%', 'lots']) {
      expect(() => heapGrowingPercentOf([], bad)).toThrow(`SLOTLINE_HEAP_GROWING_PERCENT is "${bad}": not a whole number of per cent`);
    }
  });

  it('a bad SLOTLINE_HEAP_GROWING_PERCENT stops any command with one line, a hint and the config exit code', async () => {
    const result = await runSlotline(['validate', '--config', join(REPO, 'config', 'slotline.yaml')], {
      env: { DATABASE_URL: 'postgres://u:p@localhost/app', SLOTLINE_HEAP_GROWING_PERCENT: 'lots' },
    });
    expect(result.code, result.stderr).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'slotline validate: SLOTLINE_HEAP_GROWING_PERCENT is "lots": not a whole number of per cent',
      "  hint: set it to e.g. 50 (the default), 100 for fewer full collections, or 0 for V8's own heap growth",
    ]);
  });
});
