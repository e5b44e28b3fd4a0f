/**
 * A Kafka sink over TLS, against a private broker whose client listener has a
 * certificate for 127.0.0.1 signed by a CA of its own: with the sink file's
 * `ssl.ca` the changes reach the topic; trusting only the system's CAs, the
 * broker's certificate is refused and slotline stops at start with a hint,
 * before any slot exists.
 */
import { afterAll, describe, it } from 'vitest';
import { startKafka, type KafkaServer } from '../harness/kafka.ts';
import { expectEveryChange, expectRefusedAtStart, setUpSecured } from './kafka-secured-support.ts';

describe('Kafka sink over TLS', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let kafka: KafkaServer;
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  async function setUp(name: string, ssl: (k: KafkaServer) => string) {
    kafka ??= await startKafka({ tls: true }).then((k) => (cleanup.push(() => k.close()), k));
    return setUpSecured(name, kafka.tlsBrokers, `ssl: ${ssl(kafka)}\n`);
  }

  it('with the CA in ssl.ca, writes every change through the TLS listener', async () => {
    const setup = await setUp('tls_ok', (k) => `{ ca: ${JSON.stringify(k.caFile)} }`);
    await expectEveryChange(kafka, setup, cleanup);
  }, 240_000);

  it('trusting only the system CAs, stops at start with a hint about ssl.ca, and no slot is left', async () => {
    await expectRefusedAtStart(await setUp('tls_untrusted', () => 'true'), cleanup, /self-signed certificate in certificate chain/, /hint: .*ssl\.ca/);
  }, 240_000);
});
