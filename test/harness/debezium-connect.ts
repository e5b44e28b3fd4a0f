/**
 * Kafka Connect standalone with Debezium's PostgreSQL connector, run the way a
 * Debezium user runs it (connect-standalone with a worker and one properties
 * file per connector, JsonConverter, the shipped JVM heap settings): the real
 * Debezium that bench/debezium.ts races and test/e2e/debezium-parity.test.ts
 * compares slotline with.
 *
 * The jars (connect-runtime and connect-json of the broker's Kafka version,
 * debezium-connector-postgres with its dependencies, an SLF4J binding) come
 * from Maven Central on first use and are cached outside the repo, like the
 * broker's (kafka-dist.ts). Nothing of Debezium is in the repo.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, fetchMavenClasspath, LOG4J2_BINDING, LOG4J2_CONFIG } from './kafka-dist.ts';
import { javaCommand } from './kafka.ts';
import { freePort } from './ports.ts';
import type { PgEndpoint } from './postgres.ts';
import { makeServerDir } from './server-dirs.ts';
import { spawnServer } from './server-process.ts';

/** The Debezium release slotline matches and races (3.6.x, the line issue 14 compares with). */
export const DEBEZIUM_VERSION = '3.6.1.Final';

export interface ConnectOptions {
  brokers: string[];
  /** Broker version: Connect's jars are the same version. */
  kafkaVersion: string;
  schemasEnable: boolean;
  /** Worker `producer.*` overrides; empty for defaults. */
  producer?: Record<string, string>;
  /** Connector name → its properties (connectorProperties() gives Debezium's for one slot). */
  connectors: Record<string, Record<string, string>>;
}

export interface ConnectWorker {
  pid: number;
  logFile: string;
  running(): boolean;
  /** SIGTERM (SIGKILL after 20 s) and removal of its files. */
  stop(): Promise<void>;
}

/** Kafka Connect standalone, as connect-standalone.sh runs it, with the given connectors. */
export async function startConnect(options: ConnectOptions): Promise<ConnectWorker> {
  const libs = await ensureConnectClasspath(options.kafkaVersion);
  const dir = await makeServerDir(`kafka-${options.kafkaVersion}-connect`);
  const workerFile = join(dir, 'worker.properties');
  const logFile = join(dir, 'connect.log');
  await writeFile(workerFile, properties(workerProperties(options, dir, await freePort())));
  const connectorFiles: string[] = [];
  for (const [name, props] of Object.entries(options.connectors)) {
    const file = join(dir, `connector-${name}.properties`);
    await writeFile(file, properties({ name, ...props }));
    connectorFiles.push(file);
  }
  await writeFile(join(dir, 'log4j2.properties'), LOG4J2_CONFIG);
  const jvm = await spawnServer({
    command: javaCommand(),
    args: [...JVM_OPTIONS, `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${libs}/*`,
      'org.apache.kafka.connect.cli.ConnectStandalone', workerFile, ...connectorFiles],
    logFile,
    deathSignal: 'SIGKILL',
  });
  return {
    pid: jvm.pid,
    logFile,
    running: () => jvm.running(),
    async stop() {
      await jvm.stop('SIGTERM', 20_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface DebeziumSlot {
  server: PgEndpoint;
  database: string;
  /** Debezium `topic.prefix`. */
  topicPrefix: string;
  /** Created by the connector when missing. */
  slot: string;
  /** Must exist (`publication.autocreate.mode=disabled`). */
  publication: string;
  /** `table.include.list`: `schema.table`, comma-separated. */
  table: string;
}

/** Debezium's PostgreSQL connector streaming one slot (no snapshot) into `topic.prefix`; `extra` adds or overrides. */
export function connectorProperties(options: DebeziumSlot, extra: Record<string, string> = {}): Record<string, string> {
  const { server } = options;
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': server.host,
    'database.port': String(server.port),
    'database.user': server.user,
    'database.password': server.password,
    'database.dbname': options.database,
    'topic.prefix': options.topicPrefix,
    'plugin.name': 'pgoutput',
    'slot.name': options.slot,
    'publication.name': options.publication,
    'publication.autocreate.mode': 'disabled',
    'snapshot.mode': 'no_data',
    'table.include.list': options.table,
    ...extra,
  };
}

function properties(map: Record<string, string>): string {
  return `${Object.entries(map).map(([key, value]) => `${key}=${value.replace(/\\/g, '\\\\')}`).join('\n')}\n`;
}

function workerProperties(options: ConnectOptions, dir: string, restPort: number): Record<string, string> {
  const schemas = String(options.schemasEnable);
  return {
    'bootstrap.servers': options.brokers.join(','),
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': schemas,
    'value.converter.schemas.enable': schemas,
    'offset.storage.file.filename': join(dir, 'connect.offsets'),
    listeners: `http://127.0.0.1:${restPort}`,
    ...Object.fromEntries(Object.entries(options.producer ?? {}).map(([key, value]) => [`producer.${key}`, value])),
  };
}

/** What bin/connect-standalone.sh gives the JVM: its default heap and Kafka's GC settings. */
const JVM_OPTIONS = [
  '-Xms256M',
  '-Xmx2G',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

/** Kafka Connect `kafkaVersion` with Debezium's PostgreSQL connector, from Maven Central on first use. */
export async function ensureConnectClasspath(kafkaVersion: string): Promise<string> {
  const dir = join(cacheRoot(), `debezium-${DEBEZIUM_VERSION}-connect-${kafkaVersion}`);
  const libs = join(dir, 'libs');
  if (existsSync(join(dir, '.complete'))) return libs;
  await fetchMavenClasspath(dir, [
    `org.apache.kafka:connect-runtime:${kafkaVersion}`,
    `org.apache.kafka:connect-json:${kafkaVersion}`,
    `io.debezium:debezium-connector-postgres:${DEBEZIUM_VERSION}`,
    ...LOG4J2_BINDING,
  ], `Kafka Connect ${kafkaVersion} and Debezium ${DEBEZIUM_VERSION}`);
  await writeFile(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return libs;
}

