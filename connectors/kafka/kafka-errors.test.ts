import { describe, expect, it } from 'vitest';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { classifyKafkaError, takenOver } from './kafka-errors.ts';

// Error *values* from kafkajs itself, not a stand-in for the broker: the broker
// cases are exercised end to end in test/kafka/*.test.ts.
const protocol = (type: string) => new KafkaJSProtocolError({ type, message: `${type} from broker`, code: 0, retriable: false } as any);

describe('classifyKafkaError', () => {
  it.each([
    [protocol('TOPIC_AUTHORIZATION_FAILED'), 'operator', /grant the principal WRITE/],
    [protocol('UNKNOWN_TOPIC_OR_PARTITION'), 'operator', /create_topics.enabled/],
    [protocol('MESSAGE_TOO_LARGE'), 'record', /max.message.bytes/],
    [new (KafkaJSSASLAuthenticationError as any)('SASL PLAIN authentication failed'), 'operator', /sasl username/],
    [new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { code: 'ECONNREFUSED' } as any), 'retryable', undefined],
    [new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' } as any), 'operator', /ssl\.ca/],
    [new KafkaJSConnectionError('Connection error: Hostname/IP does not match certificate\'s altnames', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } as any), 'operator', /address the certificate names/],
  ])('%s is %s', (err, kind, hint) => {
    const classified = classifyKafkaError(err, 'writing to Kafka');
    expect(classified.kind).toBe(kind);
    expect(classified.message).toMatch(/^writing to Kafka: /);
    if (hint) expect(classified.hint).toMatch(hint);
  });

  it('names the topics of a write the broker does not have, retryable only right after creating them', () => {
    const off = classifyKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION'), 'writing 3 events to Kafka', { topics: ['app.public.a'], createTopics: false });
    expect(off.kind).toBe('operator');
    expect(off.message).toBe('writing 3 events to Kafka: the broker has no topic "app.public.a" and did not create it');
    expect(off.hint).toMatch(/auto\.create\.topics\.enable/);
    const on = classifyKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION'), 'writing 3 events to Kafka', { topics: ['app.public.a'], createTopics: true });
    expect(on.kind).toBe('retryable');
  });

  it('looks through NumberOfRetriesExceeded to the broker error', () => {
    const wrapped = new KafkaJSNumberOfRetriesExceeded(protocol('TOPIC_AUTHORIZATION_FAILED'), { retryCount: 5, retryTime: 100 });
    expect(classifyKafkaError(wrapped, 'send').kind).toBe('operator');
  });
});

describe('takenOver (a newer producer has our transactional id)', () => {
  it.each([
    ['PRODUCER_FENCED (code 90, newer than kafkajs)', new KafkaJSProtocolError({ type: 'UNKNOWN', message: 'There is a newer producer with the same transactionalId', code: 90, retriable: false } as any)],
    ['INVALID_PRODUCER_EPOCH', protocol('INVALID_PRODUCER_EPOCH')],
    ['CONCURRENT_TRANSACTIONS through every retry', new KafkaJSNumberOfRetriesExceeded(protocol('CONCURRENT_TRANSACTIONS'), { retryCount: 8, retryTime: 2000 })],
  ])('%s: stop with the fenced hint', (_name, err) => {
    const stop = takenOver(err, 'writing 3 events in a Kafka transaction');
    expect(stop?.kind).toBe('operator');
    expect(stop?.message).toMatch(/^writing 3 events in a Kafka transaction: /);
    expect(stop?.hint).toMatch(/fenced this one/);
  });

  it.each([
    ['a lost connection', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092')],
    ['NOT_LEADER_OR_FOLLOWER', protocol('NOT_LEADER_OR_FOLLOWER')],
    ['no error (an abort that went through)', null],
  ])('%s: not taken over', (_name, err) => {
    expect(takenOver(err, 'writing')).toBeNull();
  });
});
