import { postControl, simHarness } from '@openecm/sim-kit/testing';
import { NO_ACCOUNTS, createVaultSim, type SimSeed } from './sim';

const harness = simHarness(createVaultSim);
afterEach(() => harness.closeAll());

const seed: SimSeed = {
  appRoles: [{ roleName: 'broker', roleId: 'role-1', secretId: 'secret-1', tokenTtlSeconds: 60 }],
  ldap: [{ mount: 'ad', library: [{ set: 'admins', serviceAccounts: [{ name: 'svc-1', password: 'pw-1' }], maxTtlSeconds: 600 }], staticRoles: [{ role: 'db', username: 'dbadmin', password: 'pw-db' }] }],
  kv: [{ mount: 'kv', secrets: [{ path: 'a/b/root', data: { password: 'pw-kv' }, customMetadata: { machine: 'web1', account: 'root' } }] }],
};

// Vault's answers, read loosely: each test names the fields it expects
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

async function call(base: string, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/v1/${path}`, {
    method,
    headers: { ...(token ? { 'x-vault-token': token } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer) : {} };
}

async function login(base: string): Promise<string> {
  const answer = await call(base, 'POST', 'auth/approle/login', undefined, { role_id: 'role-1', secret_id: 'secret-1' });
  expect(answer.status).toBe(200);
  expect(answer.body['auth']).toMatchObject({ lease_duration: 60, renewable: true, entity_id: 'entity-broker', token_type: 'service' });
  return answer.body['auth'].client_token as string;
}

describe('Vault simulator', () => {
  it('answers 403 permission denied without a token, with an unknown one, and once a token outlived its TTL', async () => {
    const { base, origin } = await harness.start({ seed });
    expect(await call(base, 'GET', 'ad/library/admins')).toEqual({ status: 403, body: { errors: ['permission denied'] } });
    expect((await call(base, 'GET', 'ad/library/admins', 'hvs.nothing')).status).toBe(403);
    expect(await call(base, 'POST', 'auth/approle/login', undefined, { role_id: 'role-1', secret_id: 'wrong' })).toEqual({ status: 400, body: { errors: ['invalid role or secret ID'] } });
    const token = await login(base);
    expect((await call(base, 'GET', 'ad/library/admins', token)).body['data']).toEqual({ service_account_names: ['svc-1'], ttl: 3600, max_ttl: 600, disable_check_in_enforcement: false });
    await postControl(origin, 'clock', { advanceMs: 61_000 });
    expect((await call(base, 'GET', 'ad/library/admins', token)).status).toBe(403);
  });

  it('lends library accounts with a lease, warns when the TTL is capped, refuses when none is free, and rotates at check-in', async () => {
    const { base, sim } = await harness.start({ seed });
    const token = await login(base);
    const out = await call(base, 'POST', 'ad/library/admins/check-out', token, { ttl: '1200s' });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ renewable: true, lease_duration: 600, data: { service_account_name: 'svc-1', password: 'pw-1' } });
    expect(out.body['lease_id']).toMatch(/^ad\/library\/admins\/check-out\//);
    expect(out.body['warnings']).toEqual([expect.stringContaining('max_ttl')]);
    expect(await call(base, 'POST', 'ad/library/admins/check-out', token, {})).toEqual({ status: 400, body: { errors: [NO_ACCOUNTS] } });
    expect((await call(base, 'GET', 'ad/library/admins/status', token)).body['data']).toEqual({ 'svc-1': { available: false, borrower_client_token: token, borrower_entity_id: 'entity-broker' } });
    expect((await call(base, 'POST', 'ad/library/admins/check-in', token, { service_account_names: ['svc-1'] })).body['data']).toEqual({ check_ins: ['svc-1'] });
    expect(sim.state.passwordOf('library', 'ad', 'svc-1')).not.toBe('pw-1');
    expect((await call(base, 'POST', 'ad/library/admins/check-in', token, { service_account_names: ['svc-1'] })).body['data']).toEqual({ check_ins: [] });
    expect(sim.state.rotations()).toEqual([expect.objectContaining({ kind: 'library', mount: 'ad', name: 'svc-1' })]);
  });

  it("refuses another entity's check-in unless the set disables check-in enforcement", async () => {
    const two: SimSeed = { ...seed, tokens: [{ token: 'other-token', entityId: 'entity-other' }] };
    const { base } = await harness.start({ seed: two });
    const token = await login(base);
    await call(base, 'POST', 'ad/library/admins/check-out', token, {});
    const refused = await call(base, 'POST', 'ad/library/admins/check-in', 'other-token', { service_account_names: ['svc-1'] });
    expect(refused.status).toBe(400);
    expect(refused.body['errors'][0]).toContain("wasn't checked out by the caller");
    const open: SimSeed = { ...two, ldap: [{ mount: 'ad', library: [{ set: 'admins', serviceAccounts: [{ name: 'svc-1', password: 'pw-1' }], disableCheckInEnforcement: true }] }] };
    const relaxed = await harness.start({ seed: open });
    const mine = await login(relaxed.base);
    await call(relaxed.base, 'POST', 'ad/library/admins/check-out', mine, {});
    expect((await call(relaxed.base, 'GET', 'ad/library/admins', mine)).body['data']).toMatchObject({ disable_check_in_enforcement: true });
    expect((await call(relaxed.base, 'POST', 'ad/library/admins/check-in', 'other-token', { service_account_names: ['svc-1'] })).body['data']).toEqual({ check_ins: ['svc-1'] });
  });

  it('reads and rotates static roles, and lists and reads KV v2 secrets with their custom metadata', async () => {
    const { base, sim } = await harness.start({ seed });
    const token = await login(base);
    expect((await call(base, 'GET', 'ad/static-role/db', token)).body['data']).not.toHaveProperty('password');
    expect((await call(base, 'GET', 'ad/static-cred/db', token)).body['data']).toMatchObject({ username: 'dbadmin', password: 'pw-db' });
    expect((await call(base, 'POST', 'ad/rotate-role/db', token, {})).status).toBe(204);
    expect(sim.state.passwordOf('static-role', 'ad', 'db')).not.toBe('pw-db');
    expect((await call(base, 'GET', 'kv/metadata?list=true', token)).body['data']).toEqual({ keys: ['a/'] });
    expect((await call(base, 'GET', 'kv/metadata/a/b?list=true', token)).body['data']).toEqual({ keys: ['root'] });
    expect(await call(base, 'GET', 'kv/metadata/nothing?list=true', token)).toEqual({ status: 404, body: { errors: [] } });
    expect((await call(base, 'GET', 'kv/metadata/a/b/root', token)).body['data']['custom_metadata']).toEqual({ machine: 'web1', account: 'root' });
    expect((await call(base, 'GET', 'kv/data/a/b/root', token)).body['data']).toMatchObject({ data: { password: 'pw-kv' }, metadata: { version: 1 } });
  });

  it('wants the seeded namespace in X-Vault-Namespace, and shows check-outs and rotations on its control side', async () => {
    const { base, origin } = await harness.start({ seed: { ...seed, namespace: 'team-a' } });
    expect((await call(base, 'POST', 'auth/approle/login', undefined, { role_id: 'role-1', secret_id: 'secret-1' })).status).toBe(403);
    const answer = await call(base, 'POST', 'auth/approle/login', undefined, { role_id: 'role-1', secret_id: 'secret-1' }, { 'x-vault-namespace': 'team-a' });
    const token = answer.body['auth'].client_token as string;
    await call(base, 'POST', 'ad/library/admins/check-out', token, {}, { 'x-vault-namespace': 'team-a' });
    const checkouts = (await (await fetch(`${origin}/_sim/checkouts`)).json()) as { checkouts: unknown[] };
    expect(checkouts.checkouts).toEqual([expect.objectContaining({ set: 'admins', account: 'svc-1', entityId: 'entity-broker' })]);
    expect(JSON.stringify(checkouts)).not.toContain('pw-1');
    expect(await (await postControl(origin, 'tokens/expire')).json()).toEqual({ expired: 1 });
    expect((await call(base, 'GET', 'ad/library/admins', token, undefined, { 'x-vault-namespace': 'team-a' })).status).toBe(403);
  });
});
