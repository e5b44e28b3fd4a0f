/**
 * Test helpers: config files in temp directories, loaded with the real sink
 * type schemas (not the registry, which would load every sink's client).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { consoleConfigSchema } from '../../connectors/console/console-config.ts';
import { kafkaConfigSchema } from '../../connectors/kafka/kafka-config.ts';
import { ConfigError } from './config-error.ts';
import type { Env } from './interpolate.ts';
import { loadConfig } from './load-config.ts';
import type { LoadConfigOptions, SlotlineConfig } from './load-config.ts';
import { testTempDir } from '../../test/harness/temp-dirs.ts';

export const SINK_TYPES = { kafka: kafkaConfigSchema, console: consoleConfigSchema };

const dirs: string[] = [];

/** Writes files (relative path → text; a path ending in `/` is an empty directory) into a fresh temp dir. */
export async function writeFixture(files: Record<string, string>): Promise<string> {
  const dir = await testTempDir('config');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const target = path.join(dir, name);
    if (name.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  return dir;
}

export async function removeFixtures(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export async function loadFixture(files: Record<string, string>, env: Env = {}): Promise<SlotlineConfig> {
  const dir = await writeFixture(files);
  return loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes: SINK_TYPES, env });
}

/** The ConfigError lines of loading the files, with the temp dir cut from the paths. */
export async function problemLines(files: Record<string, string>, env: Env = {}, sinkTypes: LoadConfigOptions['sinkTypes'] = SINK_TYPES): Promise<string[]> {
  const dir = await writeFixture(files);
  try {
    await loadConfig(path.join(dir, 'slotline.yaml'), { sinkTypes, env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message.split('\n').map((line) => line.replaceAll(dir + path.sep, ''));
  }
  throw new Error('expected a ConfigError, but the config loaded');
}
