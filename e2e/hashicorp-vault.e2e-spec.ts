import { ApplianceClient, hashicorpVaultDemoSettings } from '@openecm/appliance-sim';
import { NATS_URL, createTestDatabase, tearDownSuite, launchSystem, waitFor, type RunningSystem } from '@openecm/testing';
import { Redis } from 'ioredis';

/**
 * HashiCorp Vault (its simulator) beside Password Safe, through the gateway: the connection saved and shown
 * masked, a merged list, an injection of a library account checked out at Vault and rotated by Vault at check-in
 * on release, a static role rotated after release, and no Vault secret in any answer, log line or Redis value.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const redisDb = 1 + ((parseInt(namespace.slice(1, 7), 16) + 13) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;

type Listed = { credentials: Array<{ id: string; name: string; vault: string; scope: string; username: string }>; pending: Array<{ vault: string; reason: string }> };

describe('HashiCorp Vault through the gateway', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let api: ApplianceClient;
  const injected: string[] = [];

  const control = async <T>(path: string): Promise<T> => (await (await fetch(`${system.vaultSimControlUrl}${path}`)).json()) as T;
  const list = async (user: string, endpoint: string): Promise<Listed> => {
    const res = await api.call<Listed>('GET', `/api/v1/credentials?user=${encodeURIComponent(user)}&endpoint=${endpoint}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const releasedLease = async (leaseId: string) => {
    expect((await api.release(leaseId)).status).toBe(200);
    return waitFor(async () => {
      const lease = await api.lease(leaseId);
      return ['checked-in', 'rotated', 'failed'].includes(lease.body.state) && lease.body;
    }, { what: 'the lease to end' });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl, natsUrl: NATS_URL, vaultSim: true, logLevel: 'debug', env: { VAULT_RETRY_BASE_DELAY_MS: '20' } });
    api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    expect((await api.call('PUT', '/api/v1/admin/vaults/password-safe', { type: 'password-safe', settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } } })).status).toBe(201);
    const vault = await api.call('PUT', '/api/v1/admin/vaults/hashicorp-vault', { type: 'hashicorp-vault', settings: hashicorpVaultDemoSettings(system.vaultSimUrl as string) });
    expect(vault.status).toBe(201);
    expect(vault.body).toMatchObject({ type: 'hashicorp-vault', settings: { auth: { method: 'approle', secretId: '********' } } });
    expect(JSON.stringify(vault.body)).not.toContain('demo-secret-id');
    await api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: 'alice' });
  }, 120_000);

  afterAll(() => tearDownSuite({ system, db, redisUrl }));

  it('refuses settings without a secret id as problem+json naming the field', async () => {
    const settings = { ...hashicorpVaultDemoSettings(system.vaultSimUrl as string), auth: { method: 'approle', roleId: 'demo-role-id' } };
    const refused = await api.call<{ code: string; errors: Array<{ field: string }> }>('PUT', '/api/v1/admin/vaults/hv-broken', { type: 'hashicorp-vault', settings });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e) => e.field)).toContain('settings.auth.secretId');
  });

  it('lists Vault and Password Safe together, each entry naming its vault', async () => {
    const listed = await list('alice', 'srv-app01');
    expect(listed.pending).toEqual([]);
    expect(listed.credentials.filter((c) => c.vault === 'hashicorp-vault').map((c) => c.name)).toEqual(['CORP\\rdp-admins']);
    expect(listed.credentials.some((c) => c.vault === 'password-safe')).toBe(true);
  });

  it('injects a library account checked out at Vault, and on release Vault takes it back and rotates it', async () => {
    const set = (await list('alice', 'srv-app01')).credentials.find((c) => c.vault === 'hashicorp-vault')!;
    const out = await api.inject(set.id, 'alice', 'srv-app01', 'hv-session');
    expect(out.status).toBe(201);
    expect(out.body).toMatchObject({ username: 'svc-rdp-1', domain: 'CORP', secret: { type: 'password', value: 'Vlt-Lib-1-Demo-7Hq' } });
    injected.push(out.body.secret.value);
    expect((await control<{ checkouts: Array<{ account: string }> }>('/checkouts')).checkouts.map((c) => c.account)).toEqual(['svc-rdp-1']);
    const lease = await releasedLease(out.body.leaseId);
    expect(lease.state).toBe('rotated');
    expect((await control<{ checkouts: unknown[] }>('/checkouts')).checkouts).toEqual([]);
    expect((await control<{ rotations: Array<{ kind: string; name: string }> }>('/rotations')).rotations).toEqual([expect.objectContaining({ kind: 'library', name: 'svc-rdp-1' })]);
  });

  it('injects a static role and has it rotated after release', async () => {
    const role = (await list('alice', 'srv-db01')).credentials.find((c) => c.vault === 'hashicorp-vault')!;
    expect(role).toMatchObject({ name: 'srv-db01\\dbadmin', username: 'dbadmin' });
    const out = await api.inject(role.id, 'alice', 'srv-db01', 'hv-session-2');
    expect(out.status).toBe(201);
    injected.push(out.body.secret.value);
    expect((await releasedLease(out.body.leaseId)).state).toBe('rotated');
    expect((await control<{ rotations: Array<{ kind: string; name: string }> }>('/rotations')).rotations).toContainEqual(expect.objectContaining({ kind: 'static-role', name: 'srv-db01-admin' }));
  });

  it('left no Vault secret in a log line or in Redis', async () => {
    const logs = system.processes.flatMap((p) => p.lines).join('\n');
    const redis = new Redis(redisUrl);
    const values = await Promise.all((await redis.keys('*')).map(async (k) => ((await redis.type(k)) === 'string' ? ((await redis.get(k)) ?? '') : '')));
    redis.disconnect();
    for (const secret of ['demo-secret-id', ...injected]) {
      expect(logs).not.toContain(secret);
      expect(values.join('\n')).not.toContain(secret);
    }
  });
});
