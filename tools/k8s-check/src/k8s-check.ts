/**
 * Checks the Kubernetes manifests of deploy/k8s without a cluster: each rendered resource against the
 * Kubernetes API schemas (kubernetes-models, unknown fields included), then what an operator would otherwise
 * find out after `kubectl apply -k` — an app with no Deployment, a probe on the wrong port, a variable no app
 * reads or a required one missing, a secretKeyRef to a key that is not there, an autoscaler or disruption
 * budget that misses its pods, a pod that may run as root.
 *
 * Facts about the apps come from tools/compose-check, which reads them from the repository (which apps and
 * simulators exist, the variables each reads and requires, its listen port, its ready path); the drain
 * time from the apps' own lifecycle config.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  LOOPBACK,
  asMapping,
  checkPostgresCredentials,
  environmentProblems,
  urlOf,
  type Env,
  type OwnService,
  type RepoFacts,
} from '@openecm/compose-check';
import { lifecycleConfig, loadConfig } from '@openecm/config';
import { parseAllDocuments } from 'yaml';

type Mapping = Record<string, unknown>;

export interface Resource extends Mapping {
  apiVersion: string;
  kind: string;
  metadata: Mapping & { name: string; namespace?: string; labels?: Record<string, string> };
}

export const BASE_DIR = 'deploy/k8s/base';
export const DEMO_DIR = 'deploy/k8s/overlays/demo';
export const REDIS_PASSWORD_COMPONENT = 'deploy/k8s/components/redis-password';
/** The Secret the base reads: the operator creates it; the demo overlay generates one of that name. */
export const SECRET_NAME = 'openecm-secrets';
/** The image's user (`node` in the official Node.js image), which owns none of the app's files. */
export const APP_UID = 1000;
/** The apps' liveness endpoint (libs/service-kit); readiness is each service's readyPath. */
const APP_LIVE_PATH = '/health/live';
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export function kubectlMissing(kubectl: string): string {
  return (
    `${kubectl} was not found: the Kubernetes manifests are rendered with \`kubectl kustomize\`. Install kubectl ` +
    '(a client is enough, no cluster is needed): https://kubernetes.io/docs/tasks/tools/ — for example the ' +
    'kubectl package from the Kubernetes apt repository, or the kubectl binary of that page put on PATH.'
  );
}

// -------------------------------------------------------------------------------------------- rendering

