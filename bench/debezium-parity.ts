/**
 * Debezium 3.6.1 and slotline side by side on private servers, every option
 * variant (test/e2e/debezium-parity-support.ts):
 *
 *   node bench/debezium-parity.ts [--compat strict|lossless] [--pg 17] [--variant name]...
 *
 * `strict` (the default) must show no difference: it exits 1 on any. `lossless`
 * lists where slotline's default keeps what Debezium loses, to check the
 * deviations in docs/type-mapping.md; it exits 0.
 */
import { parseArgs } from 'node:util';
import { runParity, VARIANTS } from '../test/e2e/debezium-parity-support.ts';
import { startKafka } from '../test/harness/kafka.ts';
import { startPostgres } from '../test/harness/postgres.ts';

const { values: args } = parseArgs({
  options: { compat: { type: 'string', default: 'strict' }, pg: { type: 'string', default: '17' }, variant: { type: 'string', multiple: true } },
});
if (args.compat !== 'strict' && args.compat !== 'lossless') {
  console.error('--compat is strict or lossless');
  process.exit(2);
}
const compat = args.compat;
const variants = args.variant ?? Object.keys(VARIANTS);
const log = (message: string): void => console.log(`[parity] ${message}`);

const [server, kafka] = await Promise.all([startPostgres({ major: Number(args.pg) }), startKafka()]);
let exitCode = 0;
try {
  await server.createDatabase('parity');
  log(`PostgreSQL ${server.version}, Kafka ${kafka.version}; variants ${variants.join(', ')}; slotline debezium_compat: ${compat}`);
  const result = await runParity({ server, database: 'parity', brokers: kafka.brokers, kafkaVersion: kafka.version, stem: 'parity', variants, compat });
  let total = 0;
  for (const { variant, table, differences } of result.differences) {
    total += differences.length;
    log(`${variant} ${table}: ${differences.length} difference(s), Debezium → slotline`);
    for (const d of differences) console.log(`  ${d.path}\n    ${d.expected}\n    ${d.actual}`);
  }
  log(`${total} difference(s) in ${result.seconds.toFixed(1)} s from Kafka Connect's spawn; ${result.identities} JVM identity string(s) in Debezium's records read as null`);
  if (total > 0 && compat === 'strict') exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await Promise.allSettled([server.stop(), kafka.close()]);
}
process.exit(exitCode);
