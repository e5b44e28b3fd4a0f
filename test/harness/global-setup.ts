/**
 * vitest global setup: starts the shared servers once per run, hands their
 * connection info to the test files (`provide`, read through ./context.ts), and
 * stops them when the run ends.
 *
 * - PostgreSQL: one server per major in SLOTLINE_PG_MAJORS (default "17,15").
 * - Kafka: one broker, version SLOTLINE_KAFKA_VERSION (default in ./kafka-dist.ts).
 * - Elasticsearch: one node, version SLOTLINE_ES_VERSION (default in ./elasticsearch-dist.ts).
 * - Redis: one Debian `redis-server` on a reserved port (./redis.ts).
 *
 * A server that cannot start fails the whole run with its log tail: a suite
 * that silently skips its integration tests is worse than a red run.
 *
 * Before the servers, the run gets a temp dir of its own (TMPDIR, see ./temp-dirs.ts);
 * the teardown removes it after the servers stop and fails if the tests left anything in it.
 */
import type { TestProject } from 'vitest/node';
import type { EsConnectionInfo, KafkaConnectionInfo } from './context.ts';
import { startKafka, type KafkaServer } from './kafka.ts';
import { startElasticsearch } from './elasticsearch.ts';
import { startRedis } from './redis.ts';
import { makeRunTempDir } from './temp-dirs.ts';
import { SUPPORTED_PG_MAJORS, startPostgres, type PgConnectionInfo, type PgServer } from './postgres.ts';

const DEFAULT_PG_MAJORS = '17,15';

export function pgMajorsFromEnv(value = process.env.SLOTLINE_PG_MAJORS ?? DEFAULT_PG_MAJORS): number[] {
  const majors = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const unsupported = majors.filter((m) => !(SUPPORTED_PG_MAJORS as readonly number[]).includes(m));
  if (majors.length === 0 || unsupported.length > 0) {
    throw new Error(`SLOTLINE_PG_MAJORS="${value}": want a comma-separated list of ${SUPPORTED_PG_MAJORS.join(', ')}`);
  }
  return [...new Set(majors)];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const majors = pgMajorsFromEnv();
  const runTmp = await makeRunTempDir();
  const started = Date.now();
  const esStarting = Promise.allSettled([startElasticsearch()]);
  const redisStarting = Promise.allSettled([startRedis()]);
  const [kafkaResult, ...pgResults] = await Promise.allSettled([
    startKafka(),
    ...majors.map((major) => startPostgres({ major })),
  ]);
  const postgres = pgResults.flatMap((r) => (r.status === 'fulfilled' ? [r.value as PgServer] : []));
  const kafka = kafkaResult.status === 'fulfilled' ? (kafkaResult.value as KafkaServer) : undefined;
  const [esResult] = await esStarting;
  const es = esResult.status === 'fulfilled' ? esResult.value : undefined;
  const [redisResult] = await redisStarting;
  const redis = redisResult.status === 'fulfilled' ? redisResult.value : undefined;
  const teardown = async (): Promise<void> => {
    await Promise.allSettled([kafka?.close(), es?.close(), redis?.close(), ...postgres.map((s) => s.stop())]);
    await runTmp.close();
  };

  const failures = [kafkaResult, esResult, redisResult, ...pgResults].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  if (failures.length > 0) {
    await teardown().catch(() => undefined);
    const reasons = failures.map((err) => (err instanceof Error ? err.message : String(err))).join('\n\n');
    throw new Error(`test harness: ${failures.length} server(s) failed to start\n\n${reasons}`);
  }

  const pgInfo: PgConnectionInfo[] = postgres.map(({ major, version, host, port, user, password }) => ({ major, version, host, port, user, password }));
  const kafkaInfo: KafkaConnectionInfo = { version: kafka!.version, brokers: kafka!.brokers };
  project.provide('slotlinePostgres', pgInfo);
  project.provide('slotlineKafka', kafkaInfo);
  const esInfo: EsConnectionInfo = { version: es!.version, node: es!.node };
  project.provide('slotlineElasticsearch', esInfo);
  project.provide('slotlineRedis', { url: redis!.url });
  const summary = [...pgInfo.map((s) => `PostgreSQL ${s.version} on ${s.host}:${s.port}`), `Kafka ${kafkaInfo.version} on ${kafkaInfo.brokers.join(',')}`, `Elasticsearch ${esInfo.version} on ${esInfo.node}`, `Redis on ${redis!.url}`];
  console.log(`test harness: started in ${Date.now() - started} ms: ${summary.join('; ')}`);
  return teardown;
}
