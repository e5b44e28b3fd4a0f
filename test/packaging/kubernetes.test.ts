/**
 * deploy/kubernetes, rendered with the real kustomize and checked offline
 * (no cluster here): every object validates against its OpenAPI schema, the
 * Deployment runs two replicas as a hot-standby pair with the probes, the
 * security context and the resources it should, passwords come only from a
 * Secret, and the config the pods would see — the ConfigMaps laid out as the
 * kubelet mounts them, with the Deployment's environment — loads with
 * slotline's own loader. The CloudNativePG example is checked against what
 * that config expects of the server.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testTempDir } from '../harness/temp-dirs.ts';
import { parse } from 'yaml';
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig, type SlotlineConfig } from '../../src/config/load-config.ts';
import { REPO } from '../e2e/support.ts';
import { findObject, kustomizeBuild, parseManifests, validateObject, type K8sObject } from './kubernetes-render.ts';

const DEPLOY = join(REPO, 'deploy', 'kubernetes');
const objects = kustomizeBuild(DEPLOY);
const cnpg = kustomizeBuild(join(DEPLOY, 'cloudnative-pg'));
const podMonitor = parseManifests(readFileSync(join(DEPLOY, 'podmonitor.yaml'), 'utf8'), 'podmonitor.yaml');
const deployment = findObject(objects, 'Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const SECRET_PLACEHOLDER = 'value-of-the-secret';

/** The container's environment, each Secret reference replaced by a placeholder value. */
function containerEnv(): Record<string, string> {
  return Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? (e.valueFrom?.secretKeyRef ? SECRET_PLACEHOLDER : undefined)]));
}

/**
 * The config volume as the kubelet writes it (atomic writer: files in a
 * timestamped dir, `..data` pointing at it, each top-level entry a symlink
 * through `..data`), under a temp dir standing for the mount path.
 */
async function mountConfigVolume(): Promise<{ root: string; mountPath: string }> {
  const volumeName = container.volumeMounts[0].name;
  const mountPath = container.volumeMounts[0].mountPath;
  const volume = pod.volumes.find((v: any) => v.name === volumeName);
  const root = await testTempDir('k8s');
  const stamp = '..2026_01_01_00_00_00.000000000';
  const files = new Map<string, string>();
  for (const source of volume.projected.sources) {
    const configMap = findObject(objects, 'ConfigMap', source.configMap.name);
    expect(configMap.metadata.name).toBe(source.configMap.name); // kustomize rewrote the reference to the hashed name
    const items: Array<{ key: string; path: string }> = source.configMap.items ?? Object.keys(configMap.data).map((key) => ({ key, path: key }));
    for (const { key, path } of items) {
      expect(configMap.data, `${configMap.metadata.name} has no key ${key}`).toHaveProperty([key]);
      files.set(path, configMap.data[key]);
    }
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, stamp, path)), { recursive: true });
    await writeFile(join(root, stamp, path), text);
  }
  await symlink(stamp, join(root, '..data'));
  for (const top of new Set([...files.keys()].map((p) => p.split('/')[0]))) await symlink(posix.join('..data', top), join(root, top));
  return { root, mountPath };
}

async function loadMountedConfig(): Promise<SlotlineConfig> {
  const { root, mountPath } = await mountConfigVolume();
  const configArg = container.args[container.args.indexOf('--config') + 1];
  expect(configArg.startsWith(`${mountPath}/`)).toBe(true);
  return loadConfig(join(root, configArg.slice(mountPath.length + 1)), { sinkTypes: sinkConfigSchemas(), env: containerEnv() });
}

/** Every string anywhere in an object, with its path. */
function strings(value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
}

/** slotline's peak RSS in MiB from every table of docs/benchmark.md, by phase ("live" or other). */
function benchmarkPeaks(): { live: number[]; other: number[] } {
  const peaks = { live: [] as number[], other: [] as number[] };
  let column = -1;
  for (const line of readFileSync(join(REPO, 'docs', 'benchmark.md'), 'utf8').split('\n')) {
    if (!line.startsWith('|')) {
      column = -1;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.includes('RSS peak MiB')) column = cells.indexOf('RSS peak MiB');
    else if (column >= 0 && cells[1]?.startsWith('slotline') && /\d/.test(cells[column])) {
      peaks[cells[0].startsWith('live') ? 'live' : 'other'].push(Number(cells[column].replace(/\s/g, '')));
    }
  }
  return peaks;
}

const mebibytes = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

