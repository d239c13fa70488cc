import { ApplianceClient, ApplianceSite } from '@openecm/appliance-sim';
import { NATS_URL, REDIS_URL, createTestDatabase, deleteNamespaceStreams, launchSystem, waitFor, type RunningSystem } from '@openecm/testing';

/**
 * Access policies and approvals through the gateway, as an operator, an appliance and an approval integration
 * (three API accounts) see them: the policy admin API, a 202 injection an approver decides, the appliance
 * polling and repeating it, an exclusive credential's queue as problem+json, and a revocation that ends the
 * session at the appliance.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const APPLIANCE_SECRET = 'appliance-site-secret-for-tests';

describe('access policies and approvals end to end', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let admin: ApplianceClient;
  let appliance: ApplianceClient;
  let approver: ApplianceClient;
  let site: ApplianceSite;

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl: REDIS_URL, natsUrl: NATS_URL, env: { RECONCILE_INTERVAL_MS: '500' } });
    admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const vault = await admin.call('PUT', '/api/v1/admin/vaults/password-safe', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true },
    });
    expect(vault.status).toBe(201);
    const account = async (clientId: string, permissions: string[]) => {
      const created = await admin.call<{ clientSecret: string }>('POST', '/api/v1/admin/api-accounts', { clientId, permissions });
      expect(created.status).toBe(201);
      return new ApplianceClient(system.gatewayUrl, clientId, created.body.clientSecret);
    };
    appliance = await account('pra-site', ['credentials']);
    approver = await account('ticketing', ['approvals']);
    site = new ApplianceSite({ clientId: 'openecm', clientSecret: APPLIANCE_SECRET });
    const siteUrl = await site.listen(0, '127.0.0.1');
    const connected = await admin.call('PUT', '/api/v1/admin/appliance', { url: siteUrl, clientId: 'openecm', clientSecret: APPLIANCE_SECRET, pollIntervalSeconds: 3600, allowInsecureHttp: true });
    expect(connected.status).toBeLessThan(300);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await site?.close();
    await db?.drop();
    await deleteNamespaceStreams();
  });

  const put = (path: string, body: unknown) => admin.call('PUT', path, body);

  it('answers bad policies with problem+json naming the field, and refuses to delete one in use', async () => {
    const bad = await put('/api/v1/admin/policies/Broken', { schedule: { timeZone: 'Europe/Nowhere', windows: [{ days: ['mon'], from: '8:00', to: '18:00' }] } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect((bad.body as { errors: Array<{ field: string }> }).errors.map((e) => e.field).sort()).toEqual(['schedule.timeZone', 'schedule.windows.0.from']);
    const inUse = await admin.call('DELETE', '/api/v1/admin/policies/Secure%20Remote%20Access%20Approval%20Policy');
    expect(inUse).toMatchObject({ status: 409, body: { code: 'POLICY_IN_USE' } });
    await expect(admin.call('GET', '/api/v1/admin/policies')).resolves.toMatchObject({
      status: 200,
      body: { policies: [expect.objectContaining({ name: 'Secure Remote Access Approval Policy', groups: ['Secure Remote Access Requesters'], approval: { mode: 'auto' } })] },
    });
  });

  it('asks an approver, lets the appliance poll and repeat, and checks out once approved', async () => {
    expect((await put('/api/v1/admin/groups/Change%20board', { policies: [] })).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Change%20board/members', { user: 'CORP\\bob' })).status).toBe(201);
    const policy = await put('/api/v1/admin/policies/Contractors', { approval: { mode: 'manual', approverGroups: ['Change board'], required: 1, expiresAfterMinutes: 30 }, requireReason: true });
    expect(policy).toMatchObject({ status: 201, body: { name: 'Contractors', requireReason: true } });
    expect((await put('/api/v1/admin/groups/Contractors', { policies: ['Contractors'] })).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Contractors/members', { user: 'alice' })).status).toBe(201);

    const listed = await appliance.listCredentials('alice', 'srv-app01');
    expect(listed.status).toBe(200);
    const credential = (listed.body.credentials as Array<{ id: string; name: string; approval: string; policy: string }>).find((c) => c.name === 'srv-app01\\Administrator');
    expect(credential).toMatchObject({ approval: 'manual', policy: 'Contractors' });
    const body = { credentialId: credential?.id, user: 'alice', endpoint: 'srv-app01', sessionId: ApplianceSite.newLsid() };

    const noReason = await appliance.call('POST', '/api/v1/injections', body);
    expect(noReason).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [{ field: 'reason' }] } });
    const asked = await appliance.call<{ approvalId: string; status: string; expiresAt: string }>('POST', '/api/v1/injections', { ...body, reason: 'CHG-7 patch' });
    expect(asked).toMatchObject({ status: 202, body: { status: 'pending', policy: 'Contractors' } });
    expect(asked.headers.get('cache-control')).toContain('no-store');
    const approvalId = asked.body.approvalId;

    const pending = await approver.call<{ approvals: Array<{ approvalId: string; reason: string }> }>('GET', '/api/v1/approvals?status=pending&approver=CORP%5Cbob');
    expect(pending.body.approvals).toEqual([expect.objectContaining({ approvalId, reason: 'CHG-7 patch' })]);
    // the appliance may read its request, not decide it
    expect((await appliance.call('POST', `/api/v1/approvals/${approvalId}/decision`, { approver: 'CORP\\bob', decision: 'approve' })).status).toBe(403);
    const decided = await approver.call('POST', `/api/v1/approvals/${approvalId}/decision`, { approver: 'CORP\\bob', decision: 'approve', comment: 'in the change window' });
    expect(decided).toMatchObject({ status: 200, body: { status: 'approved', approvals: 1 } });
    await expect(appliance.call('GET', `/api/v1/approvals/${approvalId}`)).resolves.toMatchObject({ status: 200, body: { status: 'approved' } });

    const injected = await appliance.call<{ leaseId: string; secret: { value: string } }>('POST', '/api/v1/injections', { ...body, reason: 'CHG-7 patch' });
    expect(injected).toMatchObject({ status: 201, body: { username: 'Administrator', secret: { type: 'password' } } });
    const lease = await appliance.lease(injected.body.leaseId);
    expect(lease.body).toMatchObject({ approvalId, policy: 'Contractors', reason: 'CHG-7 patch', emergency: false });
    await appliance.release(injected.body.leaseId);

    // the decision and the request are in the audit trail
    const audit = await admin.call<{ records: Array<{ kind: string; details: Record<string, unknown> }> }>('GET', '/api/v1/admin/audit?kind=approval.decision');
    expect(audit.body.records).toEqual([expect.objectContaining({ kind: 'approval.decision', details: expect.objectContaining({ approvalId, decision: 'approve' }) })]);
  });

  it('queues a second user of an exclusive credential with its place in problem+json, and revocation ends the first session at the appliance', async () => {
    expect((await put('/api/v1/admin/policies/Exclusive%20admins', { exclusive: true, scope: { accounts: ['*\\Administrator'] } })).status).toBe(201);
    expect((await put('/api/v1/admin/groups/Backup%20operators', { policies: ['Exclusive admins'] })).status).toBe(201);
    for (const user of ['alice', 'bob']) expect((await admin.call('POST', '/api/v1/admin/groups/Backup%20operators/members', { user })).status).toBe(201);
    const listed = async (user: string) => (await appliance.listCredentials(user, 'srv-app01')).body.credentials as Array<{ id: string; name: string; approval: string; policy: string }>;
    // bob holds the exclusive policy alone: its scope narrows what the vault lists to one account
    const forBob = await listed('bob');
    expect(forBob.map((c) => c.name)).toEqual(['srv-app01\\Administrator']);
    // alice also holds the manual Contractors policy: for this account the auto one is more permissive and decides
    const forAlice = (await listed('alice')).find((c) => c.name === 'srv-app01\\Administrator');
    expect(forAlice).toMatchObject({ approval: 'auto', policy: 'Exclusive admins' });
    const lsid = ApplianceSite.newLsid();
    const first = await appliance.call<{ leaseId: string }>('POST', '/api/v1/injections', { credentialId: forAlice?.id, user: 'alice', endpoint: 'srv-app01', sessionId: lsid });
    expect(first.status).toBe(201);
    const second = await appliance.call<{ code: string; queueId: string; queuePosition: number }>('POST', '/api/v1/injections', { credentialId: forBob[0]?.id, user: 'bob', endpoint: 'srv-app01', sessionId: ApplianceSite.newLsid() });
    expect(second).toMatchObject({ status: 409, body: { code: 'CREDENTIAL_IN_USE', queuePosition: 1 } });
    await expect(appliance.call('GET', `/api/v1/queue/${second.body.queueId}`)).resolves.toMatchObject({ status: 200, body: { status: 'waiting', queuePosition: 1, user: 'bob' } });

    const revoked = await admin.call('POST', `/api/v1/admin/leases/${first.body.leaseId}/revoke`, { reason: 'suspicious activity' });
    expect(revoked).toMatchObject({ status: 200, body: { leaseId: first.body.leaseId, rotation: 'scheduled' } });
    await waitFor(() => site.commandCalls.some((c) => c.action === 'terminate_session' && c.lsid === lsid), { timeoutMs: 20_000, what: 'terminate_session at the appliance' });
    // rotated, then the waiter's turn
    await waitFor(async () => (await appliance.lease(first.body.leaseId)).body.state === 'rotated', { timeoutMs: 20_000, what: 'rotation' });
    await waitFor(async () => (await appliance.call<{ status: string }>('GET', `/api/v1/queue/${second.body.queueId}`)).body.status === 'your-turn', { timeoutMs: 20_000, what: "bob's turn" });
    expect((await admin.call('POST', `/api/v1/admin/leases/${first.body.leaseId}/revoke`, { reason: 'again' })).body).toMatchObject({ code: 'LEASE_NOT_ACTIVE' });
  });

  it('in Password Safe OAuth mode, where the vault lists everything to the application, keeps a narrowed group to its scope', async () => {
    const oauth = await put('/api/v1/admin/vaults/ps-oauth', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' }, releaseDurationMinutes: 60, rotateAfterRelease: true },
    });
    expect(oauth.status).toBe(201);
    expect((await put('/api/v1/admin/policies/Helpdesk', { scope: { vaults: ['ps-oauth'], accounts: ['*\\svc-backup'] } })).status).toBe(201);
    expect((await put('/api/v1/admin/groups/Helpdesk', { policies: ['Helpdesk'] })).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Helpdesk/members', { user: 'zoe' })).status).toBe(201);
    const namesFor = async () => {
      const listed = await appliance.listCredentials('zoe', 'srv-app01');
      expect(listed.status).toBe(200);
      return listed.body.credentials as Array<{ id: string; name: string; vault: string }>;
    };
    // the application sees every account of srv-app01; zoe gets the one her policy covers
    expect((await namesFor()).map((c) => `${c.vault}: ${c.name}`)).toEqual(['ps-oauth: srv-app01\\svc-backup']);
    // an id listed while the scope was wider is refused once it narrows, and nothing is checked out
    expect((await put('/api/v1/admin/policies/Helpdesk', { scope: { vaults: ['ps-oauth'] } })).status).toBe(200);
    const administrator = (await namesFor()).find((c) => c.name === 'srv-app01\\Administrator');
    expect(administrator).toBeDefined();
    expect((await put('/api/v1/admin/policies/Helpdesk', { scope: { vaults: ['ps-oauth'], accounts: ['*\\svc-backup'] } })).status).toBe(200);
    const refused = await appliance.call('POST', '/api/v1/injections', { credentialId: administrator?.id, user: 'zoe', endpoint: 'srv-app01', sessionId: ApplianceSite.newLsid() });
    expect(refused).toMatchObject({ status: 403, body: { code: 'ACCESS_DENIED' } });
  });
});
