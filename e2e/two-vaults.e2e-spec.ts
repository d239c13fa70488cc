import { ApplianceClient } from '@openecm/appliance-sim';
import { NATS_URL, createTestDatabase, tearDownSuite, launchSystem, waitFor, type RunningSystem } from '@openecm/testing';
import { Redis } from 'ioredis';

/**
 * Password Safe and Secret Server connected at once, two vault-adapters instances behind NATS: merged
 * lists, delegated trust as the appliance sees it, a slow vault, single flight across instances, and no
 * secret in Redis or in a log line.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const redisDb = 1 + ((parseInt(namespace.slice(1, 7), 16) + 7) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;
const SS_API_PASSWORD = 'openecm-api-demo-pass';

type Listed = { credentials: Array<{ id: string; name: string; vault: string; scope: string; username: string }>; pending: Array<{ vault: string; reason: string; approveUrl?: string }> };

describe('two vaults at once', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let api: ApplianceClient;
  const seen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await launchSystem({
      namespace,
      databaseUrl: db.url,
      redisUrl,
      natsUrl: NATS_URL,
      secretServer: true,
      instances: { 'vault-adapters': 2 },
      logLevel: 'debug',
      env: { VAULT_RETRY_BASE_DELAY_MS: '20' },
    });
    api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    expect((await api.call('PUT', '/api/v1/admin/vaults/password-safe', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } },
    })).status).toBe(201);
    const ss = await connectSecretServer(20);
    expect(ss.status).toBe(201);
    expect(JSON.stringify(ss.body)).not.toContain(SS_API_PASSWORD);
    for (const user of ['alice', 'bob', 'carol']) {
      await api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user });
    }
  }, 120_000);

  afterAll(() => tearDownSuite({ system, db, redisUrl }));

  const connectSecretServer = (timeoutSeconds: number) =>
    api.call('PUT', '/api/v1/admin/vaults/secret-server', {
      type: 'secret-server',
      settings: {
        endpointUrl: `${system.secretServerUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
        apiUser: 'openecm-api',
        apiPassword: SS_API_PASSWORD,
        includeDomainCredentialsFor: 'CORP, LAB',
        defaultDomainForLocalUsers: 'CORP',
        fallBackToLocalAccount: true,
        timeoutSeconds,
      },
    });
  const ssControl = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${system.secretServerControlUrl}${path}`, init);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const list = async (user: string, endpoint = 'srv-app01'): Promise<Listed> => {
    const res = await api.call<Listed>('GET', `/api/v1/credentials?user=${encodeURIComponent(user)}&endpoint=${endpoint}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('merges both vaults, each entry naming its vault, machine and configured domain credentials from Secret Server', async () => {
    const listed = await list('alice');
    const byVault = (v: string) => listed.credentials.filter((c) => c.vault === v).map((c) => c.name);
    expect(byVault('password-safe')).toEqual(expect.arrayContaining(['srv-app01\\Administrator', 'CORP\\pra-admin']));
    expect(byVault('secret-server')).toEqual(expect.arrayContaining(['srv-app01 Administrator', 'CORP pra-admin', 'LAB lab-admin']));
    expect(listed.credentials.find((c) => c.name === 'LAB lab-admin')).toMatchObject({ scope: 'domain' });
    expect(listed.pending).toEqual([]);
  });

  it('authenticates once at the vault for 50 concurrent lists of one cold user across two instances', async () => {
    await api.call('DELETE', '/api/v1/admin/token-cache');
    const before = await ssControl<{ authenticate: { total: number }; impersonate: { byUser: Record<string, number> } }>('/stats');
    const lists = await Promise.all(Array.from({ length: 50 }, () => list('alice')));
    for (const l of lists) {
      expect(l.pending).toEqual([]);
      expect(l.credentials.some((c) => c.vault === 'secret-server')).toBe(true);
    }
    const after = await ssControl<{ authenticate: { total: number }; impersonate: { byUser: Record<string, number> } }>('/stats');
    expect(after.authenticate.total - before.authenticate.total).toBe(1);
    const impersonations = (u: typeof before) => Object.entries(u.impersonate.byUser).filter(([k]) => /alice/i.test(k)).reduce((n, [, v]) => n + v, 0);
    expect(impersonations(after) - impersonations(before)).toBe(1);
    // the lists were shared by both instances (their queue group), yet the vault saw one sign-in
    const served = await Promise.all(
      system.processes
        .filter((p) => p.name.startsWith('vault-adapters'))
        .map(async (p) => {
          const text = await (await fetch(`${p.httpUrl}/metrics`)).text();
          const line = text.split('\n').find((l) => l.startsWith('openecm_nats_requests_total{subject="vault.credentials.list.v1",outcome="ok"}'));
          return Number(line?.split(' ')[1] ?? 0);
        }),
    );
    expect(served).toHaveLength(2);
    for (const count of served) expect(count).toBeGreaterThan(0);
  });

  it('injects a Secret Server credential as that user and checks it in on release', async () => {
    const cred = (await list('alice')).credentials.find((c) => c.name === 'srv-app01 Administrator')!;
    const injected = await api.inject(cred.id, 'alice', 'srv-app01', 'ss-session');
    expect(injected.status).toBe(201);
    const vaultSide = await ssControl<{ password: string }>('/secrets/101');
    expect(injected.body.secret).toEqual({ type: 'password', value: vaultSide.password });
    seen.push(injected.body.secret.value);
    await api.release(injected.body.leaseId);
    const lease = await waitFor(async () => {
      const l = await api.lease(injected.body.leaseId);
      return ['checked-in', 'rotated', 'failed'].includes(l.body.state) && l.body;
    }, { what: 'check-in' });
    expect(lease.state).toBe('checked-in');
  });

  it('shows a user who has not approved the API account as pending with the approve URL, then lists after approval', async () => {
    const before = await list('bob');
    expect(before.credentials.every((c) => c.vault === 'password-safe')).toBe(true);
    expect(before.pending).toEqual([expect.objectContaining({ vault: 'secret-server', approveUrl: expect.stringContaining('http') })]);
    await ssControl(`/trust/${encodeURIComponent('CORP\\bob')}/approve`, { method: 'POST' });
    const after = await list('bob');
    expect(after.credentials.some((c) => c.vault === 'secret-server')).toBe(true);
    expect(after.pending).toEqual([]);
  });

  it('gives a user who denied access nothing from that vault, with a clear reason', async () => {
    const listed = await list('carol');
    expect(listed.credentials.some((c) => c.vault === 'secret-server')).toBe(false);
    const fromSecretServer = listed.pending.filter((p) => p.vault === 'secret-server');
    expect(fromSecretServer).toEqual([expect.objectContaining({ reason: expect.stringMatching(/denied/i) })]);
    expect(fromSecretServer[0]?.approveUrl).toBeUndefined();
  });

  it('answers with the other vault when one is slow, and reports the slow one', async () => {
    expect((await connectSecretServer(2)).status).toBe(200);
    await ssControl('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delayMs: 8000, count: 100 }) });
    try {
      await api.call('DELETE', '/api/v1/admin/token-cache?vault=secret-server');
      const started = Date.now();
      const listed = await list('alice');
      expect(Date.now() - started).toBeLessThan(7000);
      expect(listed.credentials.some((c) => c.vault === 'password-safe')).toBe(true);
      expect(listed.credentials.some((c) => c.vault === 'secret-server')).toBe(false);
      expect(listed.pending).toEqual([expect.objectContaining({ vault: 'secret-server', reason: expect.stringMatching(/UPSTREAM_TIMEOUT|did not answer/) })]);
    } finally {
      await ssControl('/faults', { method: 'DELETE' });
      await connectSecretServer(20);
    }
  });

  it('tests Secret Server settings as entered: the list, pending with the approve URL, or the failing step', async () => {
    const settings = (extra: Record<string, unknown> = {}) => ({
      type: 'secret-server',
      settings: {
        endpointUrl: `${system.secretServerUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
        apiUser: 'openecm-api',
        apiPassword: SS_API_PASSWORD,
        defaultDomainForLocalUsers: 'CORP',
        ...extra,
      },
    });
    const ok = await api.call<{ result: string; credentials: Array<{ name: string }> }>('POST', '/api/v1/admin/vaults/test', { ...settings(), user: 'alice', endpoint: 'lnx-web01' });
    expect(ok.body).toMatchObject({ result: 'ok', credentials: [expect.objectContaining({ name: 'lnx-web01 root' })] });
    const empty = await api.call('POST', '/api/v1/admin/vaults/test', { ...settings(), user: 'alice', endpoint: 'no-such-host' });
    expect(empty.body).toEqual({ result: 'ok', credentials: [] });
    const pending = await api.call('POST', '/api/v1/admin/vaults/test', { ...settings(), user: 'CORP\\frank', endpoint: 'srv-app01' });
    expect(pending.body).toMatchObject({ result: 'pending', approveUrl: expect.stringContaining('http') });
    const badPassword = await api.call('POST', '/api/v1/admin/vaults/test', { ...settings({ apiPassword: 'not-the-password' }), user: 'alice', endpoint: 'srv-app01' });
    expect(badPassword.body).toMatchObject({ result: 'failed', step: 'authentication' });
    expect(JSON.stringify(badPassword.body)).not.toContain('not-the-password');
    const unreachable = await api.call('POST', '/api/v1/admin/vaults/test', { ...settings({ endpointUrl: 'http://127.0.0.1:9/SecretServer', allowInsecureHttp: true }), user: 'alice', endpoint: 'srv-app01' });
    expect(unreachable.body).toMatchObject({ result: 'failed', step: 'connect' });
    const saved = await api.call('POST', '/api/v1/admin/vaults/secret-server/test', { user: 'alice', endpoint: 'srv-app01' });
    expect(saved.body).toMatchObject({ result: 'ok' });
  });

  it('keeps no token or password in clear text in Redis', async () => {
    const redis = new Redis(redisUrl);
    try {
      const keys = await redis.keys('*token-cache*');
      expect(keys.length).toBeGreaterThan(0);
      const values = await Promise.all(keys.filter((k) => !k.endsWith(':filling')).map((k) => redis.get(k)));
      for (const v of values) expect(v).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const everything = JSON.stringify(values);
      for (const secret of [...seen, SS_API_PASSWORD, 'demo-api-key', 'ASP.NET_SessionId']) expect(everything).not.toContain(secret);
    } finally {
      redis.disconnect();
    }
  });

  it('never printed a secret in any log line', () => {
    const lines = system.processes.filter((p) => !p.name.endsWith('-sim')).flatMap((p) => p.lines);
    for (const secret of [...seen, SS_API_PASSWORD, ...system.secrets]) expect(lines.find((l) => l.includes(secret))).toBeUndefined();
  });
});
