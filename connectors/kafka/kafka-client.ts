/**
 * The kafkajs client of a sink file, shared by the sink and its verifier:
 * brokers, TLS, SASL, timeouts, and the client's own log lines at our debug
 * level.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSinkConfig } from './kafka-config.ts';
import { useOwnProduceEncoding } from './kafka-produce-request.ts';

export function createKafkaClient(config: KafkaSinkConfig, logger: Logger): Kafka {
  useOwnProduceEncoding();
  return new Kafka({
    clientId: config.client_id,
    brokers: config.brokers,
    ssl: sslOptions(config.ssl),
    sasl: saslOptions(config.sasl),
    requestTimeout: config.request_timeout_ms,
    connectionTimeout: Math.min(config.request_timeout_ms, 10_000),
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