describe('deploy/kubernetes', () => {
  it('renders with kustomize into objects that each validate against their schema', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service']);
    for (const object of [...objects, ...cnpg, ...podMonitor]) validateObject(object);
  });

  it('runs two replicas as a hot-standby pair, rolling one pod at a time', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(containerEnv().SLOTLINE_STANDBY).toBe('true');
    // Long enough for runtime.shutdown_timeout_ms: the streaming pod drains and confirms before it is killed.
    expect(pod.terminationGracePeriodSeconds).toBe(45);
    const pdb = findObject(objects, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
  });

  it('probes /healthz for liveness and /readyz?exclude=standby for readiness, on port 9187', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9187 }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Plain /readyz would keep the standby unready for good: the Deployment would never be complete.
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz?exclude=standby', port: 'http' });
    expect(containerEnv().SLOTLINE_HTTP_LISTEN).toBe('0.0.0.0:9187');
  });

  it('runs as a non-root user with a read-only root filesystem and no privileges', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    // Nothing writable is mounted: slotline writes nothing to disk.
    expect(container.volumeMounts.every((m: any) => m.readOnly === true)).toBe(true);
  });

  it('requests and limits memory from the benchmark\'s RSS figures, and requests CPU', () => {
    const peaks = benchmarkPeaks();
    expect(peaks.live.length).toBeGreaterThanOrEqual(4);
    expect(peaks.other.length).toBeGreaterThanOrEqual(10);
    const { requests, limits } = container.resources;
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(Math.max(...peaks.live));
    expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(1.25 * Math.max(...peaks.live, ...peaks.other));
    expect(requests.cpu).toBe('250m');
    expect(limits.cpu).toBeUndefined();
  });

  it('takes every password from a Secret: no literal password in any object', () => {
    for (const entry of container.env) {
      if (/PASSWORD|SECRET|TOKEN/i.test(entry.name)) expect(entry, entry.name).toEqual({ name: entry.name, valueFrom: { secretKeyRef: expect.any(Object) } });
    }
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    for (const [path, value] of [...objects, ...cnpg].flatMap((o) => strings(o))) {
      expect(value, path).not.toMatch(/postgres(ql)?:\/\/(?!user:password@)[^/@\s:]+:[^@\s]+@/); // a URL with a password (but the comment's user:password@ placeholder)
      expect(value, path).not.toMatch(/^\s*password:\s*(?!\$\{)[^\s#]+/m); // a password: key with a literal value
    }
  });

  it('mounts a config that slotline\'s loader accepts with the Deployment\'s environment', async () => {
    const config = await loadMountedConfig();
    expect(config.source.password).toBe(SECRET_PLACEHOLDER);
    expect(config.source).toMatchObject({ host: 'slotline-pg-rw', port: 5432, user: 'slotline', database: 'app' });
    expect(config.source.standby.enabled).toBe(true);
    expect(config.http.listen).toEqual({ host: '0.0.0.0', port: 9187 });
    expect(config.sinks.map((s) => `${s.name} (${s.type})`)).toEqual(['kafka (kafka)']);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.runtime.shutdown_timeout_ms);
  });

  it('keeps the ConfigMap\'s files in step with config/: the same settings, but the password from the Secret', () => {
    const yamlOf = (...path: string[]): any => parse(readFileSync(join(...path), 'utf8'));
    const main = yamlOf(DEPLOY, 'config', 'slotline.yaml');
    expect(main.source.password).toBe('${PGPASSWORD}');
    delete main.source.password;
    expect(main).toEqual(yamlOf(REPO, 'config', 'slotline.yaml'));
    expect(yamlOf(DEPLOY, 'config', 'sinks', 'kafka.yaml')).toEqual(yamlOf(REPO, 'config', 'sinks', 'kafka.yaml'));
  });

  it('tags the image with the package version', () => {
    const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
    expect(container.image).toBe(`slotline:${version}`);
  });

  it('serves the metrics of both replicas, the standby\'s too, with scrape annotations (and an optional PodMonitor)', () => {
    const service = findObject(objects, 'Service');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 9187, targetPort: 'http' }]);
    const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9187', 'prometheus.io/path': '/metrics' };
    expect(service.metadata.annotations).toEqual(scrape);
    expect(deployment.spec.template.metadata.annotations).toEqual(scrape);
    const [monitor] = podMonitor;
    expect(monitor.spec.selector).toEqual(deployment.spec.selector);
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
  });
});

describe('deploy/kubernetes/cloudnative-pg', () => {
  const cluster: K8sObject = findObject(cnpg, 'Cluster');
  const publication: K8sObject = findObject(cnpg, 'Publication');

  it('has logical decoding and the managed role slotline logs in as, its password from the Deployment\'s Secret', async () => {
    const config = await loadMountedConfig();
    expect(cluster.spec.postgresql.parameters.wal_level).toBe('logical');
    const role = cluster.spec.managed.roles.find((r: any) => r.name === config.source.user);
    const secretRef = container.env.find((e: any) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef;
    expect(role).toMatchObject({ ensure: 'present', login: true, replication: true, passwordSecret: { name: secretRef.name } });
    expect(role.superuser ?? false).toBe(false);
    expect(cluster.spec.bootstrap.initdb.database).toBe(config.source.database);
  });

  it('connects through the cluster\'s read-write service, and publishes exactly the tables the config captures', async () => {
    const config = await loadMountedConfig();
    expect(config.source.host).toBe(`${cluster.metadata.name}-rw`);
    expect(publication.spec).toMatchObject({ cluster: { name: cluster.metadata.name }, dbname: config.source.database, name: config.source.publication });
    const published = publication.spec.target.objects.map((o: any) => `${o.table.schema}.${o.table.name}`);
    expect(published).toEqual(config.source.tables);
  });
});
