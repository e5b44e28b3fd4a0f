/**
 * kafkajs errors → slotline's three kinds (STYLE.md, habit 4). The one place
 * that knows kafkajs error names and protocol error types.
 */
import { OperatorError, RecordError, RetryableError, type SlotlineError } from '../../src/errors.ts';

const OPERATOR_TYPES: Record<string, string> = {
  SASL_AUTHENTICATION_FAILED: 'check the sink file\'s sasl username, password and mechanism',
  ILLEGAL_SASL_STATE: 'check the sink file\'s sasl mechanism against the broker\'s sasl.enabled.mechanisms',
  UNSUPPORTED_SASL_MECHANISM: 'pick a sasl mechanism the broker enables (sasl.enabled.mechanisms)',
  TOPIC_AUTHORIZATION_FAILED: 'grant the principal WRITE (and DESCRIBE) on the topic, e.g. kafka-acls --add --operation Write --topic …',
  CLUSTER_AUTHORIZATION_FAILED: 'the idempotent producer needs IDEMPOTENT_WRITE on the cluster (Kafka < 2.8) — grant it, or use a broker ≥ 2.8',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'grant the principal WRITE on the transactional id',
  UNKNOWN_TOPIC_OR_PARTITION: 'create the topic, or set create_topics.enabled: true in the sink file (the broker does not auto-create it)',
  INVALID_TOPIC_EXCEPTION: 'the topic template produced a name Kafka rejects; change `topic` in the sink file',
  POLICY_VIOLATION: 'the broker\'s create-topic policy rejected our topic settings; change create_topics in the sink file',
  INVALID_REPLICATION_FACTOR: 'create_topics.replication_factor is larger than the number of brokers',
  UNSUPPORTED_VERSION: 'the broker does not speak a protocol version kafkajs needs; see README "Kafka versions"',
};

const RECORD_TYPES: Record<string, string> = {
  MESSAGE_TOO_LARGE: 'raise the topic\'s max.message.bytes (and the broker\'s message.max.bytes), or exclude the wide column',
  RECORD_LIST_TOO_LARGE: 'lower batch.max_bytes in the sink file, or raise the broker\'s message.max.bytes',
  INVALID_RECORD: 'the broker rejected a record (e.g. a compacted topic needs a key: tables without a primary key cannot go to compacted topics)',
};

/** The innermost kafkajs error (NumberOfRetriesExceeded wraps the real one). */
export function rootCause(err: any): any {
  let e = err;
  for (let i = 0; i < 5 && e?.cause && e.cause !== e; i++) e = e.cause;
  return e;
}

export function classifyKafkaError(err: unknown, what: string): SlotlineError {
  const root = rootCause(err);
  const type: string | undefined = root?.type;
  const message = `${what}: ${root?.message ?? String(err)}`;
  if (type && OPERATOR_TYPES[type]) return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES[type] });
  if (type && RECORD_TYPES[type]) return new RecordError(message, 0, { cause: err, hint: RECORD_TYPES[type] });
  if (root?.name === 'KafkaJSSASLAuthenticationError') {
    return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES.SASL_AUTHENTICATION_FAILED });
  }
  if (root?.name === 'KafkaJSServerDoesNotSupportApiKey') {
    return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES.UNSUPPORTED_VERSION });
  }
  // Connection errors, timeouts, leader changes, NOT_ENOUGH_REPLICAS…: the broker may come back.
  return new RetryableError(message, { cause: err });
}
