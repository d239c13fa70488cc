import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRepoFacts, parseEnvFile, type RepoFacts } from '@openecm/compose-check';
import {
  BASE_DIR,
  DEMO_DIR,
  REDIS_PASSWORD_COMPONENT,
  SECRET_NAME,
  checkManifests,
  kubectlMissing,
  parseQuantity,
  renderKustomize,
  renderWithComponents,
  schemaProblems,
  selectorMatches,
  type CheckOptions,
  type Resource,
} from './k8s-check';

const root = resolve(__dirname, '../../..');

type Mapping = Record<string, unknown>;
type Container = Mapping & { name: string; env: Array<Mapping & { name: string }> };

// Rendered at module level: without kubectl, or with a manifest kustomize rejects, the suite fails with that message.
const facts: RepoFacts = loadRepoFacts(root);
const base = renderKustomize(join(root, BASE_DIR));
const demo = renderKustomize(join(root, DEMO_DIR));
const demoSecret = demo.find((r) => r.kind === 'Secret' && r.metadata.name.startsWith(`${SECRET_NAME}-`)) as Resource;
/** The demo's generated Secret stands in for the openecm-secrets an operator creates for the base. */
const baseOptions: CheckOptions = {
  externalSecrets: [{ ...demoSecret, metadata: { ...demoSecret.metadata, name: SECRET_NAME } }],
  selfContained: false,
  secretsAllowed: false,
};
const demoOptions: CheckOptions = { selfContained: true, secretsAllowed: true };
const apps = facts.services.filter((s) => s.kind === 'app');

const find = (resources: Resource[], kind: string, name: string): Resource => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
};
const specOf = (resources: Resource[], kind: string, name: string): Mapping => find(resources, kind, name)['spec'] as Mapping;
const podSpec = (workload: Resource): Mapping =>
  ((workload['spec'] as Mapping)['template'] as Mapping)['spec'] as Mapping;
