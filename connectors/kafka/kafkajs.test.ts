import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Message, PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../test/harness/child-process.ts';
import { REPO } from '../../test/e2e/support.ts';
import { GROUPING_MODULE, groupMessagesPerPartition } from './kafkajs.ts';

const require = createRequire(import.meta.url);

/** kafkajs' own groupMessagesPerPartition, loaded past whatever the module cache holds. */
function kafkajsGrouping(): typeof groupMessagesPerPartition {
  const cached = require.cache[GROUPING_MODULE];
  delete require.cache[GROUPING_MODULE];
  try {
    return require(GROUPING_MODULE) as typeof groupMessagesPerPartition;
  } finally {
    if (cached) require.cache[GROUPING_MODULE] = cached;
  }
}

/** Runtime files (not tests) under a directory, relative to the repository. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => relative(REPO, join(REPO, dir, f)));
}

describe('kafkajs as slotline loads it', () => {
  it('groups messages by partition as kafkajs does: the same partitions, the same order within each', () => {
    const original = kafkajsGrouping();
    expect(original).not.toBe(groupMessagesPerPartition);
    const partitionMetadata = Array.from({ length: 7 }, (_, partition) => ({ partitionId: partition, leader: 1 })) as PartitionerArgs['partitionMetadata'];
    const partitioner = ({ message }: PartitionerArgs) => Number(message.key) % 7;
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647);
    for (const count of [0, 1, 2, 50, 3000]) {
      const messages: Message[] = Array.from({ length: count }, (_, i) => ({ key: String(random()), value: `v${i}` }));
      const args = { topic: 't', partitionMetadata, messages, partitioner };
      const ours = groupMessagesPerPartition(args);
      expect(ours).toEqual(original(args));
      expect(Object.values(ours).flat()).toHaveLength(count);
    }
    const none = { topic: 't', partitionMetadata: [], messages: [{ key: '1', value: 'v' }], partitioner };
    expect(groupMessagesPerPartition(none)).toEqual(original(none));
  });

  it("is in kafkajs' producer in a process that loads slotline's sinks", async () => {
    const connectors = JSON.stringify(join(REPO, 'connectors', 'index.ts'));
    const ours = JSON.stringify(join(REPO, 'connectors', 'kafka', 'kafkajs.ts'));
    const script = `await import(${connectors}); const { linearGrouping } = await import(${ours}); console.log('linear ' + linearGrouping);`;
    const result = await runCommand('node', process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('linear true');
  });

  it("no other runtime module loads kafkajs' code: they import its values from kafkajs.ts and its types from 'kafkajs'", () => {
    const loaders = ['src', 'connectors', 'bin']
      .flatMap(sourceFiles)
      .filter((file) => file !== join('connectors', 'kafka', 'kafkajs.ts'))
      .filter((file) => /^import (?!type )[^;]*from 'kafkajs'/m.test(readFileSync(join(REPO, file), 'utf8')));
    expect(loaders).toEqual([]);
  });
});
