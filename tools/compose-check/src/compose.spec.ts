import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  checkCompose,
  compileComposeSchema,
  interpolations,
  loadComposeFile,
  loadRepoFacts,
  parseComposeText,
  parseEnvFile,
  simulatorNames,
  type RepoFacts,
} from './compose-check';

const root = resolve(__dirname, '../../..');

type Mapping = Record<string, unknown>;
type Doc = { services: Record<string, Mapping & { environment: Record<string, string> }> } & Mapping;

// Loaded at module level so a missing schema or an unparsable file fails the suite with its own message.
const facts: RepoFacts = loadRepoFacts(root);
const compose = loadComposeFile(join(root, 'docker-compose.yml'));
const envExample = parseEnvFile(readFileSync(join(root, '.env.example'), 'utf8'));
const simulators = facts.services.filter((s) => s.kind === 'simulator');
const PS = 'password-safe-sim';
const SS = 'secret-server-sim';

describe('docker-compose.yml', () => {
  it('passes every check as cloned, with no .env', () => {
    expect(checkCompose(compose, facts)).toEqual([]);
  });

  it('passes every check with the values of .env.example', () => {
    expect(checkCompose(compose, facts, envExample)).toEqual([]);
  });

  it('interpolates exactly the variables .env.example lists, each with a default', () => {
    const uses = interpolations(compose);
    expect(uses.filter((u) => !u.hasDefault)).toEqual([]);
    expect([...new Set(uses.map((u) => u.name))].sort()).toEqual(Object.keys(envExample).sort());
  });

  it('reads the facts it checks against from the repository', () => {
    // Guards the scan itself: if it found nothing, the variable checks above would prove nothing.
    const byName = new Map(facts.services.map((s) => [s.name, s]));
    const apps = facts.services.filter((s) => s.kind === 'app');
    expect(apps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['appliance-gateway', 'policy-approval', 'session-reporting', 'token-cache', 'vault-adapters']),
    );
    // Every server under tools/*-sim; the appliance simulator is a client and listens on nothing.
    expect(simulators.map((s) => s.name)).toEqual(expect.arrayContaining([PS, SS]));
    expect(simulators.map((s) => s.name)).toEqual(simulatorNames(root));
    expect(simulatorNames(root)).not.toContain('appliance-sim');
    for (const app of apps) {
      expect([...app.declared.keys()]).toEqual(expect.arrayContaining(['NATS_URL', 'LOG_LEVEL', 'OPENECM_NAMESPACE']));
    }
    expect(byName.get('token-cache')?.required).toEqual(['TOKEN_CACHE_KEYS']);
    expect(byName.get('vault-adapters')?.required).toEqual(['VAULT_SETTINGS_KEYS']);
    expect(byName.get('appliance-gateway')?.listenPort({})).toBe(8080);
    expect(byName.get('session-reporting')?.listenPort({ HTTP_PORT: '9000' })).toBe(9000);
    expect(byName.get('token-cache')?.declared.has('VAULT_SETTINGS_KEYS')).toBe(false);
    expect([...(byName.get(PS)?.declared.keys() ?? [])]).toEqual(expect.arrayContaining(['PS_SIM_PORT', 'PS_SIM_HOST']));
    expect([...(byName.get(SS)?.declared.keys() ?? [])]).toEqual(
      expect.arrayContaining(['SS_SIM_PORT', 'SS_SIM_HOST', 'SS_SIM_SEED', 'SS_SIM_EMPTY', 'SS_SIM_TOKEN_TTL_SECONDS', 'LOG_LEVEL']),
    );
    expect(byName.get(PS)?.listenPort({})).toBe(8090);
    expect(byName.get(SS)?.listenPort({})).toBe(8091);
    expect(byName.get(SS)?.listenPort({ SS_SIM_PORT: '9091' })).toBe(9091);
    expect(byName.get(SS)?.validate({})).toEqual([expect.stringMatching(/SS_SIM_HOST is 127\.0\.0\.1/)]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());

  // The Dockerfile's instructions, continuation lines joined and comments left out.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.trimStart().startsWith('#'));
  // The image holds the compiled tree in the checkout's layout: apps/x/src/main.ts runs as dist/apps/x/src/main.js.
  const compiled = (entry: string) => `dist/${entry.replace(/\.ts$/, '.js')}`;
  const image = mkdtempSync(join(tmpdir(), 'openecm-image-'));
  for (const service of facts.services) {
    mkdirSync(dirname(join(image, compiled(service.entry))), { recursive: true });
    writeFileSync(join(image, compiled(service.entry)), '');
  }
  afterAll(() => rmSync(image, { recursive: true, force: true }));
  const runWithApp = (script: string, app: string) =>
    spawnSync('/bin/sh', ['-c', script], { cwd: image, env: { PATH: process.env['PATH'] ?? '', APP: app }, encoding: 'utf8' });
  // The stages, each from its FROM line to the next.
  const stages = new Map(
    dockerfile
      .split(/^(?=FROM )/m)
      .filter((part) => part.startsWith('FROM '))
      .map((part) => [/ AS (\S+)/.exec(part)?.[1] ?? '', part] as const),
  );

  it('compiles the TypeScript in a build stage and runs the entry of every service it is asked for', () => {
    expect(stages.get('build')).toMatch(/^RUN npm ci --include=dev/m);
    expect(stages.get('build')).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toContain('dist/apps/$APP/src/main.js');
    expect(dockerfile).toContain('dist/tools/$APP/src/main.js');
    for (const service of facts.services) expect(existsSync(join(root, service.entry))).toBe(true);
  });

  it('maps APP to the entry of each service, apps/ or tools/*-sim, at build and at run time', () => {
    // The build step that checks the entry exists, run in the checkout as the build runs it in /app.
    const check = instructions.find((line) => line.startsWith('RUN ') && line.includes('$APP'))?.slice(4);
    // The command the container runs, with node replaced by a print of the entry.
    const cmd = instructions.find((line) => line.startsWith('CMD '))?.slice(4);
    expect(check).toBeDefined();
    expect(cmd).toBeDefined();
    const [shell, flag, script] = JSON.parse(cmd as string) as string[];
    expect([shell, flag]).toEqual(['/bin/sh', '-c']);
    const printEntry = (script as string).replace('exec node --enable-source-maps', 'printf %s');
    expect(printEntry).not.toEqual(script);
    for (const service of facts.services) {
      expect(runWithApp(check as string, service.name)).toMatchObject({ status: 0 });
      expect(runWithApp(printEntry, service.name).stdout).toBe(compiled(service.entry));
    }
    expect(runWithApp(check as string, 'no-such-sim')).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('there is no dist/tools/no-such-sim/src/main.js'),
    });
    expect(runWithApp(check as string, '').status).toBe(1);
  });

  it('runs compiled JavaScript with production dependencies only, as a non-root user, and stops on SIGTERM', () => {
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:20-bookworm-slim/);
    expect(stages.get('prod-deps')).toMatch(/^RUN npm ci --omit=dev/m);
    const runtime = stages.get('runtime') ?? '';
    expect(dockerfile.trimEnd().endsWith(runtime.trimEnd())).toBe(true);
    expect(runtime).toMatch(/^COPY --from=prod-deps \/app\/node_modules \.\/node_modules$/m);
    expect(runtime).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    // No sources, no loader, no compiler in the image that runs.
    expect(runtime).not.toMatch(/^COPY (libs|apps|tools|tsconfig)/m);
    expect(runtime).not.toMatch(/swc|ts-node|typescript/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
  });

  it('leaves out what must not reach the image, and nothing the apps load', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'tmp', '.git', '.nx', 'dist', 'coverage', '.env']));
    const needed = ['.swcrc', 'tsconfig.json', 'tsconfig.base.json', 'package-lock.json', 'libs', 'apps', 'tools', ...simulators.map((s) => `tools/${s.name}/seed`)];
    for (const path of needed) expect(ignored).not.toContain(path);
  });
});

