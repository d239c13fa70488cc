import { SERVICE_NAMES, type ApplianceConnectionView, type InstanceStatus } from '@openecm/contracts';
import { evaluate, type DiagnosticsInput } from './diagnostics';

function instance(service: string, extra: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    service,
    instance: `${service}-host/1`,
    version: '0.1.0',
    startedAt: '2030-01-01T00:00:00.000Z',
    uptimeSeconds: 60,
    ready: true,
    checks: { nats: 'up', ...(service === 'token-cache' || service === 'session-reporting' ? {} : { postgres: 'up' }), ...(service === 'token-cache' ? { redis: 'up' } : {}) },
    ...(service === 'policy-approval' ? { migrations: { schema: 'policy', pending: [], unknown: [] } } : {}),
    logLevel: 'info',
    logLevelRevertsAt: null,
    ...extra,
  };
}

const view = (name: string) => ({ name, type: 'password-safe' as const, status: 'ok' as 'ok' | 'unreadable', settings: {}, createdAt: '', updatedAt: '' });

function healthy(): DiagnosticsInput {
  return {
    jetstream: { ok: true, value: { leaseStream: 'LEASE_EVENTS', leaseStreamPresent: true } },
    instances: { ok: true, value: SERVICE_NAMES.map((s) => instance(s)) },
    vaults: { ok: true, value: [view('ps')] },
    keyring: { ok: true, value: { keyId: 'k1', canary: true, sampled: 3, unreadable: 0 } },
    accounts: [{ clientId: 'appliance', permissions: ['credentials'] }],
    target: { user: 'alice', endpoint: 'srv-app01' },
    tests: { ps: { ok: true, value: { result: 'ok', credentials: [{ name: 'a', username: 'a', domain: null, scope: 'machine' }] } } },
    clocks: { ps: { ok: true, value: { vault: 'ps', vaultTime: '2030-01-01T00:00:02.000Z', localTime: '2030-01-01T00:00:00.000Z', skewSeconds: 2, failure: null } } },
    appliance: { ok: true, value: appliance({}) },
  };
}

function appliance(over: Partial<ApplianceConnectionView>, poll: Partial<ApplianceConnectionView['poll']> = {}): ApplianceConnectionView {
  return {
    configured: false,
    url: null,
    clientId: null,
    clientSecretSet: false,
    pollIntervalSeconds: null,
    caBundle: false,
    allowInsecureHttp: false,
    updatedAt: null,
    ...over,
    poll: { resumeFrom: null, lastPolledAt: null, lastError: null, sessionsStored: 0, ...poll },
  };
}

const byId = (input: DiagnosticsInput, id: string) => evaluate(input).checks.find((c) => c.id === id);

