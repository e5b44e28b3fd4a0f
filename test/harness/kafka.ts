/**
 * A single-node Apache Kafka (KRaft, broker and controller in one JVM) for tests:
 * a local Java process on reserved loopback ports (./ports.ts), its data and log in a temp dir.
 *
 * `stop()` + `start()` restart it on the same ports and data (topics, offsets and
 * producer state survive), for tests that take the broker away mid-load.
 * `kill()` is SIGKILL (no controlled shutdown); `start()` works after it too.
 * `close()` stops it for good and removes the temp dir.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from '../../connectors/kafka/kafkajs.ts';
import { defaultKafkaVersion, ensureKafkaDist, type KafkaDist } from './kafka-dist.ts';
import { startOnFreePorts } from './ports.ts';
import { makeServerDir } from './server-dirs.ts';
import { makeBrokerTls } from './kafka-tls.ts';
import { runTool, spawnServer, waitUntilReady, type ServerProcess } from './server-process.ts';

export interface KafkaServer {
  version: string;
  /** ['127.0.0.1:<port>'] */
  brokers: string[];
  /** With `saslUsers`: the SASL_PLAINTEXT listener, ['127.0.0.1:<port>']; else empty. */
  saslBrokers: string[];
  /** With `tls`: the SSL listener, ['127.0.0.1:<port>'], and the PEM of the CA that signed its certificate; else empty and null. */
  tlsBrokers: string[];
  caFile: string | null;
  logFile: string;
  /** The broker's log.dirs: `<topic>-<partition>/` folders of segment files, for tests that check what is on disk. */
  dataDir: string;
  /** Controlled shutdown (SIGTERM); data and ports are kept for `start()`. */
  stop(): Promise<void>;
  /** Starts again after `stop()` or `kill()`, same ports and data; resolves when metadata is served. */
  start(): Promise<void>;
  /** SIGKILL, no controlled shutdown; data and ports are kept for `start()`. */
  kill(): Promise<void>;
  /** Stops the broker if running and removes its temp dir. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartKafkaOptions {
  /** Broker version; default SLOTLINE_KAFKA_VERSION or DEFAULT_KAFKA_VERSION. */
  version?: string;
  /** Extra server.properties lines, e.g. { 'auto.create.topics.enable': 'false' }. */
  properties?: Record<string, string>;
  /**
   * A second client listener, SASL_PLAINTEXT with the mechanisms PLAIN,
   * SCRAM-SHA-256 and SCRAM-SHA-512, that takes these users (name →
   * password; SCRAM credentials are stored when the storage is formatted, so
   * neither may hold `,`, `[`, `]` or `"`); the PLAINTEXT one stays for the
   * harness and the tests' own clients.
   */
  saslUsers?: Record<string, string>;
  /** A client listener with TLS (SSL), its certificate for 127.0.0.1 signed by a CA of its own (kafka-tls.ts). */
  tls?: boolean;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaServer> {
  const dist = await ensureKafkaDist(opts.version ?? defaultKafkaVersion());
  const root = await makeServerDir(`kafka-${dist.version}`);
  const propertiesFile = join(root, 'server.properties');
  const dataDir = join(root, 'data');
  const logFile = join(root, 'kafka.log');
  const java = javaCommand();
  let server: ServerProcess | undefined;
  const launch = async (brokerPort: number): Promise<void> => {
    if (server?.running()) return;
    server = await spawnServer({
      command: java,
      args: [...jvmOptions(dist, root), '-cp', `${dist.libs}/*`, 'kafka.Kafka', propertiesFile],
      logFile,
      // SIGTERM runs the broker's shutdown hook: a controlled shutdown.
      deathSignal: 'SIGTERM',
    });
    await waitUntilReady(`Kafka ${dist.version} on ${HOST}:${brokerPort}`, server, () => probe([`${HOST}:${brokerPort}`]), START_TIMEOUT_MS);
  };
  // The storage is formatted anew for each pair of ports: the controller's address is part of the cluster's setup.
  const sasl = opts.saslUsers;
  const tls = opts.tls ? await makeBrokerTls(root, java) : null;
  /** Client listeners beside PLAINTEXT, each on a port of its own after the broker's and the controller's. */
  const extra = [...(sasl ? ['SASL_PLAINTEXT'] : []), ...(tls ? ['SSL'] : [])];
  const started = await startOnFreePorts(2 + extra.length, async ([brokerPort, controllerPort, ...extraPorts]) => {
    await rm(dataDir, { recursive: true, force: true });
    const properties = {
      ...listenerProperties(brokerPort, controllerPort, extra.map((name, i) => [name, extraPorts[i]])),
      ...(sasl ? saslProperties(sasl) : {}),
      ...(tls ? { 'ssl.keystore.location': tls.keystore, 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.password': tls.password, 'ssl.key.password': tls.password } : {}),
      ...opts.properties,
    };
    await writeFile(propertiesFile, serverProperties(dataDir, controllerPort, properties));
    await runTool(java, [
      '-Xmx256m', dist.loggingProperty, '-cp', `${dist.libs}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propertiesFile,
      ...(sasl ? scramCredentials(sasl) : []),
    ]);
    await launch(brokerPort);
  }).catch(async (err) => {
    await rm(root, { recursive: true, force: true });
    throw err;
  });
  const [brokerPort] = started.ports;
  const listening = (name: string): string[] => (extra.includes(name) ? [`${HOST}:${started.ports[2 + extra.indexOf(name)]}`] : []);
  return {
    version: dist.version,
    brokers: [`${HOST}:${brokerPort}`],
    saslBrokers: listening('SASL_PLAINTEXT'),
    tlsBrokers: listening('SSL'),
    caFile: tls?.caFile ?? null,
    logFile,
    dataDir,
    start: () => launch(brokerPort),
    async stop() {
      await server?.stop('SIGTERM', STOP_TIMEOUT_MS);
    },
    async kill() {
      await server?.stop('SIGKILL', STOP_TIMEOUT_MS);
    },
    async close() {
      await server?.stop('SIGTERM', STOP_TIMEOUT_MS);
      started.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The java binary: SLOTLINE_JAVA, else $JAVA_HOME/bin/java, else `java` on PATH (Java 17+). */
export function javaCommand(): string {
  if (process.env.SLOTLINE_JAVA) return process.env.SLOTLINE_JAVA;
  if (process.env.JAVA_HOME) return join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

function jvmOptions(dist: KafkaDist, root: string): string[] {
  return [
    // What Kafka's own start scripts give a broker (kafka-server-start.sh's heap,
    // kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS). A smaller heap is no saving:
    // produce requests near 1 MB are humongous objects to G1 (1 MiB regions), and
    // with the broker's ~160 MiB of live data in a 512 MiB heap each one started a
    // concurrent cycle, whose pauses held acknowledgements for up to 0.5 s.
    '-Xms1g',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${root}`,
    dist.loggingProperty,
    // For diagnosis, e.g. SLOTLINE_KAFKA_JVM_OPTIONS='-Xlog:gc*:file=/tmp/broker-gc.log'.
    ...(process.env.SLOTLINE_KAFKA_JVM_OPTIONS?.split(/\s+/).filter((o) => o !== '') ?? []),
  ];
}

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** The listener lines for client listeners (name, port) beside the PLAINTEXT one; each listener's security protocol is its name. */
function listenerProperties(brokerPort: number, controllerPort: number, extra: Array<[string, number]>): Record<string, string> {
  const clients = [['PLAINTEXT', brokerPort] as [string, number], ...extra];
  return {
    listeners: [...clients.map(([name, port]) => `${name}://${HOST}:${port}`), `CONTROLLER://${HOST}:${controllerPort}`].join(','),
    'advertised.listeners': clients.map(([name, port]) => `${name}://${HOST}:${port}`).join(','),
    'listener.security.protocol.map': ['CONTROLLER:PLAINTEXT', ...clients.map(([name]) => `${name}:${name}`)].join(','),
  };
}

/** The SASL_PLAINTEXT listener's mechanisms (PLAIN and SCRAM); users are name → password. */
function saslProperties(users: Record<string, string>): Record<string, string> {
  const quoted = (s: string): string => JSON.stringify(s);
  const userLines = Object.entries(users).map(([name, password]) => `user_${name}=${quoted(password)}`).join(' ');
  return {
    'sasl.enabled.mechanisms': ['PLAIN', ...SCRAM_MECHANISMS].join(','),
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${userLines};`,
    // SCRAM checks the credentials stored in the cluster's metadata (scramCredentials).
    ...Object.fromEntries(SCRAM_MECHANISMS.map((m) => [
      `listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config`, 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    ])),
  };
}

/** StorageTool format arguments that store each user's SCRAM credentials, for both mechanisms. */
function scramCredentials(users: Record<string, string>): string[] {
  return Object.entries(users).flatMap(([name, password]) => {
    if (/[,[\]"]/.test(name + password)) throw new Error(`SCRAM user ${name}: a name or password with , [ ] or " cannot be stored by StorageTool's --add-scram`);
    return SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]);
  });
}

function serverProperties(dataDir: string, controllerPort: number, extra: Record<string, string>): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    // listeners, advertised.listeners and the protocol map: listenerProperties.
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    // One partition: the first consumer group join does not wait for 50 to be created.
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // After a kill, the controller refuses the restarted broker's registration until the
    // old session expires (DUPLICATE_BROKER_REGISTRATION): 9 s by default, 3 s here.
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    ...extra,
  };
  return `${Object.entries(props).map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url, 22 characters. One that starts
 * with '-' would read as an option to StorageTool (`-t -OVB…`), so draw again, as
 * Kafka's own Uuid.randomUuid does.
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function probe(brokers: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'slotline-harness-probe', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2_000 }).admin();
  await admin.connect();
  try {
    await admin.describeCluster();
    await admin.fetchTopicMetadata({ topics: [] });
  } finally {
    await admin.disconnect();
  }
}