/** The resources `kubectl kustomize <dir>` renders. */
export function renderKustomize(dir: string, kubectl = 'kubectl'): Resource[] {
  const result = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(kubectlMissing(kubectl));
    throw result.error;
  }
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${result.status}):\n${result.stderr.trim()}`);
  return parseResources(result.stdout, `kubectl kustomize ${dir}`);
}

/** Renders `resources` with `components` added, as an operator's own overlay would. */
export function renderWithComponents(resources: string[], components: string[], kubectl = 'kubectl'): Resource[] {
  const dir = mkdtempSync(join(tmpdir(), 'openecm-k8s-'));
  try {
    const list = (paths: string[]) => paths.map((p) => `  - ${relative(dir, resolve(p))}`).join('\n');
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${list(resources)}\ncomponents:\n${list(components)}\n`,
    );
    return renderKustomize(dir, kubectl);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseResources(text: string, name: string): Resource[] {
  const resources: Resource[] = [];
  for (const [i, doc] of parseAllDocuments(text, { uniqueKeys: true }).entries()) {
    if (doc.errors.length > 0) throw new Error(`${name}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const resource = asMapping(value);
    const metadata = asMapping(resource?.['metadata']);
    if (typeof resource?.['apiVersion'] !== 'string' || typeof resource['kind'] !== 'string' || typeof metadata?.['name'] !== 'string') {
      throw new Error(`${name}: document ${i + 1} has no apiVersion, kind and metadata.name`);
    }
    resources.push(resource as Resource);
  }
  return resources;
}

// ----------------------------------------------------------------------------------------------- schema

const loadModule = createRequire(__filename);
type Model = { prototype: { validate(this: unknown): void } };
type SchemaError = { instancePath: string; message?: string; keyword: string };

/** `/spec/template/spec/containers/0/image` -> `spec.template.spec.containers[0].image` */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
}

function childPath(path: string, key: string, inArray: boolean): string {
  if (inArray) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * A view of `value` that records every object field the validator reads. The Kubernetes schemas do not forbid
 * unknown fields (the API server does, with strict field validation), so a field the validator never looked
 * at is one the schema does not have: a misspelt `readinesProbe` would otherwise pass.
 */
function recordReads(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const inArray = Array.isArray(value);
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return child;
      const path_ = childPath(path, key, inArray);
      if (!inArray) read.add(path_);
      return recordReads(child, path_, read);
    },
  });
}

function unreadFields(value: unknown, path: string, read: Set<string>, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item, i) => unreadFields(item, childPath(path, String(i), true), read, out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path_ = childPath(path, key, false);
      if (read.has(path_)) unreadFields(child, path_, read, out);
      else out.push(path_);
    }
  }
  return out;
}

/** The kubernetes-models class for an apiVersion and kind: its module path is `<apiVersion>/<Kind>`. */
function modelFor(apiVersion: string, kind: string): Model | undefined {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  try {
    return (loadModule(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, Model | undefined>)[kind];
  } catch {
    return undefined;
  }
}

/**
 * kustomize wraps a Secret's long base64 values over several lines, which the API server's decoder accepts
 * (it skips line breaks) but the schema's `byte` format does not.
 */
function unwrapSecretData(resource: Resource): Resource {
  const data = asMapping(resource['data']);
  if (resource.kind !== 'Secret' || !data) return resource;
  return { ...resource, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v])) };
}

/** The resource against the Kubernetes API schema of its apiVersion and kind, unknown fields included. */
export function schemaProblems(resource: Resource): string[] {
  const where = nameOf(resource);
  const model = modelFor(resource.apiVersion, resource.kind);
  if (!model) return [`${where}: no Kubernetes schema for apiVersion ${resource.apiVersion}, kind ${resource.kind}`];
  const read = new Set<string>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(recordReads(unwrapSecretData(resource), '', read));
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!errors) throw error;
    for (const e of errors) problems.push(`${where}: ${fieldPath(e.instancePath) || '(the resource)'} ${e.message ?? e.keyword}`);
  }
  for (const field of unreadFields(resource, '', read)) {
    problems.push(`${where}: ${field} is not a field of ${resource.apiVersion} ${resource.kind} (misspelt, or of another API version)`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------ model

function asList(value: unknown): Mapping[] {
  return Array.isArray(value) ? value.map((v) => asMapping(v) ?? {}) : [];
}

function labelsOf(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asMapping(value) ?? {}).map(([k, v]) => [k, String(v)]));
}

function nameOf(resource: Resource): string {
  return `${resource.kind}/${resource.metadata.name}`;
}

interface Workload {
  resource: Resource;
  where: string;
  pod: Mapping;
  podLabels: Record<string, string>;
  containers: Mapping[];
}

function workloadsOf(resources: Resource[]): Workload[] {
  return resources
    .filter((r) => WORKLOAD_KINDS.has(r.kind))
    .map((resource) => {
      const template = asMapping(asMapping(resource['spec'])?.['template']) ?? {};
      const pod = asMapping(template['spec']) ?? {};
      return {
        resource,
        where: nameOf(resource),
        pod,
        podLabels: labelsOf(asMapping(template['metadata'])?.['labels']),
        containers: [...asList(pod['initContainers']), ...asList(pod['containers'])],
      };
    });
}

/** A LabelSelector (matchLabels, matchExpressions) against a pod's labels; an empty one selects every pod. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = asMapping(selector);
  if (!s) return false;
  const matchLabels = labelsOf(s['matchLabels']);
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return asList(s['matchExpressions']).every((e) => {
    const key = String(e['key']);
    const values = (Array.isArray(e['values']) ? e['values'] : []).map(String);
    switch (e['operator']) {
      case 'In':
        return key in labels && values.includes(labels[key] as string);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key] as string);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
}

/** A Service's selector (a plain map): empty selects nothing, as a Service without a selector has no endpoints. */
function serviceSelects(service: Resource, labels: Record<string, string>): boolean {
  const selector = labelsOf(asMapping(service['spec'])?.['selector']);
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function containerPorts(container: Mapping): Mapping[] {
  return asList(container['ports']);
}

/** A probe's or Service's port, named or numbered, as the number the container listens on. */
function resolvePort(port: unknown, containers: Mapping[]): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  for (const container of containers) {
    const named = containerPorts(container).find((p) => p['name'] === port);
    if (named) return Number(named['containerPort']);
  }
  return undefined;
}

const QUANTITY_UNITS: Record<string, number> = {
  m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity (`100m`, `1`, `256Mi`, `1e3`) as a number, or undefined when it is not one. */
export function parseQuantity(value: unknown): number | undefined {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(String(value ?? ''));
  if (!m) return undefined;
  return Number(`${m[1]}${m[2] ?? ''}`) * (QUANTITY_UNITS[m[3] ?? ''] ?? 1);
}

// ------------------------------------------------------------------------------------------ environment

type EnvSource = 'value' | 'ConfigMap' | 'Secret' | 'fieldRef' | 'resourceFieldRef';

interface EnvEntry {
  value: string | undefined;
  source: EnvSource;
  optional: boolean;
}

interface Lookup {
  find(kind: 'ConfigMap' | 'Secret', name: string): Resource | undefined;
}

function dataOf(resource: Resource): Record<string, string> {
  const data: Record<string, string> = {};
  if (resource.kind === 'Secret') {
    for (const [k, v] of Object.entries(asMapping(resource['data']) ?? {})) data[k] = Buffer.from(String(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(asMapping(resource['stringData']) ?? {})) data[k] = String(v);
  } else {
    for (const [k, v] of Object.entries(asMapping(resource['data']) ?? {})) data[k] = String(v);
  }
  return data;
}

/** A container's environment as Kubernetes builds it: env after envFrom, each value looked up where it can be. */
function resolveEnv(container: Mapping, lookup: Lookup, where: string, problems: string[]): Map<string, EnvEntry> {
  const env = new Map<string, EnvEntry>();
  for (const from of asList(container['envFrom'])) {
    const kind = from['configMapRef'] ? 'ConfigMap' : from['secretRef'] ? 'Secret' : undefined;
    const ref = asMapping(from['configMapRef'] ?? from['secretRef']) ?? {};
    if (!kind) continue;
    const source = lookup.find(kind, String(ref['name']));
    if (!source) {
      if (ref['optional'] !== true) problems.push(`${where}: envFrom names ${kind} ${String(ref['name'])}, which does not exist`);
      continue;
    }
    for (const [key, value] of Object.entries(dataOf(source))) {
      env.set(`${String(from['prefix'] ?? '')}${key}`, { value, source: kind, optional: ref['optional'] === true });
    }
  }
  const seen = new Set<string>();
  for (const item of asList(container['env'])) {
    const name = String(item['name']);
    if (seen.has(name)) problems.push(`${where}: env ${name} is set twice (the last one wins, silently)`);
    seen.add(name);
    const valueFrom = asMapping(item['valueFrom']);
    if (!valueFrom) {
      env.set(name, { value: String(item['value'] ?? ''), source: 'value', optional: false });
      continue;
    }
    const kinds = Object.keys(valueFrom);
    if (kinds.length !== 1) {
      problems.push(`${where}: env ${name}: valueFrom must have exactly one source, has ${kinds.join(', ') || 'none'}`);
      continue;
    }
    if (valueFrom['fieldRef'] || valueFrom['resourceFieldRef']) {
      env.set(name, { value: undefined, source: valueFrom['fieldRef'] ? 'fieldRef' : 'resourceFieldRef', optional: false });
      continue;
    }
    const kind = valueFrom['configMapKeyRef'] ? 'ConfigMap' : 'Secret';
    const ref = asMapping(valueFrom['configMapKeyRef'] ?? valueFrom['secretKeyRef']) ?? {};
    const optional = ref['optional'] === true;
    const refName = String(ref['name']);
    const key = String(ref['key']);
    const source = lookup.find(kind, refName);
    const data = source ? dataOf(source) : undefined;
    if (!data || !(key in data)) {
      if (!optional) {
        problems.push(
          `${where}: env ${name} reads key ${key} of ${kind} ${refName}, ` +
            (data ? `which has no such key (it has ${Object.keys(data).sort().join(', ')})` : 'which does not exist'),
        );
      }
      continue;
    }
    env.set(name, { value: data[key], source: kind, optional });
  }
  return env;
}

// ------------------------------------------------------------------------------------------------ checks

export interface CheckOptions {
  /**
   * Secrets the manifests read but the render does not hold (the base reads openecm-secrets, which the
   * operator creates): stand-ins whose keys and values the references are checked against.
   */
  externalSecrets?: Resource[];
  /** The render brings its own infrastructure and simulators (the demo): every URL must name one of its Services. */
  selfContained: boolean;
  /** Whether the render may hold a Secret at all; the base must not (its secrets come from openecm-secrets). */
  secretsAllowed: boolean;
}

/** Every problem in a set of rendered resources, as sentences naming the resource and field; empty when all is well. */
export function checkManifests(resources: Resource[], facts: RepoFacts, options: CheckOptions): string[] {
  const problems: string[] = [];
  for (const resource of resources) problems.push(...schemaProblems(resource));

  const seen = new Set<string>();
  for (const r of resources) {
    const key = `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
    if (seen.has(key)) problems.push(`${nameOf(r)} is rendered twice`);
    seen.add(key);
    if (r.kind === 'Secret' && !options.secretsAllowed) {
      problems.push(`${nameOf(r)}: the base holds no Secret; its secrets come from the Secret ${SECRET_NAME} the operator creates`);
    }
  }

  const byKind = (kind: string) => resources.filter((r) => r.kind === kind);
  const external = options.externalSecrets ?? [];
  const lookup: Lookup = {
    find: (kind, name) =>
      resources.find((r) => r.kind === kind && r.metadata.name === name) ??
      (kind === 'Secret' ? external.find((r) => r.metadata.name === name) : undefined),
  };
  const workloads = workloadsOf(resources);
  const services = byKind('Service');

  for (const workload of workloads) problems.push(...checkWorkload(workload, workloads, resources, lookup, options, facts));
  for (const service of services) problems.push(...checkService(service, workloads));

  for (const own of facts.services) {
    if (own.kind === 'simulator' && !options.selfContained) continue;
    const found = workloads.filter((w) => w.resource.metadata.name === own.name);
    if (found.length !== 1 || found[0]?.resource.kind !== 'Deployment') {
      problems.push(`${own.name}: no Deployment named ${own.name} (${own.entry} exists); every app${own.kind === 'simulator' ? ' and simulator' : ''} runs in the cluster`);
      continue;
    }
    problems.push(...checkOwnService(own, found[0], workloads, resources, lookup, facts));
  }
  return problems;
}

function checkWorkload(
  workload: Workload,
  workloads: Workload[],
  resources: Resource[],
  lookup: Lookup,
  options: CheckOptions,
  facts: RepoFacts,
): string[] {
  const { resource, pod, where } = workload;
  const problems: string[] = [];
  const spec = asMapping(resource['spec']) ?? {};

  if (resource.kind !== 'Job' && !selectorMatches(spec['selector'], workload.podLabels)) {
    problems.push(`${where}: spec.selector does not match the labels of its own pod template`);
  }
  for (const other of workloads) {
    if (other !== workload && resource.kind !== 'Job' && selectorMatches(spec['selector'], other.podLabels)) {
      problems.push(`${where}: spec.selector also matches the pods of ${other.where}`);
    }
  }
  if (resource.kind === 'StatefulSet') {
    const serviceName = String(spec['serviceName'] ?? '');
    if (!resources.some((r) => r.kind === 'Service' && r.metadata.name === serviceName)) {
      problems.push(`${where}: spec.serviceName ${serviceName || '(unset)'} is not a Service of the render`);
    }
  }

  // The pod: no API token, a non-root user, the runtime's seccomp profile.
  const accountName = String(pod['serviceAccountName'] ?? 'default');
  const account = resources.find((r) => r.kind === 'ServiceAccount' && r.metadata.name === accountName);
  if (accountName !== 'default' && !account) problems.push(`${where}: serviceAccountName ${accountName} is not a ServiceAccount of the render`);
  if (pod['automountServiceAccountToken'] !== false && account?.['automountServiceAccountToken'] !== false) {
    problems.push(`${where}: the pod mounts a Kubernetes API token; set automountServiceAccountToken: false`);
  }
  const podSecurity = asMapping(pod['securityContext']) ?? {};
  const volumes = new Set(asList(pod['volumes']).map((v) => String(v['name'])));

  for (const container of workload.containers) {
    const cwhere = `${where}: container ${String(container['name'])}`;
    const security = asMapping(container['securityContext']) ?? {};
    const effective = (key: string) => (security[key] ?? podSecurity[key]) as unknown;

    const image = String(container['image'] ?? '');
    const tag = /^(?:.*\/)?[^/:@]+(?::([^/@]+))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(image);
    if (!tag || (!tag[1] && !tag[2])) problems.push(`${cwhere}: image ${image || '(none)'} has no tag; pin one (never latest)`);
    else if (tag[1] === 'latest') problems.push(`${cwhere}: image ${image} uses the latest tag; pin a version`);

    if (effective('runAsNonRoot') !== true) problems.push(`${cwhere}: securityContext.runAsNonRoot is not true`);
    if (effective('runAsUser') === 0) problems.push(`${cwhere}: securityContext.runAsUser is 0 (root)`);
    if (asMapping(effective('seccompProfile'))?.['type'] !== 'RuntimeDefault') {
      problems.push(`${cwhere}: securityContext.seccompProfile.type is not RuntimeDefault`);
    }
    if (security['allowPrivilegeEscalation'] !== false) problems.push(`${cwhere}: securityContext.allowPrivilegeEscalation is not false`);
    if (security['privileged'] === true) problems.push(`${cwhere}: securityContext.privileged is true`);
    if (security['readOnlyRootFilesystem'] !== true) problems.push(`${cwhere}: securityContext.readOnlyRootFilesystem is not true`);
    const capabilities = asMapping(security['capabilities']) ?? {};
    if (!(Array.isArray(capabilities['drop']) && capabilities['drop'].includes('ALL'))) {
      problems.push(`${cwhere}: securityContext.capabilities.drop does not hold ALL`);
    }
    if (Array.isArray(capabilities['add']) && capabilities['add'].length > 0) {
      problems.push(`${cwhere}: securityContext.capabilities.add grants ${capabilities['add'].join(', ')}`);
    }

    for (const mount of asList(container['volumeMounts'])) {
      if (!volumes.has(String(mount['name'])) && !asList(spec['volumeClaimTemplates']).some((t) => asMapping(t['metadata'])?.['name'] === mount['name'])) {
        problems.push(`${cwhere}: volumeMounts ${String(mount['name'])} names no volume of the pod`);
      }
    }

    const resourcesOf = asMapping(container['resources']) ?? {};
    const requests = asMapping(resourcesOf['requests']) ?? {};
    const limits = asMapping(resourcesOf['limits']) ?? {};
    for (const name of ['cpu', 'memory']) {
      if (requests[name] === undefined) problems.push(`${cwhere}: resources.requests.${name} is not set`);
      else if (parseQuantity(requests[name]) === undefined) problems.push(`${cwhere}: resources.requests.${name} ${String(requests[name])} is not a quantity`);
    }
    if (limits['memory'] === undefined) problems.push(`${cwhere}: resources.limits.memory is not set`);
    for (const [name, limit] of Object.entries(limits)) {
      const request = parseQuantity(requests[name]);
      const max = parseQuantity(limit);
      if (max === undefined) problems.push(`${cwhere}: resources.limits.${name} ${String(limit)} is not a quantity`);
      else if (request !== undefined && request > max) {
        problems.push(`${cwhere}: resources.requests.${name} ${String(requests[name])} is above resources.limits.${name} ${String(limit)}`);
      }
    }

    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const handler = asMapping(container[probe]);
      const target = asMapping(handler?.['httpGet']) ?? asMapping(handler?.['tcpSocket']) ?? asMapping(handler?.['grpc']);
      if (target && resolvePort(target['port'], [container]) === undefined) {
        problems.push(`${cwhere}: ${probe} port ${String(target['port'])} is no port of the container`);
      }
    }

    const env = resolveEnv(container, lookup, cwhere, problems);
    for (const [name, entry] of env) {
      if (facts.sensitiveVariables.has(name) && entry.source !== 'Secret') {
        // A URL without a password (a Redis with none, say) may sit in a ConfigMap; a secret may not.
        const url = entry.value === undefined ? undefined : urlOf(entry.value);
        if (!url || url.password) problems.push(`${cwhere}: env ${name} is secret but comes from ${entry.source}; take it from a Secret (secretKeyRef)`);
      }
      const url = entry.value ? urlOf(entry.value) : undefined;
      if (!url) continue;
      if (LOOPBACK.has(url.hostname)) problems.push(`${cwhere}: env ${name} points at ${url.hostname}, which in a pod is the pod itself`);
      else if (options.selfContained) problems.push(...checkServiceUrl(`${cwhere}: env ${name}`, url, resources, workloads, lookup));
    }
  }
  return problems;
}

