/**
 * Elasticsearch's integ-test-zip distribution from Maven Central, cached outside
 * the repo in `${SLOTLINE_CACHE:-$HOME/.cache/slotline}/elasticsearch-<version>.zip`.
 *
 * The test zip has no bundled JDK and only a few modules (transport-netty4,
 * x-pack-core, x-pack-security): no Painless, no analysis-common. 8.19 runs on
 * Java 17 (our default `java`), which is why the harness pins an 8.19 server: it
 * also matches the 8.19 client. A `.complete` marker is written last, so an
 * interrupted download is redone.
 *
 * Run as a script to pre-fetch (CI does, before the tests):
 *   node test/harness/elasticsearch-dist.ts [version]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from './kafka-dist.ts';

const execFileAsync = promisify(execFile);

/** The server version tests run against unless SLOTLINE_ES_VERSION says otherwise. */
export const DEFAULT_ES_VERSION = '8.19.7';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export function defaultEsVersion(): string {
  return process.env.SLOTLINE_ES_VERSION ?? DEFAULT_ES_VERSION;
}

/** Path of the cached zip of `version`, fetched with Maven on first use. Throws with Maven's output. */
export async function ensureEsZip(version: string = defaultEsVersion()): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`bad Elasticsearch version "${version}" (want e.g. 8.19.7)`);
  const dir = join(cacheRoot(), `elasticsearch-${version}`);
  const zip = join(dir, `elasticsearch-${version}.zip`);
  if (existsSync(join(dir, '.complete'))) return zip;
  await mkdir(dir, { recursive: true });
  const staging = join(dir, `staging.${process.pid}`);
  try {
    await execFileAsync(
      'mvn',
      ['-B', '-q', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip`, `-DoutputDirectory=${staging}`],
      { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000, cwd: dir },
    );
    await rename(join(staging, `elasticsearch-${version}.zip`), zip);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`fetching Elasticsearch ${version} with Maven failed: ${e.message}\n${`${e.stdout ?? ''}${e.stderr ?? ''}`.trimEnd().split('\n').slice(-25).join('\n')}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await writeFile(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return zip;
}

if (import.meta.main) {
  const zip = await ensureEsZip(process.argv[2] ?? defaultEsVersion());
  console.log(`Elasticsearch zip in ${zip}`);
}
