/**
 * Docker cannot run on our machines, so check what can be checked: the compose
 * file parses, its services are wired as the README says, every file it mounts
 * or builds from exists, and the config it mounts validates with the compose
 * environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { REPO } from '../e2e/support.ts';

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));

describe('docker-compose.yml', () => {
  it('has postgres with wal_level=logical, kafka in KRaft mode, redis, elasticsearch, and slotline built from the Dockerfile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['elasticsearch', 'kafka', 'postgres', 'redis', 'slotline']);
    expect(compose.services.slotline.depends_on.redis).toEqual({ condition: 'service_healthy' });
    expect(compose.services.slotline.depends_on.elasticsearch).toEqual({ condition: 'service_healthy' });
    expect(compose.services.elasticsearch.environment['xpack.security.enabled']).toBe('false');
    expect(compose.services.postgres.command.join(' ')).toContain('wal_level=logical');
    expect(compose.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services.slotline.build).toBe('.');
    expect(existsSync(join(REPO, 'Dockerfile'))).toBe(true);
  });

  it('mounts files that exist', () => {
    for (const service of Object.values<any>(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const host = String(volume).split(':')[0];
        expect(existsSync(join(REPO, host)), `${host} exists`).toBe(true);
      }
    }
  });

  it('the mounted config validates with the compose environment, and names the tables the init script creates', async () => {
    const env = compose.services.slotline.environment;
    const config = await loadConfig(join(REPO, 'config', 'slotline.yaml'), { sinkTypes: sinkConfigSchemas(), env });
    expect(config.source.host).toBe('postgres');
    expect(config.sinks.find((s) => s.type === 'kafka')?.brokers).toEqual(['kafka:9092']);
    const init = readFileSync(join(REPO, 'config', 'postgres-init.sql'), 'utf8');
    for (const table of config.source.tables ?? []) expect(init).toContain(`CREATE TABLE ${table} (`);
  });

  it('gives the sample Redis and Elasticsearch sink files the addresses they read from the environment', () => {
    const env = compose.services.slotline.environment;
    for (const [file, variable] of [['redis.yaml', 'REDIS_URL'], ['elasticsearch.yaml', 'ELASTICSEARCH_URL']]) {
      expect(readFileSync(join(REPO, 'config', 'sinks', file), 'utf8')).toContain(`\${${variable}`);
      expect(env[variable]).toBeTruthy();
    }
  });

  it('the Dockerfile runs as a non-root user on Node 24 and copies what the command needs', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const dir of ['bin', 'src', 'connectors', 'config']) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
  });
});
