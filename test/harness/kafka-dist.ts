/**
 * Apache Kafka broker jars from Maven Central, cached outside the repo in
 * `${SLOTLINE_CACHE:-$HOME/.cache/slotline}/kafka-<version>/libs`.
 *
 * A throw-away POM depends on `org.apache.kafka:kafka_2.13:<version>` plus an
 * SLF4J binding (the kafka_2.13 POM brings slf4j-api only, so the broker would
 * log nothing), and `maven-dependency-plugin:copy-dependencies` copies the
 * runtime classpath (fetchMavenClasspath, which the benchmark's Kafka Connect
 * uses too). A `.complete` marker is written last, so an interrupted download
 * is redone rather than half-used.
 *
 * Run as a script to pre-fetch (CI does, before the tests):
 *   node test/harness/kafka-dist.ts [version]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The broker version tests run against unless SLOTLINE_KAFKA_VERSION says otherwise.
 * kafkajs 2.2.4 was checked against 3.9.2, 4.0.2 and 4.3.1 (see test/harness/README.md).
 */
export const DEFAULT_KAFKA_VERSION = '4.3.1';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export function defaultKafkaVersion(): string {
  return process.env.SLOTLINE_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
}

export function cacheRoot(): string {
  return process.env.SLOTLINE_CACHE ?? join(homedir(), '.cache', 'slotline');
}

export interface KafkaDist {
  version: string;
  /** Directory of jars; the classpath is `<libs>/*`. */
  libs: string;
  /** JVM system property that points the broker's logging at our console config. */
  loggingProperty: string;
}

/** The broker jars of `version`, fetched with Maven on first use. Throws with Maven's output. */
export async function ensureKafkaDist(version: string = defaultKafkaVersion()): Promise<KafkaDist> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`bad Kafka version "${version}" (want e.g. 4.3.1)`);
  const major = Number.parseInt(version, 10);
  if (major < 3 || (major === 3 && Number.parseInt(version.split('.')[1], 10) < 9)) {
    throw new Error(`Kafka ${version} is not supported by the harness: KRaft single-node needs 3.9 or newer`);
  }
  const dir = join(cacheRoot(), `kafka-${version}`);
  const libs = join(dir, 'libs');
  const logging = major >= 4
    ? { file: join(dir, 'log4j2.properties'), text: LOG4J2_CONFIG, property: 'log4j2.configurationFile' }
    : { file: join(dir, 'log4j.properties'), text: LOG4J1_CONFIG, property: 'log4j.configuration' };
  const dist = {
    version,
    libs,
    loggingProperty: `-D${logging.property}=${major >= 4 ? logging.file : `file:${logging.file}`}`,
  };
  if (existsSync(join(dir, '.complete'))) return dist;
  await fetchMavenClasspath(dir, brokerDependencies(version), `Kafka ${version} jars`);
  await writeFile(logging.file, logging.text);
  await writeFile(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return dist;
}

/** A Maven dependency, `group:artifact:version`. */
export type MavenCoordinates = `${string}:${string}:${string}`;

/**
 * The runtime classpath of `dependencies` (with their transitive ones) into
 * `<dir>/libs`, through a throw-away POM and maven-dependency-plugin's
 * copy-dependencies. The caller writes its `.complete` marker after this.
 * Throws with the tail of Maven's output.
 */
export async function fetchMavenClasspath(dir: string, dependencies: readonly MavenCoordinates[], what: string): Promise<string> {
  const libs = join(dir, 'libs');
  await mkdir(dir, { recursive: true });
  // Staging dir per process: two runs fetching at once each finish whole, and the last rename wins.
  const staging = join(dir, `libs.${process.pid}`);
  const pom = join(dir, `pom.${process.pid}.xml`);
  await writeFile(pom, pomXml(dependencies));
  try {
    await execFileAsync(
      'mvn',
      ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
      { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    await rm(staging, { recursive: true, force: true });
    throw new Error(`fetching ${what} with Maven failed: ${e.message}\n${tail(`${e.stdout ?? ''}${e.stderr ?? ''}`)}`);
  } finally {
    await rm(pom, { force: true });
  }
  await rm(libs, { recursive: true, force: true });
  await rename(staging, libs);
  return libs;
}

function brokerDependencies(version: string): MavenCoordinates[] {
  // 4.x logs through log4j2; 3.9 through reload4j (log4j 1.x API). Both use slf4j-api 1.7.
  return [`org.apache.kafka:kafka_2.13:${version}`, ...(Number.parseInt(version, 10) >= 4 ? LOG4J2_BINDING : ['org.slf4j:slf4j-reload4j:1.7.36' as const])];
}

/** An SLF4J binding to log4j2: the Kafka POMs bring slf4j-api only, so nothing would be logged. */
export const LOG4J2_BINDING: readonly MavenCoordinates[] = [
  'org.apache.logging.log4j:log4j-slf4j-impl:2.24.3',
  'org.apache.logging.log4j:log4j-core:2.24.3',
  'org.apache.logging.log4j:log4j-api:2.24.3',
];

function pomXml(dependencies: readonly MavenCoordinates[]): string {
  const dep = (coordinates: string): string => {
    const [group, artifact, v] = coordinates.split(':');
    return `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`;
  };
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.slotline</groupId>
  <artifactId>classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${dependencies.map(dep).join('\n')}
  </dependencies>
</project>
`;
}

// Broker logs go to stdout, which the harness sends to a file in the server's temp dir
// (Kafka Connect in the benchmark logs with the same config).
export const LOG4J2_CONFIG = `status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

const LOG4J1_CONFIG = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
`;

function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

if (import.meta.main) {
  const dist = await ensureKafkaDist(process.argv[2] ?? defaultKafkaVersion());
  console.log(`Kafka ${dist.version} jars in ${dist.libs}`);
}
