/**
 * kafkajs errors → slotline's three kinds (STYLE.md, habit 4). The one place
 * that knows kafkajs error names and protocol error types.
 */
import { OperatorError, RecordError, RetryableError, type SlotlineError } from '../../src/errors.ts';

const FENCED_HINT = 'another producer with this transactional_id started (a second slotline with the same sink?) and fenced this one: run one per transactional_id; '
  + 'or a transaction outlived transaction_timeout_ms (a large Postgres transaction): raise it, up to the broker\'s transaction.max.timeout.ms';

const OPERATOR_TYPES: Record<string, string> = {
  SASL_AUTHENTICATION_FAILED: 'check the sink file\'s sasl username, password and mechanism',
  ILLEGAL_SASL_STATE: 'check the sink file\'s sasl mechanism against the broker\'s sasl.enabled.mechanisms',
  UNSUPPORTED_SASL_MECHANISM: 'pick a sasl mechanism the broker enables (sasl.enabled.mechanisms)',
  TOPIC_AUTHORIZATION_FAILED: 'grant the principal WRITE (and DESCRIBE) on the topic, e.g. kafka-acls --add --operation Write --topic …',
  CLUSTER_AUTHORIZATION_FAILED: 'the idempotent producer needs IDEMPOTENT_WRITE on the cluster (Kafka < 2.8) — grant it, or use a broker ≥ 2.8',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'grant the principal WRITE on the transactional id',
  INVALID_PRODUCER_EPOCH: FENCED_HINT,
  PRODUCER_FENCED: FENCED_HINT,
  UNKNOWN_TOPIC_OR_PARTITION: 'create the topic, set create_topics.enabled: true in the sink file, or turn on the broker\'s auto.create.topics.enable',
  INVALID_TOPIC_EXCEPTION: 'the topic template produced a name Kafka rejects; change `topic` in the sink file',
  POLICY_VIOLATION: 'the broker\'s create-topic policy rejected our topic settings; change create_topics in the sink file',
  INVALID_REPLICATION_FACTOR: 'create_topics.replication_factor is larger than the number of brokers',
  UNSUPPORTED_VERSION: 'the broker does not speak a protocol version kafkajs needs; see README "Kafka versions"',
};

/** Operator errors that a restart cannot outlast: a person must change the sink file or the broker's setup. */
const PERMANENT_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION', 'POLICY_VIOLATION', 'INVALID_REPLICATION_FACTOR', 'UNSUPPORTED_VERSION',
]);

const RECORD_TYPES: Record<string, string> = {
  MESSAGE_TOO_LARGE: 'raise the topic\'s max.message.bytes (and the broker\'s message.max.bytes), or exclude the wide column',
  RECORD_LIST_TOO_LARGE: 'lower batch.max_bytes in the sink file, or raise the broker\'s message.max.bytes',
  INVALID_RECORD: 'the broker rejected a record (e.g. a compacted topic needs a key: tables without a primary key cannot go to compacted topics)',
};

/**
 * Node's codes for a broker certificate that TLS verification refused (kafkajs
 * keeps the socket error's code on its connection error). Retrying cannot
 * make it trusted: it is the sink file's `ssl` or the broker's certificate.
 */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const CERTIFICATE_HINT = 'the broker\'s TLS certificate is not trusted: set ssl.ca in the sink file to the PEM of the CA that signed it '
  + '(ssl: { ca: /path/to/ca.pem }), and use a broker address the certificate names; or renew an expired certificate';

/** The innermost kafkajs error (NumberOfRetriesExceeded wraps the real one). */
export function rootCause(err: any): any {
  let e = err;
  for (let i = 0; i < 5 && e?.cause && e.cause !== e; i++) e = e.cause;
  return e;
}

/** The broker's error type of a root cause; kafkajs 2.2.4 predates PRODUCER_FENCED (code 90), which newer brokers send. */
function protocolType(root: any): string | undefined {
  return root?.code === 90 ? 'PRODUCER_FENCED' : root?.type;
}

/** What a write knows about an error's likely topics. */
export interface WriteContext {
  /** Topics of the write, the ones not written before first. */
  topics: readonly string[];
  /** create_topics.enabled of the sink file. */
  createTopics: boolean;
}

export function classifyKafkaError(err: unknown, what: string, write?: WriteContext): SlotlineError {
  const root = rootCause(err);
  const type = protocolType(root);
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION' && write) return missingTopic(err, what, write);
  const message = `${what}: ${root?.message ?? String(err)}`;
  if (type && OPERATOR_TYPES[type]) return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES[type], permanent: PERMANENT_TYPES.has(type) });
  if (type && RECORD_TYPES[type]) return new RecordError(message, 0, { cause: err, hint: RECORD_TYPES[type] });
  if (root?.name === 'KafkaJSSASLAuthenticationError') {
    return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES.SASL_AUTHENTICATION_FAILED, permanent: true });
  }
  if (typeof root?.code === 'string' && CERTIFICATE_CODES.has(root.code)) {
    return new OperatorError(message, { cause: err, hint: CERTIFICATE_HINT, permanent: true });
  }
  if (root?.name === 'KafkaJSServerDoesNotSupportApiKey') {
    return new OperatorError(message, { cause: err, hint: OPERATOR_TYPES.UNSUPPORTED_VERSION, permanent: true });
  }
  // Connection errors, timeouts, leader changes, NOT_ENOUGH_REPLICAS…: the broker may come back.
  return new RetryableError(message, { cause: err });
}

/**
 * Whether the coordinator of our transactional id has given it to a newer
 * producer: it fenced this one (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH), or
 * it kept answering CONCURRENT_TRANSACTIONS through every retry, as it does
 * while it aborts our transaction for a newer producer's InitProducerId (our
 * own commit's markers take milliseconds). A writer that opened a producer
 * again after that would fence the newer one in turn: a zombie taking its id
 * back. Returns the error to stop with, or null.
 */
export function takenOver(err: unknown, what: string): OperatorError | null {
  const root = rootCause(err);
  const type = protocolType(root);
  if (type === 'PRODUCER_FENCED' || type === 'INVALID_PRODUCER_EPOCH') return new OperatorError(`${what}: ${root.message}`, { cause: err, hint: FENCED_HINT });
  if (type === 'CONCURRENT_TRANSACTIONS') {
    return new OperatorError(`${what}: the transaction coordinator kept answering CONCURRENT_TRANSACTIONS, as it does while another producer with this transactional_id starts`, { cause: err, hint: FENCED_HINT });
  }
  return null;
}

/**
 * The broker has no topic of a write. With create_topics on, it is one we have
 * just created and the broker does not list yet (KRaft propagates metadata
 * asynchronously, and kafkajs' createTopics with waitForLeaders gives up on
 * it): the next attempt finds it. Otherwise the broker did not auto-create it
 * (the producer asked it to, and kafkajs retried the metadata meanwhile).
 */
function missingTopic(err: unknown, what: string, write: WriteContext): SlotlineError {
  if (write.createTopics) return new RetryableError(`${what}: topic not visible yet after creating it`, { cause: err });
  const names = write.topics.map((t) => JSON.stringify(t)).join(', ');
  return new OperatorError(`${what}: the broker has no topic ${names} and did not create it`, { cause: err, hint: OPERATOR_TYPES.UNKNOWN_TOPIC_OR_PARTITION });
}
