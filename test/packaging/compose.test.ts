/**
 * Docker cannot run on our machines, so check what can be checked: the compose
 * file parses, its services are wired as the README says, every file it mounts
 * or builds from exists, the config it mounts validates with the compose
 * environment, and the monitoring profile's Prometheus and Grafana get the
 * files they are meant to (Prometheus's config checked by the real promtool).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { REPO } from '../e2e/support.ts';
import { DEFAULT_KAFKA_VERSION } from '../harness/kafka-dist.ts';
import { promtool } from './promtool.ts';

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));
const services: Record<string, any> = compose.services;
const yamlFile = (...path: string[]): any => parse(readFileSync(join(REPO, ...path), 'utf8'));

/** A service's bind mounts as { host (repo-relative), container } pairs. */
function mounts(service: string): { host: string; container: string }[] {
  return (services[service].volumes ?? []).map((v: string) => {
    const [host, container] = v.split(':');
    return { host: posix.normalize(host), container };
  });
}

/** Host ports a service publishes ("127.0.0.1:15432:5432" → 15432). */
function hostPorts(service: string): number[] {
  return (services[service].ports ?? []).map((p: string) => Number(String(p).split(':').at(-2)));
}

describe('docker-compose.yml', () => {
  it('has postgres with wal_level=logical, kafka in KRaft mode, and slotline built from the Dockerfile; the rest under profiles', () => {
    expect(Object.keys(services).sort()).toEqual(['elasticsearch', 'grafana', 'kafka', 'postgres', 'prometheus', 'redis', 'slotline']);
    const profiles = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, s.profiles ?? []]));
    expect(profiles).toEqual({
      postgres: [], kafka: [], slotline: [],
      redis: ['redis'], elasticsearch: ['elasticsearch'], prometheus: ['monitoring'], grafana: ['monitoring'],
    });
    expect(services.elasticsearch.environment['xpack.security.enabled']).toBe('false');
    expect(services.postgres.command.join(' ')).toContain('wal_level=logical');
    expect(services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(services.slotline.build).toBe('.');
    expect(existsSync(join(REPO, 'Dockerfile'))).toBe(true);
  });

  it('runs the Kafka version the tests run', () => {
    expect(services.kafka.image).toBe(`apache/kafka:${DEFAULT_KAFKA_VERSION}`);
  });

  it('makes slotline wait for Postgres and Kafka, and for Redis and Elasticsearch only when their profile is on', () => {
    expect(services.slotline.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      kafka: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy', required: false },
      elasticsearch: { condition: 'service_healthy', required: false },
    });
    for (const name of Object.keys(services.slotline.depends_on)) expect(services[name].healthcheck, name).toBeDefined();
  });

  it('restarts slotline on failure a bounded number of times, so a configuration error (exit 78) does not restart forever', () => {
    expect(services.slotline.restart).toMatch(/^on-failure:\d+$/);
  });

  it('publishes no host port that a local PostgreSQL or Redis uses, and only on the loopback', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(hostPorts(name), name).not.toContain(5432);
      expect(hostPorts(name), name).not.toContain(6379);
      for (const port of service.ports ?? []) expect(String(port), name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('exposes slotline\'s HTTP port 9187 and checks its health there', () => {
    expect(services.slotline.expose).toContain('9187');
    expect(hostPorts('slotline')).toEqual([9187]);
    expect(services.slotline.healthcheck.test.join(' ')).toContain('http://127.0.0.1:9187/healthz');
  });

  it('mounts files that exist', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const host = String(volume).split(':')[0];
        expect(existsSync(join(REPO, host)), `${host} exists`).toBe(true);
      }
    }
  });

  it('the mounted config validates with the compose environment, listens where Prometheus scrapes, and names the tables the init script creates', async () => {
    // The container's environment: the image's ENV lines, then the compose file's.
    const image = Object.fromEntries([...readFileSync(join(REPO, 'Dockerfile'), 'utf8').matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    const env = { ...image, ...services.slotline.environment };
    const config = await loadConfig(join(REPO, 'config', 'slotline.yaml'), { sinkTypes: sinkConfigSchemas(), env });
    expect(config.http.listen).toEqual({ host: '0.0.0.0', port: 9187 });
    expect(config.source.standby.enabled).toBe(true); // a second replica waits instead of exiting
    expect(config.source.host).toBe('postgres');
    expect(config.sinks.find((s) => s.type === 'kafka')?.brokers).toEqual(['kafka:9092']);
    const init = readFileSync(join(REPO, 'config', 'postgres-init.sql'), 'utf8');
    for (const table of config.source.tables ?? []) expect(init).toContain(`CREATE TABLE ${table} (`);
  });

  it('gives the sample Redis and Elasticsearch sink files the addresses they read from the environment', () => {
    const env = services.slotline.environment;
    for (const [file, variable] of [['redis.yaml', 'REDIS_URL'], ['elasticsearch.yaml', 'ELASTICSEARCH_URL']]) {
      expect(readFileSync(join(REPO, 'config', 'sinks', file), 'utf8')).toContain(`\${${variable}`);
      expect(env[variable]).toBeTruthy();
    }
  });

  it('the Dockerfile compiles dist/ in a build stage and runs it on Node 24 as a non-root user', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^(?=FROM )/m).filter((stage) => stage.startsWith('FROM '));
    for (const stage of stages) expect(stage).toMatch(/^FROM node:24/);
    expect(stages.find((stage) => / AS build$/m.test(stage))).toMatch(/^RUN npm run build$/m);
    const runtime = stages.at(-1)!;
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    for (const dir of ['bin', 'config']) expect(runtime).toContain(`COPY ${dir} ./${dir}`);
    // The image runs the compiled code only: bin/slotline.js finds no sources to prefer.
    expect(runtime).not.toMatch(/^COPY (src|connectors) /m);
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources.split(' ')) expect(existsSync(join(REPO, source)), `${source} exists`).toBe(true);
    }
  });
});

