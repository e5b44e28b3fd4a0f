/**
 * The kafkajs client of a sink file, shared by the sink and its verifier:
 * brokers, TLS, SASL, timeouts, and the client's own log lines at our debug
 * level.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ISocketFactory, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSinkConfig } from './kafka-config.ts';
import { useOwnProduceEncoding } from './kafka-produce-request.ts';
import { Kafka, logLevel } from './kafkajs.ts';

export function createKafkaClient(config: KafkaSinkConfig, logger: Logger): Kafka {
  useOwnProduceEncoding();
  return new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl: sslOptions(config.ssl),
    sasl: saslOptions(config.sasl),
    requestTimeout: config.request_timeout_ms,
    connectionTimeout: Math.min(config.request_timeout_ms, 10_000),
    socketFactory: noDelaySocket,
    logLevel: logLevel.WARN,
    // The client's own lines (one per failed connection attempt, retry and
    // response error: a dozen before a single failed write) go to our debug
    // level. What matters reaches the log once, with a hint, as the error the
    // start or the runner's retry reports.
    logCreator: () => ({ log }) => {
      const { message, ...extra } = log;
      // kafkajs warns that finite retries "may invalidate EoS guarantees": we want a
      // failed send to surface so the runner can log, back off and retry the same
      // records (at-least-once; consumers de-duplicate on the LSN header).
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      logger.debug(extra, `kafkajs: ${message}`);
    },
  });
}

const require = createRequire(import.meta.url);
/** kafkajs' default factory (plain or TLS, SNI for host names, keep-alive), the one it uses without a socketFactory. */
const kafkajsSocket = (require('kafkajs/src/network/socketFactory.js') as () => ISocketFactory)();

/**
 * kafkajs' own socket factory, plus TCP_NODELAY, as the Java client sets it.
 * Without it Nagle's algorithm held the last partial segment of a request
 * until the broker's delayed ACK came: 25–60 ms for a write of a few dozen
 * records at 5 000 rows/s, which set the live p99 (docs/kafka-performance.md, step 8).
 */
export const noDelaySocket: ISocketFactory = (args) => {
  const socket = kafkajsSocket(args);
  socket.setNoDelay(true);
  return socket;
};

function sslOptions(ssl: KafkaSinkConfig['ssl']) {
  if (!ssl || ssl === true) return ssl;
  return {
    rejectUnauthorized: ssl.reject_unauthorized,
    ca: ssl.ca ? [readFileSync(ssl.ca, 'utf8')] : undefined,
    cert: ssl.cert ? readFileSync(ssl.cert, 'utf8') : undefined,
    key: ssl.key ? readFileSync(ssl.key, 'utf8') : undefined,
  };
}

function saslOptions(sasl: KafkaSinkConfig['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}