describe('diagnostics', () => {
  it("reports the appliance connection's last report poll, naming the failing step and what to do", () => {
    const configured = { configured: true, url: 'https://pra.example.com', clientId: 'openecm', clientSecretSet: true, pollIntervalSeconds: 60 };
    const input = healthy();
    input.appliance = { ok: true, value: appliance(configured, { lastPolledAt: '2030-01-01T00:00:00.000Z', resumeFrom: '2029-12-31T23:00:00.000Z' }) };
    expect(byId(input, 'appliance')).toMatchObject({ status: 'ok', detail: expect.stringContaining('polled every 60 s') });
    input.appliance = { ok: true, value: appliance(configured, { lastPolledAt: '2030-01-01T00:00:00.000Z', lastError: 'authentication: the token endpoint answered 401' }) };
    expect(byId(input, 'appliance')).toMatchObject({ status: 'fail', step: 'authentication', remedy: expect.stringContaining('Reporting API') });
    input.appliance = { ok: false, error: { code: 'UPSTREAM_TIMEOUT', message: 'no answer' } };
    expect(byId(input, 'appliance')).toMatchObject({ status: 'warn' });
  });

  it('is ok when every step is, the appliance connection only informational', () => {
    const report = evaluate(healthy(), new Date('2030-01-01T00:00:00Z'));
    expect(report.status).toBe('ok');
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['appliance', 'log-level']);
    expect(report.checks.map((c) => c.id)).toEqual([
      'nats',
      ...SERVICE_NAMES.map((s) => `service:${s}`),
      'postgres',
      'redis',
      'migrations',
      'keys:vault-adapters',
      'keys:token-cache',
      'api-accounts',
      'vault:ps',
      'clock:ps',
      'appliance',
      'log-level',
    ]);
    expect(byId(healthy(), 'appliance')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not configured/) });
  });

  it.each([
    ['tls', /caBundle/],
    ['connect', /URL and port/],
    ['authentication', /API user and password|API key/],
    ['impersonation', /user mapping/],
    ['search', /permissions/],
  ] as const)('names a failing %s step and what to do', (step, remedy) => {
    const input = healthy();
    input.tests['ps'] = { ok: true, value: { result: 'failed', step, code: 'VAULT_ERROR', message: 'the vault said no' } };
    const report = evaluate(input);
    expect(report.status).toBe('fail');
    expect(report.checks.find((c) => c.id === 'vault:ps')).toMatchObject({ status: 'fail', step, detail: expect.stringContaining('the vault said no'), remedy: expect.stringMatching(remedy) });
  });

  it('warns for a user who has yet to approve, with the approve URL', () => {
    const input = healthy();
    input.tests['ps'] = { ok: true, value: { result: 'pending', reason: 'delegated trust pending', approveUrl: 'https://vault/approve' } };
    expect(evaluate(input).status).toBe('warn');
    expect(byId(input, 'vault:ps')).toMatchObject({ status: 'warn', remedy: expect.stringContaining('https://vault/approve') });
  });

  it('takes an empty list as a valid answer, and skips the tests without a user', () => {
    const input = healthy();
    input.tests['ps'] = { ok: true, value: { result: 'ok', credentials: [] } };
    expect(byId(input, 'vault:ps')).toMatchObject({ status: 'ok', detail: expect.stringContaining('valid answer') });
    const untargeted = healthy();
    delete untargeted.target;
    untargeted.tests = {};
    expect(byId(untargeted, 'vault:ps')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not tested/) });
    expect(evaluate(untargeted).status).toBe('ok');
  });

  it('counts instances per service and fails a service with none, or one not ready, naming what is down', () => {
    const input = healthy();
    input.instances = {
      ok: true,
      value: [
        ...SERVICE_NAMES.filter((s) => s !== 'token-cache' && s !== 'vault-adapters').map((s) => instance(s)),
        instance('vault-adapters', { instance: 'a/1' }),
        instance('vault-adapters', { instance: 'b/2', ready: false, checks: { nats: 'up', postgres: 'down' } }),
      ],
    };
    delete input.keyring;
    expect(byId(input, 'service:token-cache')).toMatchObject({ status: 'fail', detail: 'no instance answers', remedy: expect.stringContaining('TOKEN_CACHE_KEYS') });
    expect(byId(input, 'service:vault-adapters')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/1 of 2 instances ready; not ready: b\/2 \(postgres down\)/) });
    expect(byId(input, 'postgres')).toMatchObject({ status: 'fail', detail: 'unreachable from vault-adapters b/2', remedy: expect.stringContaining('DATABASE_URL') });
    expect(byId(input, 'keys:token-cache')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not checked/) });
    expect(byId(input, 'redis')).toMatchObject({ status: 'info' });
  });

  it('fails when NATS cannot be used or JetStream is off, and warns before the lease stream exists', () => {
    const noNats = healthy();
    noNats.instances = { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'closed' } };
    expect(byId(noNats, 'nats')).toMatchObject({ status: 'fail', remedy: expect.stringContaining('NATS_URL') });
    const noJetStream = healthy();
    noJetStream.jetstream = { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'JetStream did not answer (503)' } };
    expect(byId(noJetStream, 'nats')).toMatchObject({ status: 'fail', remedy: expect.stringContaining('-js') });
    const noStream = healthy();
    noStream.jetstream = { ok: true, value: { leaseStream: 'T1_LEASE_EVENTS', leaseStreamPresent: false } };
    expect(byId(noStream, 'nats')).toMatchObject({ status: 'warn', detail: expect.stringContaining('T1_LEASE_EVENTS') });
  });

  it('fails on migrations not applied and warns on an instance older than its schema', () => {
    const input = healthy();
    const instances = input.instances.ok ? input.instances.value : [];
    const policy = instances.find((i) => i.service === 'policy-approval') as InstanceStatus;
    policy.migrations = { schema: 'policy', pending: [], unknown: ['PolicyLater1'] };
    expect(byId(input, 'migrations')).toMatchObject({ status: 'warn', detail: expect.stringContaining('PolicyLater1') });
    policy.migrations = { schema: 'policy', pending: ['PolicyNext1'], unknown: [] };
    expect(byId(input, 'migrations')).toMatchObject({ status: 'fail', detail: expect.stringContaining('schema policy: PolicyNext1 not applied') });
  });

  it('fails on vault settings that do not open, and warns on stored sessions that do not', () => {
    const input = healthy();
    input.vaults = { ok: true, value: [view('ps'), { ...view('old'), status: 'unreadable' as const }] };
    expect(byId(input, 'keys:vault-adapters')).toMatchObject({ status: 'fail', detail: expect.stringContaining('old'), remedy: expect.stringContaining('VAULT_SETTINGS_KEYS') });
    expect(evaluate(input).checks.some((c) => c.id === 'vault:old')).toBe(false);
    const failing = healthy();
    failing.vaults = { ok: false, error: { code: 'INTERNAL', message: 'the settings of vault "old" cannot be decrypted with the configured keys' } };
    expect(byId(failing, 'keys:vault-adapters')).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot be decrypted'), remedy: expect.stringContaining('VAULT_SETTINGS_KEYS') });
    expect(evaluate(failing).checks.some((c) => c.id.startsWith('vault:'))).toBe(false);
    input.keyring = { ok: true, value: { keyId: 'k2', canary: true, sampled: 4, unreadable: 1 } };
    expect(byId(input, 'keys:token-cache')).toMatchObject({ status: 'warn', detail: '1 of 4 stored vault sessions do not open with the configured keys' });
    input.keyring = { ok: true, value: { keyId: 'k2', canary: false, sampled: 0, unreadable: 0 } };
    expect(byId(input, 'keys:token-cache')).toMatchObject({ status: 'fail' });
  });

  it('warns on a vault clock more than 30 s off, and does not measure one that gave no answer', () => {
    const input = healthy();
    input.clocks['ps'] = { ok: true, value: { vault: 'ps', vaultTime: '', localTime: '', skewSeconds: -45.5, failure: null } };
    expect(byId(input, 'clock:ps')).toMatchObject({ status: 'warn', detail: "the vault's clock is 45.5 s behind vault-adapters'", remedy: expect.stringContaining('NTP') });
    input.clocks['ps'] = { ok: true, value: { vault: 'ps', vaultTime: null, localTime: '', skewSeconds: null, failure: 'TLS failure during GET (clock) (DEPTH_ZERO_SELF_SIGNED_CERT)' } };
    expect(byId(input, 'clock:ps')).toMatchObject({ status: 'info', detail: expect.stringContaining('TLS failure') });
  });

  it('warns when no account can serve an appliance, or no vault is connected', () => {
    const input = healthy();
    input.accounts = [{ clientId: 'ops', permissions: ['admin'] }];
    expect(byId(input, 'api-accounts')).toMatchObject({ status: 'warn', remedy: expect.stringContaining('api-account create') });
    input.vaults = { ok: true, value: [] };
    expect(byId(input, 'vaults')).toMatchObject({ status: 'warn', detail: expect.stringContaining('no vault is connected') });
  });

  it('tells which instances run at a switched log level and until when', () => {
    const input = healthy();
    const instances = input.instances.ok ? input.instances.value : [];
    Object.assign(instances[0] as InstanceStatus, { logLevel: 'debug', logLevelRevertsAt: '2030-01-01T00:15:00.000Z' });
    expect(byId(input, 'log-level')).toMatchObject({ status: 'info', detail: expect.stringContaining('debug until 2030-01-01T00:15:00.000Z') });
  });
});
