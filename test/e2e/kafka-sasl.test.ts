/**
 * A Kafka sink that authenticates with SASL (PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512, the mechanisms the sink file offers), against a private
 * broker whose client listener requires it: the changes reach the topic, and
 * a wrong password stops slotline at start with a hint, before any slot exists.
 */
import { afterAll, describe, it } from 'vitest';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { expectEveryChange, expectRefusedAtStart, setUpSecured } from './kafka-secured-support.ts';

const USER = 'slotline';
const PASSWORD = 'pl4in-s3cret';
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

describe('Kafka sink with SASL', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let kafka: KafkaServer;
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  async function setUp(name: string, mechanism: Mechanism) {
    kafka ??= await startKafka({ saslUsers: { [USER]: PASSWORD } }).then((k) => (cleanup.push(() => k.close()), k));
    // The password from the environment, as the docs advise.
    return setUpSecured(`${name}_${mechanism.replaceAll('-', '_')}`, kafka.saslBrokers, `sasl:\n  mechanism: ${mechanism}\n  username: ${USER}\n  password: \${KAFKA_PASSWORD}\n`);
  }

  for (const mechanism of MECHANISMS) {
    it(`${mechanism}: writes every change through the authenticated listener`, async () => {
      const setup = await setUp('sasl', mechanism);
      await expectEveryChange(kafka, setup, cleanup, { ...process.env, KAFKA_PASSWORD: PASSWORD });
    }, 240_000);
  }

  for (const [mechanism, failure] of [['plain', /SASL PLAIN authentication failed/], ['scram-sha-512', /SASL SCRAM SHA512 authentication failed/]] as const) {
    it(`${mechanism}: a wrong password stops slotline at start with a hint, and no slot is left`, async () => {
      await expectRefusedAtStart(await setUp('sasl_bad', mechanism), cleanup, failure, /hint: .*sasl/i, { ...process.env, KAFKA_PASSWORD: 'not-the-password' });
    }, 240_000);
  }
});