/** A URL in the self-contained render names one of its Services, on one of its ports; a database URL logs in as the database's user. */
function checkServiceUrl(where: string, url: URL, resources: Resource[], workloads: Workload[], lookup: Lookup): string[] {
  const [host = ''] = url.hostname.split('.');
  const service = resources.find((r) => r.kind === 'Service' && r.metadata.name === host);
  if (!service) return [`${where} points at ${url.hostname}, which is not a Service of the render`];
  const ports = asList(asMapping(service['spec'])?.['ports']).map((p) => Number(p['port']));
  const defaults: Record<string, number> = { 'nats:': 4222, 'redis:': 6379, 'rediss:': 6379, 'postgres:': 5432, 'postgresql:': 5432, 'http:': 80, 'https:': 443 };
  const port = url.port ? Number(url.port) : defaults[url.protocol];
  const problems: string[] = [];
  if (port !== undefined && !ports.includes(port)) problems.push(`${where} uses port ${port}, but Service ${host} serves ${ports.join(', ')}`);
  const database = workloads.find((w) => serviceSelects(service, w.podLabels));
  const container = database?.containers[0];
  if (/^postgres(ql)?:$/.test(url.protocol) && database && container) {
    const environment: Env = {};
    for (const [name, entry] of resolveEnv(container, lookup, database.where, [])) environment[name] = entry.value ?? '';
    problems.push(...checkPostgresCredentials(where, url, { environment }).map((p) => `${p} (${database.where})`));
  }
  return problems;
}

