import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { asMapping, environmentOf, interpolate, loadComposeFile, parseEnvFile, type Env } from '@openecm/compose-check';
import { SERVICE_NAMES } from '@openecm/contracts';
import { DEMO_DIR, SECRET_NAME, renderKustomize, type Resource } from '../../k8s-check/src/k8s-check';
import { DEFAULT_OUT, credentialVariable, renderServerConfig } from './server-config';

const ROOT = resolve(__dirname, '../../..');
const SERVER_CONF = readFileSync(join(ROOT, 'deploy/nats/nats-server.conf'), 'utf8');
/** What nats-server reads as one string when it takes a variable's value as configuration. */
const SAFE_PASSWORD = /^[A-Za-z][A-Za-z0-9_-]*$/;

type Mapping = Record<string, unknown>;

describe('docker-compose.yml runs NATS with the generated users, one for each app', () => {
  const compose = asMapping(loadComposeFile(join(ROOT, 'docker-compose.yml'))) as Mapping;
  const services = asMapping(compose['services']) as Mapping;
  const interpolated = (service: string, env: Env): Env =>
    Object.fromEntries(Object.entries(environmentOf(asMapping(services[service]) ?? {})).map(([k, v]) => [k, interpolate(v, env, service, [], [])]));

  it('mounts deploy/nats and starts nats-server with its configuration, JetStream and the accounts file included', () => {
    const nats = asMapping(services['nats']) as Mapping;
    expect(nats['command']).toEqual(['nats-server', '-c', '/etc/nats/nats-server.conf']);
    expect(nats['volumes']).toEqual(expect.arrayContaining(['./deploy/nats:/etc/nats:ro']));
    expect(SERVER_CONF).toMatch(/^jetstream \{\n {2}store_dir: "\/data"\n\}$/m);
    expect(SERVER_CONF).toMatch(/^include \.\/openecm-accounts\.conf$/m);
    expect(SERVER_CONF).toMatch(/^http_port: 8222$/m);
  });

  it.each([
    ['no .env', {}],
    ['the values of .env.example', parseEnvFile(readFileSync(join(ROOT, '.env.example'), 'utf8'))],
  ])('gives each app the user of its name and the password NATS expects for it, with %s', (_what, env: Env) => {
    const server = interpolated('nats', env);
    for (const app of SERVICE_NAMES) {
      const own = interpolated(app, env);
      const password = server[credentialVariable(app, 'password')];
      expect([app, own['NATS_USER'], SAFE_PASSWORD.test(password ?? '')]).toEqual([app, app, true]);
      // compared, never printed
      expect(`${app}: ${own['NATS_PASSWORD'] === password ? 'the password NATS expects' : 'another password'}`).toBe(`${app}: the password NATS expects`);
    }
    const others = SERVICE_NAMES.map((app) => server[credentialVariable(app, 'password')]);
    expect(new Set(others).size).toBe(SERVICE_NAMES.length);
  });
});

describe('the Kubernetes demo runs NATS with the generated users, one for each app', () => {
  const demo = renderKustomize(join(ROOT, DEMO_DIR));
  const find = (kind: string, name: string) => demo.find((r) => r.kind === kind && (r.metadata.name === name || r.metadata.name.startsWith(`${name}-`))) as Resource;
  const container = (r: Resource) => ((((r['spec'] as Mapping)['template'] as Mapping)['spec'] as Mapping)['containers'] as Mapping[])[0] as Mapping;
  const env = (c: Mapping) => new Map(((c['env'] as Mapping[]) ?? []).map((e) => [e['name'] as string, e]));
  const secretKey = (entry: Mapping | undefined) => ((entry?.['valueFrom'] as Mapping | undefined)?.['secretKeyRef'] as Mapping | undefined)?.['key'];
  const secret = find('Secret', SECRET_NAME);
  const secretValue = (key: string) => Buffer.from(String((secret['data'] as Mapping)[key] ?? ''), 'base64').toString();

  it('mounts the ConfigMap made from deploy/nats: the same files compose mounts, the accounts file as generated', () => {
    const data = find('ConfigMap', 'nats-config')['data'] as Mapping;
    expect(data['nats-server.conf']).toBe(SERVER_CONF);
    expect(data['openecm-accounts.conf']).toBe(renderServerConfig({ auth: 'password' }));
    expect(readFileSync(join(ROOT, DEFAULT_OUT), 'utf8')).toBe(data['openecm-accounts.conf']);
  });

  it('gives NATS and each app the same password from the demo Secret, and each app the user of its name', () => {
    const nats = env(container(find('StatefulSet', 'nats')));
    for (const app of SERVICE_NAMES) {
      const key = credentialVariable(app, 'password');
      const own = env(container(find('Deployment', app)));
      expect([app, own.get('NATS_USER')?.['value'], secretKey(own.get('NATS_PASSWORD')), secretKey(nats.get(key))]).toEqual([app, app, key, key]);
      expect([key, SAFE_PASSWORD.test(secretValue(key))]).toEqual([key, true]);
    }
  });

  it('holds the demo-only NATS passwords of .env.example', () => {
    const example = parseEnvFile(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    for (const app of SERVICE_NAMES) {
      const key = credentialVariable(app, 'password');
      expect(`${key}: ${secretValue(key) === example[key] ? 'as in .env.example' : 'differs'}`).toBe(`${key}: as in .env.example`);
    }
  });
});