const containerOf = (workload: Resource): Container => (podSpec(workload)['containers'] as Container[])[0] as Container;
const secretData = (secret: Resource): Record<string, string> =>
  Object.fromEntries(Object.entries(secret['data'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('deploy/k8s', () => {
  it('the base passes every check, with the demo Secret standing in for openecm-secrets', () => {
    expect(checkManifests(base, facts, baseOptions)).toEqual([]);
  });

  it('the demo overlay passes every check', () => {
    expect(checkManifests(demo, facts, demoOptions)).toEqual([]);
  });

  it('the base with the redis-password component takes REDIS_URL from the Secret, and still passes', () => {
    const withPassword = renderWithComponents([join(root, BASE_DIR)], [join(root, REDIS_PASSWORD_COMPONENT)]);
    const options = {
      ...baseOptions,
      externalSecrets: [{ ...demoSecret, metadata: { name: SECRET_NAME }, stringData: { REDIS_URL: 'redis://:demo-only-password@redis:6379' } }],
    };
    expect(checkManifests(withPassword, facts, options)).toEqual([]);
    const readers = withPassword.filter((r) => r.kind === 'Deployment' && containerOf(r).env.some((e) => e.name === 'REDIS_URL'));
    expect(readers.map((r) => r.metadata.name).sort()).toEqual(['appliance-gateway', 'policy-approval', 'session-reporting', 'token-cache']);
    for (const reader of readers) {
      expect(containerOf(reader).env.find((e) => e.name === 'REDIS_URL')?.['valueFrom']).toEqual({
        secretKeyRef: { name: SECRET_NAME, key: 'REDIS_URL' },
      });
    }
  });

  it('reads the facts it checks against from the repository', () => {
    // Guards the scan: if it found no app, the checks above would prove nothing.
    expect(apps.map((s) => s.name).sort()).toEqual(['appliance-gateway', 'policy-approval', 'session-reporting', 'token-cache', 'vault-adapters']);
    expect(facts.services.filter((s) => s.kind === 'simulator').map((s) => s.name)).toEqual(['password-safe-sim', 'secret-server-sim', 'vault-sim']);
    expect(facts.sensitiveVariables).toEqual(
      new Set(['APPLIANCE_SETTINGS_KEYS', 'AUDIT_HMAC_KEYS', 'DATABASE_URL', 'NATS_NKEY_SEED', 'NATS_PASSWORD', 'OIDC_CLIENT_SECRET', 'OPENECM_BOOTSTRAP_CLIENT_SECRET', 'REDIS_URL', 'TOKEN_CACHE_KEYS', 'VAULT_SETTINGS_KEYS']),
    );
    for (const kind of ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      expect(base.filter((r) => r.kind === kind).map((r) => r.metadata.name).sort()).toEqual(apps.map((s) => s.name).sort());
    }
    expect(base.filter((r) => r.kind === 'Service').map((r) => r.metadata.name)).toEqual(['appliance-gateway']);
  });

  it('the base reads secrets from openecm-secrets only, the keys the README lists, and holds no Secret', () => {
    const keys = new Set<string>();
    for (const workload of base.filter((r) => r.kind === 'Deployment')) {
      for (const entry of containerOf(workload).env) {
        const ref = (entry['valueFrom'] as Mapping | undefined)?.['secretKeyRef'] as Mapping | undefined;
        if (!ref) continue;
        expect(`${entry.name} from ${String(ref['name'])}`).toBe(`${entry.name} from ${SECRET_NAME}`);
        keys.add(String(ref['key']));
      }
    }
    expect([...keys].sort()).toEqual([
      'APPLIANCE_SETTINGS_KEYS',
      'DATABASE_URL',
      ...['APPLIANCE_GATEWAY', 'POLICY_APPROVAL', 'SESSION_REPORTING', 'TOKEN_CACHE', 'VAULT_ADAPTERS'].map((app) => `NATS_PASSWORD_${app}`),
      'OIDC_CLIENT_SECRET',
      'OPENECM_BOOTSTRAP_CLIENT_ID',
      'OPENECM_BOOTSTRAP_CLIENT_SECRET',
      'TOKEN_CACHE_KEYS',
      'VAULT_SETTINGS_KEYS',
    ]);
    expect(base.filter((r) => r.kind === 'Secret')).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const undocumented = [...keys, 'REDIS_URL'].filter((key) => !readme.includes(`--from-literal=${key}=`));
    expect(`README.md's Kubernetes section lacks --from-literal for: ${undocumented.join(', ')}`).toBe(
      "README.md's Kubernetes section lacks --from-literal for: ",
    );
  });

  it('the demo Secret holds the demo-only values of .env.example, and says so', () => {
    const example = parseEnvFile(readFileSync(join(root, '.env.example'), 'utf8'));
    const data = secretData(demoSecret);
    for (const key of ['TOKEN_CACHE_KEYS', 'VAULT_SETTINGS_KEYS', 'APPLIANCE_SETTINGS_KEYS', 'OPENECM_BOOTSTRAP_CLIENT_ID', 'OPENECM_BOOTSTRAP_CLIENT_SECRET', 'POSTGRES_PASSWORD']) {
      expect(`${key}=${data[key]}`).toBe(`${key}=${example[key]}`);
    }
    expect(new URL(data['DATABASE_URL'] ?? '').password).toBe(example['POSTGRES_PASSWORD']);
    expect(demoSecret.metadata.labels?.['openecm.io/demo-only']).toBe('true');
    expect(readFileSync(join(root, DEMO_DIR, 'demo-secrets.env'), 'utf8')).toMatch(/^# DEMO-ONLY/);
  });

  it('the demo runs one replica of each app to start, NATS with JetStream, and never pulls our images', () => {
    for (const hpa of demo.filter((r) => r.kind === 'HorizontalPodAutoscaler')) {
      expect(`${hpa.metadata.name} minReplicas ${String((hpa['spec'] as Mapping)['minReplicas'])}`).toBe(`${hpa.metadata.name} minReplicas 1`);
    }
    // JetStream and the apps' users come from the configuration deploy/nats holds, mounted from its ConfigMap
    expect(containerOf(find(demo, 'StatefulSet', 'nats'))['args']).toEqual(['nats-server', '-c', '/etc/nats/nats-server.conf']);
    const natsConfig = demo.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('nats-config-')) as Resource;
    expect(((natsConfig['data'] as Mapping)['nats-server.conf'] as string).match(/^(jetstream|include) .*$/gm)).toEqual(['jetstream {', 'include ./openecm-accounts.conf']);
    for (const own of facts.services) {
      const container = containerOf(find(demo, 'Deployment', own.name));
      expect(`${own.name}: ${String(container['image'])} ${String(container['imagePullPolicy'])}`).toBe(`${own.name}: openecm/${own.name}:dev Never`);
    }
  });
});

describe('the check on broken manifests', () => {
  const broken = (resources: Resource[], options: CheckOptions, mutate: (copy: Resource[]) => void): string[] => {
    const copy = structuredClone(resources);
    mutate(copy);
    return checkManifests(copy, facts, options);
  };
  const gateway = (r: Resource[]) => containerOf(find(r, 'Deployment', 'appliance-gateway'));
  const tokenCache = (r: Resource[]) => containerOf(find(r, 'Deployment', 'token-cache'));
  /** The data of the one ConfigMap, openecm-config (its name carries kustomize's hash suffix). */
  const configData = (r: Resource[]) => (r.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('openecm-config')) as Resource)['data'] as Mapping;
  const envOf = (container: Container, name: string) => container.env.find((e) => e.name === name) as Mapping;

  it.each<[string, (r: Resource[]) => void, string]>([
    [
      'a misspelt field',
      (r) => {
        const c = gateway(r);
        c['readinesProbe'] = c['readinessProbe'];
        delete c['readinessProbe'];
      },
      'Deployment/appliance-gateway: spec.template.spec.containers[0].readinesProbe is not a field of apps/v1 Deployment',
    ],
    [
      'a value of the wrong type',
      (r) => {
        (gateway(r)['ports'] as Mapping[])[0]!['containerPort'] = '8080';
      },
      'Deployment/appliance-gateway: spec.template.spec.containers[0].ports[0].containerPort must be integer',
    ],
    ['an app with no Deployment', (r) => r.splice(r.indexOf(find(r, 'Deployment', 'token-cache')), 1), 'token-cache: no Deployment named token-cache'],
    [
      'a readiness probe on the wrong port',
      (r) => {
        ((gateway(r)['readinessProbe'] as Mapping)['httpGet'] as Mapping)['port'] = 9464;
      },
      'Deployment/appliance-gateway: container appliance-gateway: readinessProbe.httpGet.port is 9464, but appliance-gateway listens on 8080',
    ],
    [
      'a probe on a port name the container does not have',
      (r) => {
        ((tokenCache(r)['livenessProbe'] as Mapping)['httpGet'] as Mapping)['port'] = 'metrics';
      },
      'Deployment/token-cache: container token-cache: livenessProbe port metrics is no port of the container',
    ],
    [
      'a liveness probe on the readiness path',
      (r) => {
        ((tokenCache(r)['livenessProbe'] as Mapping)['httpGet'] as Mapping)['path'] = '/health/ready';
      },
      'Deployment/token-cache: container token-cache: livenessProbe.httpGet.path is /health/ready, not /health/live',
    ],
    [
      'no readiness probe',
      (r) => {
        delete tokenCache(r)['readinessProbe'];
      },
      'Deployment/token-cache: container token-cache: no readinessProbe with httpGet /health/ready',
    ],
    [
      'an ops port left at 0',
      (r) => {
        envOf(tokenCache(r), 'HTTP_PORT')['value'] = '0';
      },
      'Deployment/token-cache: container token-cache: listens on a random port (0)',
    ],
    [
      'an ops port bound to loopback, which the kubelet cannot probe',
      (r) => {
        envOf(tokenCache(r), 'OPS_HOST')['value'] = '127.0.0.1';
      },
      'Deployment/token-cache: container token-cache: OPS_HOST is 127.0.0.1: in a container only 0.0.0.0 (or ::) is reachable',
    ],
    [
      'no resource requests',
      (r) => {
        delete (tokenCache(r)['resources'] as Mapping)['requests'];
      },
      'Deployment/token-cache: container token-cache: resources.requests.cpu is not set',
    ],
    [
      'a request above its limit',
      (r) => {
        ((tokenCache(r)['resources'] as Mapping)['requests'] as Mapping)['memory'] = '1Gi';
      },
      'Deployment/token-cache: container token-cache: resources.requests.memory 1Gi is above resources.limits.memory 512Mi',
    ],
    [
      'a variable the app never reads',
      (r) => {
        containerOf(find(r, 'Deployment', 'vault-adapters')).env.push({ name: 'TOKEN_CACHE_KEYS', value: 'k:a' });
      },
      'Deployment/vault-adapters: container vault-adapters: sets TOKEN_CACHE_KEYS, declared by the token-cache concern, which vault-adapters never reads',
    ],
    [
      'a variable libs/config does not declare',
      (r) => {
        tokenCache(r).env.push({ name: 'TOKEN_CACHE_KEY', value: 'x' });
      },
      'Deployment/token-cache: container token-cache: sets TOKEN_CACHE_KEY, which libs/config does not declare',
    ],
    [
      'a required variable missing',
      (r) => {
        const c = tokenCache(r);
        c.env = c.env.filter((e) => e.name !== 'TOKEN_CACHE_KEYS');
      },
      'Deployment/token-cache: container token-cache: does not set TOKEN_CACHE_KEYS, required by the token-cache concern',
    ],
    [
      'a required variable from an optional reference',
      (r) => {
        ((envOf(tokenCache(r), 'TOKEN_CACHE_KEYS')['valueFrom'] as Mapping)['secretKeyRef'] as Mapping)['optional'] = true;
      },
      'Deployment/token-cache: container token-cache: env TOKEN_CACHE_KEYS is required, but its reference is optional',
    ],
    [
      'a secretKeyRef to a key the Secret does not have',
      (r) => {
        ((envOf(tokenCache(r), 'TOKEN_CACHE_KEYS')['valueFrom'] as Mapping)['secretKeyRef'] as Mapping)['key'] = 'TOKEN_CACHE_KEY';
      },
      `Deployment/token-cache: container token-cache: env TOKEN_CACHE_KEYS reads key TOKEN_CACHE_KEY of Secret ${SECRET_NAME}, which has no such key`,
    ],
    [
      'a configMapKeyRef to a ConfigMap that is not there',
      (r) => {
        ((envOf(tokenCache(r), 'NATS_URL')['valueFrom'] as Mapping)['configMapKeyRef'] as Mapping)['name'] = 'openecm-settings';
      },
      'Deployment/token-cache: container token-cache: env NATS_URL reads key NATS_URL of ConfigMap openecm-settings, which does not exist',
    ],
    [
      'a value the app rejects at boot',
      (r) => {
        envOf(tokenCache(r), 'HTTP_PORT')['value'] = 'ninety';
      },
      'Deployment/token-cache: container token-cache: invalid ops-http configuration: HTTP_PORT',
    ],
    [
      'a literal secret',
      (r) => {
        const entry = envOf(containerOf(find(r, 'Deployment', 'vault-adapters')), 'VAULT_SETTINGS_KEYS');
        delete entry['valueFrom'];
        entry['value'] = 'k1:REVNTy1PTkxZLVZBVUxULUtFWS1OT1QtRk9SLVVTRSE=';
      },
      'Deployment/vault-adapters: container vault-adapters: env VAULT_SETTINGS_KEYS is secret but comes from value; take it from a Secret',
    ],
    [
      'a Secret in the base',
      (r) => {
        r.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET_NAME }, stringData: { DATABASE_URL: 'postgres://x' } });
      },
      `Secret/${SECRET_NAME}: the base holds no Secret`,
    ],
    [
      'no autoscaler',
      (r) => r.splice(r.indexOf(find(r, 'HorizontalPodAutoscaler', 'policy-approval')), 1),
      'Deployment/policy-approval: no HorizontalPodAutoscaler scales it',
    ],
    [
      'an autoscaler with no CPU metric',
      (r) => {
        specOf(r, 'HorizontalPodAutoscaler', 'policy-approval')['metrics'] = [];
      },
      'HorizontalPodAutoscaler/policy-approval: no Resource metric on cpu',
    ],
    [
      'replicas set beside an autoscaler',
      (r) => {
        specOf(r, 'Deployment', 'policy-approval')['replicas'] = 2;
      },
      'Deployment/policy-approval: spec.replicas is set while HorizontalPodAutoscaler/policy-approval owns the count',
    ],
    [
      'a disruption budget that selects nothing of its app',
      (r) => {
        (specOf(r, 'PodDisruptionBudget', 'session-reporting')['selector'] as Mapping)['matchLabels'] = {
          'app.kubernetes.io/name': 'session-report',
        };
      },
      'Deployment/session-reporting: no PodDisruptionBudget selects its pods',
    ],
    [
      'a disruption budget that blocks every drain',
      (r) => {
        specOf(r, 'PodDisruptionBudget', 'session-reporting')['maxUnavailable'] = 0;
      },
      'PodDisruptionBudget/session-reporting: maxUnavailable 0 blocks every node drain',
    ],
    [
      'a disruption budget over every app',
      (r) => {
        (specOf(r, 'PodDisruptionBudget', 'session-reporting')['selector'] as Mapping)['matchLabels'] = {
          'app.kubernetes.io/part-of': 'openecm',
        };
      },
      'PodDisruptionBudget/session-reporting: selector also matches the pods of Deployment/appliance-gateway',
    ],
    [
      'a grace period shorter than the drain',
      (r) => {
        podSpec(find(r, 'Deployment', 'appliance-gateway'))['terminationGracePeriodSeconds'] = 30;
      },
      'Deployment/appliance-gateway: terminationGracePeriodSeconds is 30, not above preStop 5 s + the drain after SIGTERM (SHUTDOWN_TIMEOUT_MS, 25 s)',
    ],
    [
      'a drain set longer than the grace period',
      (r) => {
        tokenCache(r).env.push({ name: 'SHUTDOWN_TIMEOUT_MS', value: '60000' });
      },
      'Deployment/token-cache: terminationGracePeriodSeconds is 40, not above preStop 0 s + the drain after SIGTERM (SHUTDOWN_TIMEOUT_MS, 60 s)',
    ],
    [
      'a Service that selects other pods',
      (r) => {
        (specOf(r, 'Service', 'appliance-gateway')['selector'] as Mapping)['app.kubernetes.io/name'] = 'token-cache';
      },
      'Deployment/appliance-gateway: no Service selects its pods on port 8080',
    ],
    [
      'a Service port aimed at no container port',
      (r) => {
        ((specOf(r, 'Service', 'appliance-gateway')['ports'] as Mapping[])[0] as Mapping)['targetPort'] = 'ops';
      },
      'Service/appliance-gateway: port 8080 targets ops, which is no container port of Deployment/appliance-gateway',
    ],
    [
      'the latest tag',
      (r) => {
        gateway(r)['image'] = 'openecm/appliance-gateway:latest';
      },
      'Deployment/appliance-gateway: container appliance-gateway: image openecm/appliance-gateway:latest uses the latest tag',
    ],
    [
      'no tag at all',
      (r) => {
        gateway(r)['image'] = 'openecm/appliance-gateway';
      },
      'Deployment/appliance-gateway: container appliance-gateway: image openecm/appliance-gateway has no tag',
    ],
    [
      'the image of another app',
      (r) => {
        gateway(r)['image'] = 'openecm/policy-approval:0.1.0';
      },
      'Deployment/appliance-gateway: container appliance-gateway: image openecm/policy-approval:0.1.0 is not <registry>/appliance-gateway:<tag>',
    ],
    [
      'root',
      (r) => {
        (podSpec(find(r, 'Deployment', 'token-cache'))['securityContext'] as Mapping)['runAsUser'] = 0;
      },
      'Deployment/token-cache: container token-cache: securityContext.runAsUser is 0 (root)',
    ],
    [
      'privilege escalation',
      (r) => {
        (tokenCache(r)['securityContext'] as Mapping)['allowPrivilegeEscalation'] = true;
      },
      'Deployment/token-cache: container token-cache: securityContext.allowPrivilegeEscalation is not false',
    ],
    [
      'a writable root filesystem',
      (r) => {
        delete (tokenCache(r)['securityContext'] as Mapping)['readOnlyRootFilesystem'];
      },
      'Deployment/token-cache: container token-cache: securityContext.readOnlyRootFilesystem is not true',
    ],
    [
      'capabilities kept',
      (r) => {
        (tokenCache(r)['securityContext'] as Mapping)['capabilities'] = { drop: ['NET_RAW'] };
      },
      'Deployment/token-cache: container token-cache: securityContext.capabilities.drop does not hold ALL',
    ],
    [
      'no seccomp profile',
      (r) => {
        delete (podSpec(find(r, 'Deployment', 'token-cache'))['securityContext'] as Mapping)['seccompProfile'];
      },
      'Deployment/token-cache: container token-cache: securityContext.seccompProfile.type is not RuntimeDefault',
    ],
    [
      'no /tmp',
      (r) => {
        tokenCache(r)['volumeMounts'] = [];
      },
      'Deployment/token-cache: container token-cache: nothing is mounted at /tmp',
    ],
    [
      'an API token mounted',
      (r) => {
        delete podSpec(find(r, 'Deployment', 'token-cache'))['automountServiceAccountToken'];
        find(r, 'ServiceAccount', 'openecm')['automountServiceAccountToken'] = true;
      },
      'Deployment/token-cache: the pod mounts a Kubernetes API token',
    ],
  ])('in the base: reports %s', (_name, mutate, expected) => {
    expect(broken(base, baseOptions, mutate)).toContainEqual(expect.stringContaining(expected));
  });

  it.each<[string, (r: Resource[]) => void, string]>([
    [
      'a URL to a Service that is not there',
      (r) => {
        configData(r)['NATS_URL'] = 'nats://nats-0:4222';
      },
      'env NATS_URL points at nats-0, which is not a Service of the render',
    ],
    [
      'a URL on a port the Service does not serve',
      (r) => {
        configData(r)['REDIS_URL'] = 'redis://redis:6380';
      },
      'env REDIS_URL uses port 6380, but Service redis serves 6379',
    ],
    [
      'a URL to localhost',
      (r) => {
        configData(r)['NATS_URL'] = 'nats://127.0.0.1:4222';
      },
      'env NATS_URL points at 127.0.0.1, which in a pod is the pod itself',
    ],
    [
      'a database password that is not the database\'s',
      (r) => {
        const secret = find(r, 'Secret', demoSecret.metadata.name);
        (secret['data'] as Mapping)['POSTGRES_PASSWORD'] = Buffer.from('another-password').toString('base64');
      },
      'env DATABASE_URL has a password that is not the postgres service\'s POSTGRES_PASSWORD',
    ],
    [
      'a keyring the app cannot open',
      (r) => {
        (find(r, 'Secret', demoSecret.metadata.name)['data'] as Mapping)['TOKEN_CACHE_KEYS'] = Buffer.from('k1:c2hvcnQ=').toString('base64');
      },
      'Deployment/token-cache: container token-cache: TOKEN_CACHE_KEYS:',
    ],
    ['a simulator with no Deployment', (r) => r.splice(r.indexOf(find(r, 'Deployment', 'secret-server-sim')), 1), 'secret-server-sim: no Deployment named secret-server-sim'],
    [
      'a simulator variable copied from the other simulator',
      (r) => {
        containerOf(find(r, 'Deployment', 'secret-server-sim')).env.push({ name: 'PS_SIM_PORT', value: '8091' });
      },
      'Deployment/secret-server-sim: container secret-server-sim: sets PS_SIM_PORT, which the simulator\'s environment schema does not declare (password-safe-sim reads it)',
    ],
    [
      'a simulator probed on the wrong path',
      (r) => {
        ((containerOf(find(r, 'Deployment', 'password-safe-sim'))['readinessProbe'] as Mapping)['httpGet'] as Mapping)['path'] = '/health/ready';
      },
      'Deployment/password-safe-sim: container password-safe-sim: readinessProbe.httpGet.path is /health/ready, not /_sim/stats',
    ],
    [
      'a StatefulSet whose service is not there',
      (r) => {
        specOf(r, 'StatefulSet', 'redis')['serviceName'] = 'redis-headless';
      },
      'StatefulSet/redis: spec.serviceName redis-headless is not a Service of the render',
    ],
    [
      'a volume mount with no volume',
      (r) => {
        (containerOf(find(r, 'StatefulSet', 'postgres'))['volumeMounts'] as Mapping[]).push({ name: 'backup', mountPath: '/backup' });
      },
      'StatefulSet/postgres: container postgres: volumeMounts backup names no volume of the pod',
    ],
    [
      'infrastructure running as root',
      (r) => {
        delete (podSpec(find(r, 'StatefulSet', 'nats'))['securityContext'] as Mapping)['runAsNonRoot'];
      },
      'StatefulSet/nats: container nats: securityContext.runAsNonRoot is not true',
    ],
  ])('in the demo: reports %s', (_name, mutate, expected) => {
    expect(broken(demo, demoOptions, mutate)).toContainEqual(expect.stringContaining(expected));
  });

  it('never prints a secret it compares', () => {
    const problems = broken(demo, demoOptions, (r) => {
      const secret = find(r, 'Secret', demoSecret.metadata.name);
      (secret['data'] as Mapping)['POSTGRES_PASSWORD'] = Buffer.from('another-password').toString('base64');
      (secret['data'] as Mapping)['TOKEN_CACHE_KEYS'] = Buffer.from('k1:c2hvcnQ=').toString('base64');
    });
    expect(problems.length).toBeGreaterThan(0);
    for (const secret of ['another-password', 'openecm-demo-only', 'c2hvcnQ=']) expect(problems.join('\n')).not.toContain(secret);
  });

  it('knows no schema for a kind that is not a built-in API', () => {
    expect(schemaProblems({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' } })).toEqual([
      'ServiceMonitor/x: no Kubernetes schema for apiVersion monitoring.coreos.com/v1, kind ServiceMonitor',
    ]);
  });

  it('fails, saying how to install it, when kubectl is missing', () => {
    expect(() => renderKustomize(join(root, BASE_DIR), '/nonexistent/kubectl')).toThrow(kubectlMissing('/nonexistent/kubectl'));
    expect(kubectlMissing('kubectl')).toMatch(/Install kubectl/);
  });

  it('reports what kustomize rejects', () => {
    expect(() => renderKustomize(join(root, 'deploy/k8s'))).toThrow(/kubectl kustomize .*deploy\/k8s failed/);
  });

  it('reads quantities and selectors as Kubernetes does', () => {
    expect([parseQuantity('100m'), parseQuantity('1'), parseQuantity('256Mi'), parseQuantity('1e3'), parseQuantity('1.5Gi')]).toEqual([
      0.1,
      1,
      256 * 2 ** 20,
      1000,
      1.5 * 2 ** 30,
    ]);
    expect(parseQuantity('lots')).toBeUndefined();
    const labels = { app: 'a', tier: 'x' };
    expect(selectorMatches({ matchLabels: { app: 'a' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'b' } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({}, labels)).toBe(true);
  });
});