describe('the check on a broken file', () => {
  const broken = (mutate: (doc: Doc) => void): string[] => {
    const doc = structuredClone(compose) as Doc;
    mutate(doc);
    return checkCompose(doc, facts);
  };

  it.each<[string, (doc: Doc) => void, RegExp]>([
    ['an obsolete version key', (d) => void (d['version'] = '3.8'), /`version:` is obsolete/],
    ['a misspelt service key', (d) => void (d.services['token-cache']!['healtcheck'] = {}), /schema: \/services\/token-cache must NOT have additional properties 'healtcheck'/],
    ['a wrong value type', (d) => void (d.services['redis']!['restart'] = ['always']), /schema: \/services\/redis\/restart must be string/],
    ['an app without a service', (d) => void delete d.services['session-reporting'], /session-reporting: no service/],
    ['the simulator without a service', (d) => void delete d.services[PS], /password-safe-sim: no service/],
    ['the Secret Server simulator without a service', (d) => void delete d.services[SS], /secret-server-sim: no service \(tools\/secret-server-sim\/src\/main\.ts exists\)/],
    ['a container_name', (d) => void (d.services['policy-approval']!['container_name'] = 'policy'), /policy-approval: has a container_name/],
    ['a published port on a scalable app', (d) => void (d.services['token-cache']!['ports'] = ['9000:9000']), /token-cache: publishes ports/],
    ['two services on one host port', (d) => void (d.services[PS]!['ports'] = ['127.0.0.1:8080:8090']), /host port 8080\/tcp is also published/],
    ['both simulators on one host port', (d) => void (d.services[SS]!['ports'] = ['127.0.0.1:8090:8091']), /secret-server-sim: host port 8090\/tcp is also published by password-safe-sim/],
    ['a simulator publishing a port it does not listen on', (d) => void (d.services[SS]!['ports'] = ['127.0.0.1:8091:8090']), /secret-server-sim: publishes container port 8090, but the service listens on 8091/],
    ['the gateway publishing a port it does not listen on', (d) => void (d.services['appliance-gateway']!['ports'] = ['8080:3000']), /publishes container port 3000, but the service listens on 8080/],
    ['a misspelt variable', (d) => {
      const env = d.services['vault-adapters']!.environment;
      env['VAULT_SETTINGS_KEY'] = env['VAULT_SETTINGS_KEYS'] as string;
      delete env['VAULT_SETTINGS_KEYS'];
    }, /vault-adapters: sets VAULT_SETTINGS_KEY, which libs\/config does not declare/],
    ['a required variable missing', (d) => void delete d.services['token-cache']!.environment['TOKEN_CACHE_KEYS'], /token-cache: does not set TOKEN_CACHE_KEYS, required by the token-cache concern/],
    ['a variable of another app', (d) => void (d.services['appliance-gateway']!.environment['TOKEN_CACHE_KEYS'] = 'k:AAAA'), /appliance-gateway: sets TOKEN_CACHE_KEYS, declared by the token-cache concern, which appliance-gateway never reads/],
    ['a key of 16 bytes', (d) => void (d.services['token-cache']!.environment['TOKEN_CACHE_KEYS'] = `k1:${Buffer.alloc(16).toString('base64')}`), /TOKEN_CACHE_KEYS: key "k1" must be 32 bytes/],
    ['a keyring without a key id', (d) => void (d.services['vault-adapters']!.environment['VAULT_SETTINGS_KEYS'] = Buffer.alloc(32).toString('base64')), /invalid vault-adapters configuration: VAULT_SETTINGS_KEYS/],
    ['a short bootstrap secret', (d) => void (d.services['appliance-gateway']!.environment['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'short'), /OPENECM_BOOTSTRAP_CLIENT_SECRET: at least 16 characters/],
    ['a bad log level', (d) => void (d.services['session-reporting']!.environment['LOG_LEVEL'] = 'verbose'), /invalid log configuration: LOG_LEVEL/],
    ['the ops port left at random', (d) => void delete d.services['session-reporting']!.environment['HTTP_PORT'], /session-reporting: listens on a random port/],
    ['the ops port left on loopback', (d) => void delete d.services['token-cache']!.environment['OPS_HOST'], /token-cache: OPS_HOST is 127\.0\.0\.1: in a container only 0\.0\.0\.0/],
    ['the gateway bound to loopback', (d) => void (d.services['appliance-gateway']!.environment['GATEWAY_HOST'] = '127.0.0.1'), /appliance-gateway: GATEWAY_HOST is 127\.0\.0\.1/],
    ['a healthcheck on the wrong port', (d) => void (d.services['policy-approval']!.environment['HTTP_PORT'] = '9100'), /policy-approval: healthcheck probes port 9000, but the service listens on 9100/],
    ['a healthcheck on the wrong path', (d) => {
      d.services['token-cache']!['healthcheck'] = { test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:9000/health/live')"] };
    }, /token-cache: healthcheck probes \/health\/live, not \/health\/ready/],
    ['a healthcheck with curl', (d) => {
      d.services['vault-adapters']!['healthcheck'] = { test: ['CMD', 'curl', '-f', 'http://127.0.0.1:9000/health/ready'] };
    }, /vault-adapters: healthcheck runs curl/],
    ['no healthcheck', (d) => void delete d.services['appliance-gateway']!['healthcheck'], /appliance-gateway: has no healthcheck on \/health\/ready/],
    ['no depends_on for a database the app uses', (d) => void delete (d.services['session-reporting']!['depends_on'] as Mapping)['postgres'], /session-reporting: DATABASE_URL points at postgres, but depends_on does not list postgres/],
    ['waiting only for a start', (d) => void ((d.services['token-cache']!['depends_on'] as Mapping)['nats'] = { condition: 'service_started' }), /token-cache: depends_on nats with service_started; it has a healthcheck/],
    ['waiting for health of a service without a healthcheck', (d) => void ((d.services['token-cache']!['depends_on'] as Mapping)['jaeger'] = { condition: 'service_healthy' }), /token-cache: waits for jaeger to be healthy, but jaeger has no healthcheck/],
    ['a dependency that does not exist', (d) => void ((d.services['token-cache']!['depends_on'] as Mapping)['valkey'] = { condition: 'service_healthy' }), /token-cache: depends_on valkey, which is not a service/],
    ['traces sent to a missing service', (d) => void (d.services['policy-approval']!.environment['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://otel-collector:4318'), /policy-approval: OTEL_EXPORTER_OTLP_ENDPOINT points at otel-collector, which is not a service/],
    ['traces sent to the gRPC port', (d) => void (d.services['policy-approval']!.environment['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://jaeger:4317'), /uses 4317 \(OTLP\/gRPC\)/],
    ['no trace viewer at all', (d) => void delete d.services['jaeger'], /OTEL_EXPORTER_OTLP_ENDPOINT points at jaeger, which is not a service/],
    ['localhost inside a container', (d) => void (d.services['token-cache']!.environment['NATS_URL'] = 'nats://127.0.0.1:4222'), /token-cache: NATS_URL points at 127.0.0.1, which inside a container is the container itself/],
    ['a wrong database user', (d) => void (d.services['policy-approval']!.environment['DATABASE_URL'] = 'postgres://postgres:openecm-demo-only@postgres:5432/openecm'), /DATABASE_URL logs in as postgres, but the postgres service creates openecm/],
    ['the simulator on loopback', (d) => void (d.services[PS]!.environment['PS_SIM_HOST'] = '127.0.0.1'), /password-safe-sim: PS_SIM_HOST is 127.0.0.1/],
    ['a variable the simulator does not read', (d) => void (d.services[PS]!.environment['PS_SIM_SEED_FILE'] = '/seed.json'), /password-safe-sim: sets PS_SIM_SEED_FILE, which the simulator's environment schema does not declare/],
    ['the Secret Server simulator on its default host', (d) => void delete d.services[SS]!.environment['SS_SIM_HOST'], /secret-server-sim: SS_SIM_HOST is 127.0.0.1/],
    ['a variable copied from the other simulator', (d) => {
      const env = d.services[SS]!.environment;
      env['PS_SIM_PORT'] = env['SS_SIM_PORT'] as string;
      delete env['SS_SIM_PORT'];
    }, /secret-server-sim: sets PS_SIM_PORT, which the simulator's environment schema does not declare \(password-safe-sim reads it\)/],
    ['a Secret Server healthcheck on the wrong port', (d) => {
      (d.services[SS]!['healthcheck'] as Mapping)['test'] = ['CMD', 'node', '-e', "fetch('http://127.0.0.1:8090/_sim/stats')"];
    }, /secret-server-sim: healthcheck probes port 8090, but the service listens on 8091/],
    ['a Secret Server port moved without its healthcheck', (d) => void (d.services[SS]!.environment['SS_SIM_PORT'] = '9091'), /secret-server-sim: healthcheck probes port 8091, but the service listens on 9091/],
    ['a Secret Server healthcheck on the SOAP endpoint', (d) => {
      (d.services[SS]!['healthcheck'] as Mapping)['test'] = ['CMD', 'node', '-e', "fetch('http://127.0.0.1:8091/SecretServer/webservices/SSWebService.asmx')"];
    }, /secret-server-sim: healthcheck probes \/SecretServer\/webservices\/SSWebService\.asmx, not \/_sim\/stats/],
    ['a Secret Server simulator on port 0', (d) => void (d.services[SS]!.environment['SS_SIM_PORT'] = '0'), /secret-server-sim: SS_SIM_PORT is 0/],
    ['the wrong APP build argument for a simulator', (d) => void ((d.services[SS]!['build'] as { args: Mapping }).args['APP'] = PS), /secret-server-sim: build.args.APP is password-safe-sim, not secret-server-sim/],
    ['a simulator image that may be pulled', (d) => void delete d.services[SS]!['pull_policy'], /secret-server-sim: needs pull_policy: build/],
    ['the wrong APP build argument', (d) => void ((d.services['token-cache']!['build'] as { args: Mapping }).args['APP'] = 'token_cache'), /token-cache: build.args.APP is token_cache, not token-cache/],
    ['an image outside the shared pattern', (d) => void (d.services['token-cache']!['image'] = 'ghcr.io/acme/token-cache:latest'), /images do not share one name pattern/],
    ['an image that may be pulled', (d) => void delete d.services['vault-adapters']!['pull_policy'], /vault-adapters: needs pull_policy: build/],
    ['no init process', (d) => void delete d.services['token-cache']!['init'], /token-cache: needs init: true/],
    ['an undeclared named volume', (d) => void (d.services['redis']!['volumes'] = ['redis-state:/data']), /redis: volume redis-state is not declared/],
    ['an interpolation without a default', (d) => void (d.services['appliance-gateway']!.environment['OPENECM_BOOTSTRAP_CLIENT_ID'] = '${BOOTSTRAP_ID}'), /\$\{BOOTSTRAP_ID\} has no default/],
  ])('reports %s', (_name, mutate, expected) => {
    const problems = broken(mutate);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('never prints a secret it compares', () => {
    const problems = broken((d) => {
      d.services['policy-approval']!.environment['DATABASE_URL'] = 'postgres://openecm:not-the-password@postgres:5432/openecm';
      d.services['token-cache']!.environment['TOKEN_CACHE_KEYS'] = 'k1:c2VjcmV0LWJ1dC1zaG9ydA==';
    });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/is not the postgres service's POSTGRES_PASSWORD/)]));
    expect(problems.join('\n')).not.toMatch(/not-the-password|c2VjcmV0LWJ1dC1zaG9ydA/);
  });

  it('rejects YAML that compose would reject', () => {
    expect(() => parseComposeText('services:\n  a:\n    image: x\n  a:\n    image: y\n')).toThrow(/not valid YAML/);
  });

  it('fails loudly when the Compose Specification schema is missing', () => {
    expect(() => compileComposeSchema('/nonexistent/repo')).toThrow(/Compose Specification schema is missing: expected \/nonexistent\/repo\/tools\/compose-check\/schema\/compose-spec\.json/);
  });
});