describe('docker-compose.yml monitoring profile', () => {
  const prometheusConfig = yamlFile('config', 'prometheus', 'prometheus.yml');

  it('Prometheus scrapes slotline:9187 as job "slotline", which the alert rules name', () => {
    const job = prometheusConfig.scrape_configs.find((j: any) => j.job_name === 'slotline');
    expect(job.static_configs.flatMap((c: any) => c.targets)).toEqual(['slotline:9187']);
    expect(readFileSync(join(REPO, 'config', 'prometheus', 'alerts.yml'), 'utf8')).toContain('up{job="slotline"}');
  });

  it('Prometheus gets its config and the alert rules at the paths the config names', () => {
    const mounted = Object.fromEntries(mounts('prometheus').map((m) => [m.container, m.host]));
    expect(mounted['/etc/prometheus/prometheus.yml']).toBe('config/prometheus/prometheus.yml');
    for (const rules of prometheusConfig.rule_files) {
      const host = mounted[posix.join('/etc/prometheus', rules)];
      expect(host, `${rules} is mounted beside prometheus.yml`).toBe(posix.join('config/prometheus', rules));
    }
  });

  it('the Prometheus config passes promtool check config (rule files included)', () => {
    const { status, output } = promtool(['check', 'config', 'prometheus.yml'], join(REPO, 'config', 'prometheus'));
    expect(output).toContain('is valid prometheus config file syntax');
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status, output).toBe(0);
  });

  it('Grafana is provisioned with the Prometheus service as data source and config/grafana/slotline.json as dashboard', () => {
    const mounted = Object.fromEntries(mounts('grafana').map((m) => [m.container, m.host]));
    expect(mounted['/etc/grafana/provisioning']).toBe('config/grafana/provisioning');

    const { datasources } = yamlFile('config', 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(services.prometheus.ports).toContain('127.0.0.1:9090:9090');

    // The provider's folder holds exactly the repo's dashboard file, not a copy.
    const { providers } = yamlFile('config', 'grafana', 'provisioning', 'dashboards', 'slotline.yml');
    expect(providers).toHaveLength(1);
    const folder = providers[0].options.path;
    const inFolder = Object.entries(mounted).filter(([container]) => posix.dirname(container) === folder);
    expect(inFolder).toEqual([[posix.join(folder, 'slotline.json'), 'config/grafana/slotline.json']]);
    expect(services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(posix.join(folder, 'slotline.json'));
    // The dashboard picks a Prometheus data source through its variable: the provisioned one is the default.
    const dashboard = JSON.parse(readFileSync(join(REPO, 'config', 'grafana', 'slotline.json'), 'utf8'));
    expect(dashboard.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });
});