function checkService(service: Resource, workloads: Workload[]): string[] {
  const where = nameOf(service);
  const selected = workloads.filter((w) => serviceSelects(service, w.podLabels));
  if (selected.length === 0) return [`${where}: spec.selector selects no pod of the render`];
  const problems: string[] = [];
  for (const port of asList(asMapping(service['spec'])?.['ports'])) {
    const target = port['targetPort'] ?? port['port'];
    for (const workload of selected) {
      const number = resolvePort(target, workload.containers);
      if (number === undefined || !workload.containers.some((c) => containerPorts(c).some((p) => Number(p['containerPort']) === number))) {
        problems.push(`${where}: port ${String(port['port'])} targets ${String(target)}, which is no container port of ${workload.where}`);
      }
    }
  }
  return problems;
}

function checkOwnService(
  own: OwnService,
  workload: Workload,
  workloads: Workload[],
  resources: Resource[],
  lookup: Lookup,
  facts: RepoFacts,
): string[] {
  const where = workload.where;
  const problems: string[] = [];
  const container = asList(workload.pod['containers']).find((c) => c['name'] === own.name);
  if (!container) return [`${where}: no container named ${own.name}`];
  const cwhere = `${where}: container ${own.name}`;

  const image = String(container['image'] ?? '');
  if (!new RegExp(`(^|/)${own.name}[:@]`).test(image)) problems.push(`${cwhere}: image ${image} is not <registry>/${own.name}:<tag>, the image built with APP=${own.name}`);

  // Environment: only what it reads, everything it requires, values it accepts.
  const entries = resolveEnv(container, lookup, cwhere, []);
  const env: Env = {};
  for (const [name, entry] of entries) if (entry.value !== undefined) env[name] = entry.value;
  problems.push(...environmentProblems(own, env, facts).map((p) => `${cwhere}: ${p}`));
  for (const variable of own.required) {
    if (entries.get(variable)?.optional) problems.push(`${cwhere}: env ${variable} is required, but its reference is optional: without it the pod crash-loops`);
  }

  // Probes on the port it listens on.
  const port = own.listenPort(env);
  if (typeof port === 'string') problems.push(`${cwhere}: ${port}`);
  else if (port === 0) problems.push(`${cwhere}: listens on a random port (0); set its port variable so the probes can reach it`);
  else {
    if (!containerPorts(container).some((p) => Number(p['containerPort']) === port)) {
      problems.push(`${cwhere}: ports does not declare ${port}, the port it listens on`);
    }
    const expected = { readinessProbe: own.readyPath, livenessProbe: own.kind === 'app' ? APP_LIVE_PATH : own.readyPath };
    for (const [probe, path] of Object.entries(expected)) {
      const httpGet = asMapping(asMapping(container[probe])?.['httpGet']);
      if (!httpGet) {
        problems.push(`${cwhere}: no ${probe} with httpGet ${path}`);
        continue;
      }
      if (httpGet['path'] !== path) problems.push(`${cwhere}: ${probe}.httpGet.path is ${String(httpGet['path'])}, not ${path}`);
      const probed = resolvePort(httpGet['port'], [container]);
      if (probed !== undefined && probed !== port) problems.push(`${cwhere}: ${probe}.httpGet.port is ${probed}, but ${own.name} listens on ${port}`);
    }
    const startup = asMapping(asMapping(container['startupProbe'])?.['httpGet']);
    if (startup && resolvePort(startup['port'], [container]) !== port) problems.push(`${cwhere}: startupProbe.httpGet.port is not ${port}, the port it listens on`);
    const scraped = labelsOf(asMapping(asMapping(asMapping(workload.resource['spec'])?.['template'])?.['metadata'])?.['annotations'])['prometheus.io/port'];
    if (scraped !== undefined && Number(scraped) !== port) problems.push(`${where}: annotation prometheus.io/port is ${scraped}, but /metrics is served on ${port}`);
  }

  // The image's user, and a writable /tmp under the read-only root.
  const podSecurity = asMapping(workload.pod['securityContext']) ?? {};
  const uid = asMapping(container['securityContext'])?.['runAsUser'] ?? podSecurity['runAsUser'];
  if (uid !== APP_UID) problems.push(`${cwhere}: runs as uid ${String(uid ?? '(image default)')}, not ${APP_UID}, the image's node user`);
  if (!asList(container['volumeMounts']).some((m) => m['mountPath'] === '/tmp')) {
    problems.push(`${cwhere}: nothing is mounted at /tmp; with a read-only root filesystem it has no temp directory`);
  }

  if (own.kind === 'app') problems.push(...checkScaling(own, workload, container, env, workloads, resources));
  if (own.publishes) {
    const exposed = resources.some(
      (s) =>
        s.kind === 'Service' &&
        serviceSelects(s, workload.podLabels) &&
        asList(asMapping(s['spec'])?.['ports']).some((p) => resolvePort(p['targetPort'] ?? p['port'], [container]) === port),
    );
    if (!exposed) problems.push(`${where}: no Service selects its pods on port ${String(port)}`);
  }
  return problems;
}

