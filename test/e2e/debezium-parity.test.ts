/**
 * End to end against the real thing: Debezium 3.6.1 (Kafka Connect standalone,
 * JsonConverter, schemas on) and slotline with `debezium_compat: strict`
 * stream the same changes of ./parity-matrix.ts — every type, edge values,
 * multi-dimensional arrays, unchanged TOAST values, the types Debezium leaves
 * out — with Debezium's default options and with the other modes of each
 * option (`doubles`: double, hex, connect), into the same Kafka. Every key and
 * value must be the same text, byte for byte, but for the envelope's
 * processing time and Debezium's JVM identity strings (./parity-compare.ts).
 * bench/debezium-parity.ts runs all four variants of VARIANTS (the string
 * modes, a hex: placeholder), and the default mode too, to list its deviations.
 *
 * Debezium's jars come from Maven Central on first use (../harness/debezium-connect.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureConnectClasspath } from '../harness/debezium-connect.ts';
import { freshDatabase, kafkaBrokers, kafkaVersion, uniqueName } from '../harness/context.ts';
import { runParity } from './debezium-parity-support.ts';

const VARIANTS = ['defaults', 'doubles'];

describe('debezium_compat: strict beside Debezium 3.6.1', () => {
  beforeAll(async () => {
    await ensureConnectClasspath(kafkaVersion());
  });

  // The limit only ends a hung run: every wait inside is on a condition (records in, slots streaming).
  it('writes the records Debezium writes, with default options and with the other modes', { timeout: 600_000 }, async () => {
    const db = await freshDatabase('parity');
    const result = await runParity({
      server: db, database: db.database, brokers: kafkaBrokers(), kafkaVersion: kafkaVersion(),
      stem: uniqueName('parity'), variants: VARIANTS, compat: 'strict',
    });
    expect(result.differences).toEqual([]);
    // The multi-dimensional text[] of rows 1 and 3 in each variant: Debezium's identity strings, read as null.
    expect(result.identities).toBe(4 * VARIANTS.length);
  });
});