/** An app drains within its grace period, scales on CPU, and is drained one pod at a time. */
function checkScaling(own: OwnService, workload: Workload, container: Mapping, env: Env, workloads: Workload[], resources: Resource[]): string[] {
  const where = workload.where;
  const problems: string[] = [];
  const spec = asMapping(workload.resource['spec']) ?? {};

  let drainSeconds: number | undefined;
  try {
    drainSeconds = loadConfig(lifecycleConfig, env).SHUTDOWN_TIMEOUT_MS / 1000;
  } catch {
    // An invalid SHUTDOWN_TIMEOUT_MS is reported with the environment.
  }
  const preStop = Number(asMapping(asMapping(asMapping(container['lifecycle'])?.['preStop'])?.['sleep'])?.['seconds'] ?? 0);
  const grace = Number(workload.pod['terminationGracePeriodSeconds'] ?? 30);
  if (drainSeconds !== undefined && grace <= preStop + drainSeconds) {
    problems.push(
      `${where}: terminationGracePeriodSeconds is ${grace}, not above preStop ${preStop} s + the drain after SIGTERM ` +
        `(SHUTDOWN_TIMEOUT_MS, ${drainSeconds} s): the pod is killed while it drains`,
    );
  }

  const hpas = resources.filter((r) => {
    const target = asMapping(asMapping(r['spec'])?.['scaleTargetRef']) ?? {};
    return r.kind === 'HorizontalPodAutoscaler' && target['kind'] === 'Deployment' && target['name'] === own.name;
  });
  const hpa = hpas[0];
  let minReplicas = 1;
  if (!hpa) problems.push(`${where}: no HorizontalPodAutoscaler scales it (it scales out behind its NATS queue group)`);
  else {
    const hpaSpec = asMapping(hpa['spec']) ?? {};
    const hwhere = nameOf(hpa);
    if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`${hwhere}: apiVersion is ${hpa.apiVersion}, not autoscaling/v2`);
    if (asMapping(hpaSpec['scaleTargetRef'])?.['apiVersion'] !== 'apps/v1') problems.push(`${hwhere}: scaleTargetRef.apiVersion is not apps/v1`);
    minReplicas = Number(hpaSpec['minReplicas'] ?? 1);
    if (minReplicas > Number(hpaSpec['maxReplicas'])) problems.push(`${hwhere}: minReplicas ${minReplicas} is above maxReplicas ${String(hpaSpec['maxReplicas'])}`);
    const cpu = asList(hpaSpec['metrics']).some((m) => m['type'] === 'Resource' && asMapping(m['resource'])?.['name'] === 'cpu');
    if (!cpu) problems.push(`${hwhere}: no Resource metric on cpu`);
    if (spec['replicas'] !== undefined) {
      problems.push(`${where}: spec.replicas is set while ${hwhere} owns the count; every apply would reset what it scaled to`);
    }
  }
  if (hpas.length > 1) problems.push(`${where}: ${hpas.length} HorizontalPodAutoscalers scale it`);

  const pdbs = resources.filter((r) => r.kind === 'PodDisruptionBudget' && selectorMatches(asMapping(r['spec'])?.['selector'], workload.podLabels));
  const pdb = pdbs[0];
  if (!pdb) problems.push(`${where}: no PodDisruptionBudget selects its pods`);
  else {
    const pwhere = nameOf(pdb);
    const pdbSpec = asMapping(pdb['spec']) ?? {};
    if (pdb.apiVersion !== 'policy/v1') problems.push(`${pwhere}: apiVersion is ${pdb.apiVersion}, not policy/v1`);
    for (const other of workloads) {
      if (other !== workload && selectorMatches(pdbSpec['selector'], other.podLabels)) problems.push(`${pwhere}: selector also matches the pods of ${other.where}`);
    }
    const maxUnavailable = pdbSpec['maxUnavailable'];
    const minAvailable = pdbSpec['minAvailable'];
    if (maxUnavailable === 0 || maxUnavailable === '0%') problems.push(`${pwhere}: maxUnavailable 0 blocks every node drain`);
    if (typeof minAvailable === 'number' && minAvailable >= minReplicas) {
      problems.push(`${pwhere}: minAvailable ${minAvailable} is not below the ${minReplicas} replica(s) it may run with; a node drain would wait forever`);
    }
    if (minAvailable === '100%') problems.push(`${pwhere}: minAvailable 100% blocks every node drain`);
  }
  if (pdbs.length > 1) problems.push(`${where}: ${pdbs.length} PodDisruptionBudgets select its pods (the eviction API refuses such pods)`);
  return problems;
}
