import { captureLog, postControl, simHarness, waitFor } from '@openecm/sim-kit/testing';
import { EMPTY_SEED, createPasswordSafeSim, parsePsAuth, simSeedSchema, type SimSeed } from './sim';

const ADMINISTRATOR = 1001;
const SVC_BACKUP = 1002;
const LEGACY_ADMIN = 1003;
const ROOT = 2001;
const DEPLOY = 2002;
const PRA_ADMIN = 3001;
const SRV_APP01 = 1;
const LNX_WEB01 = 2;

const { start, closeAll } = simHarness(createPasswordSafeSim);

afterEach(closeAll);

const cookieOf = (res: Response): string =>
  res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');

async function signInWithKey(base: string, runAs: string, key = 'demo-api-key', pwd?: string): Promise<Response> {
  const header = `PS-Auth key=${key}; runas=${runAs};${pwd === undefined ? '' : ` pwd=[${pwd}];`}`;
  return fetch(`${base}Auth/SignAppin`, { method: 'POST', headers: { authorization: header } });
}

async function keySession(base: string, runAs = 'alice'): Promise<string> {
  const res = await signInWithKey(base, runAs);
  expect(res.status).toBe(200);
  return cookieOf(res);
}

async function oauthSession(base: string): Promise<string> {
  const token = await fetch(`${base}Auth/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'demo-secret' }),
  });
  expect(token.status).toBe(200);
  const { access_token } = (await token.json()) as { access_token: string };
  const res = await fetch(`${base}Auth/SignAppIn`, { method: 'POST', headers: { authorization: `Bearer ${access_token}` } });
  expect(res.status).toBe(200);
  return cookieOf(res);
}

const get = (base: string, path: string, cookie: string): Promise<Response> => fetch(`${base}${path}`, { headers: { cookie } });

const send = (base: string, method: string, path: string, cookie: string, body?: unknown): Promise<Response> =>
  fetch(`${base}${path}`, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function createRequest(base: string, cookie: string, body: Record<string, unknown>): Promise<Response> {
  return send(base, 'POST', 'Requests', cookie, { AccessType: 'RDP', DurationMinutes: 30, Reason: 'test', ...body });
}

async function requestId(res: Response): Promise<number> {
  const text = await res.text();
  expect(text).toMatch(/^\d+$/);
  return Number(text);
}

const names = (items: { AccountName: string }[]): string[] => items.map((a) => a.AccountName).sort();

describe('sign-in with an API key', () => {
  it('answers the user and sets both session cookies with attributes a client must strip', async () => {
    const { sim, base } = await start();
    const res = await signInWithKey(base, 'alice');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      UserId: 11,
      SID: expect.stringMatching(/^S-1-5-21-/),
      EmailAddress: 'alice@corp.example',
      UserName: 'alice',
      Name: 'Alice Example',
    });
    const lines = res.headers.getSetCookie();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ASP\.NET_SessionId=[^;]+; path=\/; secure; HttpOnly/);
    expect(lines[1]).toMatch(/^__RequestVerificationToken=[^;]+; path=\/; secure; HttpOnly/);
    expect(sim.state.stats().signIns).toEqual({ apiKey: 1, oauth: 0, total: 1 });
    expect(sim.state.stats().signInsByUser).toEqual({ alice: 1 });
  });

  it('matches run-as users case-insensitively, including DOMAIN\\user, and counts them per user', async () => {
    const { sim, base } = await start();
    expect((await signInWithKey(base, 'ALICE')).status).toBe(200);
    const corp = await signInWithKey(base, 'corp\\ALICE');
    expect(corp.status).toBe(200);
    expect(((await corp.json()) as { UserName: string }).UserName).toBe('CORP\\alice');
    expect(sim.state.stats().signInsByUser).toEqual({ alice: 1, 'CORP\\alice': 1 });
  });

  it('answers 401 to an unknown key, an unknown user or a header that is not PS-Auth', async () => {
    const { sim, base } = await start();
    expect((await signInWithKey(base, 'alice', 'wrong-key')).status).toBe(401);
    expect((await signInWithKey(base, 'mallory')).status).toBe(401);
    const bare = await fetch(`${base}Auth/SignAppin`, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(sim.state.stats()).toMatchObject({ failedSignIns: 3, activeSessions: 0 });
  });

  it('demands pwd=[...] with brackets when the registration requires the user password', async () => {
    const { base } = await start();
    expect((await signInWithKey(base, 'alice', 'demo-api-key-pwd')).status).toBe(401);
    expect((await signInWithKey(base, 'alice', 'demo-api-key-pwd', 'wrong')).status).toBe(401);
    const unbracketed = await fetch(`${base}Auth/SignAppin`, {
      method: 'POST',
      headers: { authorization: 'PS-Auth key=demo-api-key-pwd; runas=alice; pwd=alice-demo-pass;' },
    });
    expect(unbracketed.status).toBe(401);
    expect((await signInWithKey(base, 'alice', 'demo-api-key-pwd', 'alice-demo-pass')).status).toBe(200);
  });

  it('parses passwords holding ; and ] between the brackets', () => {
    expect(parsePsAuth('PS-Auth key=k; runas=CORP\\bob; pwd=[a;b]c];')).toEqual({ key: 'k', runAs: 'CORP\\bob', password: 'a;b]c' });
    expect(parsePsAuth('PS-Auth key=k; runas=bob;')).toEqual({ key: 'k', runAs: 'bob' });
    expect(parsePsAuth('PS-Auth key=k; runas=bob; pwd=nobrackets;')).toBeUndefined();
    expect(parsePsAuth('Basic abc')).toBeUndefined();
  });

  it('re-checks the PS-Auth header on every call for registrations that demand it', async () => {
    const { base } = await start();
    const header = 'PS-Auth key=demo-api-key-pwd; runas=alice; pwd=[alice-demo-pass];';
    const res = await fetch(`${base}Auth/SignAppin`, { method: 'POST', headers: { authorization: header } });
    const cookie = cookieOf(res);
    const without = await get(base, 'ManagedSystems', cookie);
    expect(without.status).toBe(401);
    expect(await without.json()).toBe('User not authenticated');
    const withHeader = await fetch(`${base}ManagedSystems`, { headers: { cookie, authorization: header } });
    expect(withHeader.status).toBe(200);
  });
});

describe('sign-in with OAuth', () => {
  it('issues a bearer token, then opens a session through SignAppIn', async () => {
    const { sim, base } = await start();
    const token = await fetch(`${base}Auth/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret',
    });
    expect(token.status).toBe(200);
    const grant = (await token.json()) as Record<string, unknown>;
    expect(grant).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: 'Bearer', scope: expect.any(String) });
    const res = await fetch(`${base}Auth/SignAppIn`, { method: 'POST', headers: { authorization: `Bearer ${String(grant['access_token'])}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ UserName: 'demo-client', UserId: 50 });
    expect(res.headers.getSetCookie()).toHaveLength(2);
    expect(sim.state.stats()).toMatchObject({ signIns: { apiKey: 0, oauth: 1, total: 1 }, signInsByClient: { 'demo-client': 1 }, tokensIssued: 1 });
  });

  it('routes the sign-in path case-insensitively', async () => {
    const { base } = await start();
    const lower = await fetch(`${base}auth/signappin`, { method: 'POST', headers: { authorization: 'PS-Auth key=demo-api-key; runas=bob;' } });
    expect(lower.status).toBe(200);
  });

  it('rejects a wrong secret, a wrong grant type and an unknown bearer token', async () => {
    const { base } = await start();
    const form = (fields: Record<string, string>) =>
      fetch(`${base}Auth/connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    const wrongSecret = await form({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'nope' });
    expect(wrongSecret.status).toBe(400);
    expect(await wrongSecret.json()).toEqual({ error: 'invalid_client' });
    const wrongGrant = await form({ grant_type: 'password', client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(await wrongGrant.json()).toEqual({ error: 'unsupported_grant_type' });
    const bearer = await fetch(`${base}Auth/SignAppIn`, { method: 'POST', headers: { authorization: 'Bearer made-up' } });
    expect(bearer.status).toBe(401);
  });

  it('accepts client credentials in HTTP Basic as well', async () => {
    const { base } = await start();
    const token = await fetch(`${base}Auth/connect/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(200);
  });
});

describe('sessions', () => {
  it('answers 401 "User not authenticated" without cookies, and after sign-out', async () => {
    const { base } = await start();
    const none = await fetch(`${base}ManagedSystems`);
    expect(none.status).toBe(401);
    expect(await none.text()).toBe('"User not authenticated"');
    const cookie = await keySession(base);
    expect((await send(base, 'POST', 'Auth/Signout', cookie)).status).toBe(200);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(401);
  });

  it('requires both cookies of the session', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const sessionOnly = cookie.split('; ').filter((c) => c.startsWith('ASP.NET_SessionId='))[0] ?? '';
    expect((await get(base, 'ManagedSystems', sessionOnly)).status).toBe(401);
  });

  it('refuses a Cookie header that replays raw Set-Cookie lines with their attributes', async () => {
    const { base } = await start();
    const res = await signInWithKey(base, 'alice');
    const raw = res.headers.getSetCookie().join('; ');
    const replay = await get(base, 'ManagedSystems', raw);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatch(/Set-Cookie attributes/);
  });

  it('kills every session on expireAllSessions() and through the control API', async () => {
    const { sim, base, origin } = await start();
    const first = await keySession(base);
    expect(sim.state.expireAllSessions()).toBe(1);
    expect((await get(base, 'ManagedSystems', first)).status).toBe(401);
    const second = await oauthSession(base);
    const expire = await fetch(`${origin}/_sim/sessions/expire`, { method: 'POST' });
    expect(await expire.json()).toEqual({ expired: 1 });
    const dead = await get(base, 'ManagedAccounts', second);
    expect(dead.status).toBe(401);
    expect(await dead.json()).toBe('User not authenticated');
  });

  it('expires an idle session after idleTimeoutMs in real time, and each call slides the timer', async () => {
    const idleTimeoutMs = 400;
    const { sim, base } = await start({ idleTimeoutMs });
    const cookie = await keySession(base);
    const startedAt = Date.now();
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs / 2.5));
      expect((await get(base, 'ManagedSystems', cookie)).status).toBe(200);
    }
    expect(Date.now() - startedAt).toBeGreaterThan(idleTimeoutMs);
    await waitFor(() => sim.state.stats().activeSessions === 0);
    const res = await get(base, 'ManagedSystems', cookie);
    expect(res.status).toBe(401);
    expect(await res.json()).toBe('User not authenticated');
  });

  it('expires an idle session on simulator time, without waiting', async () => {
    const idleTimeoutMs = 60_000;
    const { sim, base, origin } = await start({ idleTimeoutMs });
    const cookie = await keySession(base);
    sim.state.advanceClock(idleTimeoutMs * 0.75);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(200);
    sim.state.advanceClock(idleTimeoutMs * 0.75);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(200);
    await postControl(origin, 'clock', { advanceMs: idleTimeoutMs + 1 });
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(401);
  });
});

describe('managed systems and accounts', () => {
  it('lists managed systems as an array with the vendor field names', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const systems = (await (await get(base, 'ManagedSystems', cookie)).json()) as Record<string, unknown>[];
    expect(systems.map((s) => s['SystemName'])).toEqual(['srv-app01', 'lnx-web01']);
    expect(systems[0]).toEqual({
      ManagedSystemID: 1,
      AssetID: 101,
      WorkgroupID: 1,
      HostName: 'srv-app01',
      DnsName: 'srv-app01.corp.example',
      IPAddress: '10.0.0.11',
      SystemName: 'srv-app01',
      PlatformID: 1,
      Port: null,
      ReleaseDuration: 120,
      MaxReleaseDuration: 10080,
      ChangePasswordAfterAnyReleaseFlag: true,
      RemoteClientType: 'None',
      Description: null,
    });
  });

  it('shows a run-as user only the API-enabled accounts that user may request', async () => {
    const { base } = await start();
    const alice = (await (await get(base, 'ManagedAccounts', await keySession(base, 'alice'))).json()) as { AccountName: string }[];
    expect(names(alice)).toEqual(['Administrator', 'deploy', 'root', 'svc-backup']);
    const bob = (await (await get(base, 'ManagedAccounts', await keySession(base, 'bob'))).json()) as { AccountName: string }[];
    expect(names(bob)).toEqual(['Administrator', 'deploy']);
    const corpAlice = (await (await get(base, 'ManagedAccounts', await keySession(base, 'CORP\\alice'))).json()) as { AccountName: string }[];
    expect(names(corpAlice)).toEqual(['Administrator', 'deploy', 'svc-backup']);
  });

  it('shows an OAuth application every API-enabled account, never the non-API-enabled one', async () => {
    const { base } = await start();
    const all = (await (await get(base, 'ManagedAccounts', await oauthSession(base))).json()) as { AccountName: string }[];
    expect(names(all)).toEqual(['Administrator', 'deploy', 'root', 'svc-backup']);
  });

  it('returns ONE OBJECT for systemName + accountName, and an array otherwise', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const one = (await (await get(base, 'ManagedAccounts?systemName=SRV-APP01&accountName=administrator', cookie)).json()) as unknown;
    expect(Array.isArray(one)).toBe(false);
    expect(one).toEqual({
      PlatformID: 1,
      SystemId: SRV_APP01,
      SystemName: 'srv-app01',
      DomainName: null,
      AccountId: ADMINISTRATOR,
      AccountName: 'Administrator',
      InstanceName: '',
      UserPrincipalName: null,
      DefaultReleaseDuration: 60,
      MaximumReleaseDuration: 480,
      LastChangeDate: expect.any(String),
      NextChangeDate: null,
      IsChanging: false,
      ChangeState: 0,
      AccountDescription: 'Built-in local administrator',
    });
    const bySystem = (await (await get(base, 'ManagedAccounts?systemName=srv-app01', cookie)).json()) as unknown;
    expect(Array.isArray(bySystem)).toBe(true);
    const byAccount = (await (await get(base, 'ManagedAccounts?accountName=root', cookie)).json()) as unknown;
    expect(byAccount).toEqual([expect.objectContaining({ AccountId: ROOT, SystemId: LNX_WEB01 })]);
  });

  it('answers 404 "Managed Account not found" for an unknown, hidden or non-API-enabled account', async () => {
    const { base } = await start();
    const bob = await keySession(base, 'bob');
    for (const query of ['systemName=srv-app01&accountName=nobody', 'systemName=lnx-web01&accountName=root', 'systemName=srv-app01&accountName=legacy-admin']) {
      const res = await get(base, `ManagedAccounts?${query}`, bob);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('"Managed Account not found"');
    }
  });

  it('filters by systemID, ipAddress and workgroupName, and pages with limit/offset', async () => {
    const { base } = await start();
    const cookie = await oauthSession(base);
    const list = async (query: string) => names((await (await get(base, `ManagedAccounts?${query}`, cookie)).json()) as { AccountName: string }[]);
    expect(await list(`systemID=${LNX_WEB01}`)).toEqual(['deploy', 'root']);
    expect(await list('ipAddress=10.0.0.11')).toEqual(['Administrator', 'svc-backup']);
    expect(await list('workgroupName=beyondtrust workgroup')).toHaveLength(4);
    expect(await list('workgroupName=elsewhere')).toEqual([]);
    expect(await list('limit=1')).toHaveLength(1);
    expect(await list('limit=10&offset=3')).toHaveLength(1);
    expect((await get(base, 'ManagedAccounts?limit=0', cookie)).status).toBe(400);
    expect((await get(base, 'ManagedAccounts?type=bogus', cookie)).status).toBe(400);
  });

  it('lists domain-linked directory accounts per linked system with type=domainlinked', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const linked = (await (await get(base, `ManagedAccounts?type=domainlinked&systemID=${SRV_APP01}`, cookie)).json()) as unknown;
    expect(linked).toEqual([
      expect.objectContaining({
        AccountId: PRA_ADMIN,
        AccountName: 'pra-admin',
        DomainName: 'CORP',
        UserPrincipalName: 'pra-admin@corp.example',
        SystemId: SRV_APP01,
        SystemName: 'srv-app01',
      }),
    ]);
    expect(await (await get(base, `ManagedAccounts?type=domainlinked&systemID=${LNX_WEB01}`, cookie)).json()).toEqual([]);
    const plain = (await (await get(base, `ManagedAccounts?systemID=${SRV_APP01}`, cookie)).json()) as { AccountName: string }[];
    expect(names(plain)).not.toContain('pra-admin');
    for (const name of ['CORP%5Cpra-admin', 'pra-admin%40corp.example', 'PRA-ADMIN']) {
      const one = await get(base, `ManagedAccounts?type=domainlinked&systemName=srv-app01&accountName=${name}`, cookie);
      expect(await one.json()).toMatchObject({ AccountId: PRA_ADMIN, SystemId: SRV_APP01 });
    }
  });
});

describe('requests and credentials', () => {
  it('creates a request with 201 and a bare integer body, and releases the password as a JSON string', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const res = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).toMatch(/^\d+$/);
    const cred = await get(base, `Credentials/${text}?type=password`, cookie);
    expect(cred.status).toBe(200);
    expect(await cred.text()).toBe(JSON.stringify('Demo-root-lnx-web01!'));
    expect(sim.state.activeRequests()).toEqual([expect.objectContaining({ requestId: Number(text), accountId: ROOT, accessType: 'RDP' })]);
  });

  it('answers 409 4091 to a conflicting request without ConflictOption; reuse returns the same id; renew replaces it', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const first = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT }));
    const conflict = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT });
    expect(conflict.status).toBe(409);
    expect(await conflict.text()).toBe('4091');
    const reused = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT, ConflictOption: 'reuse' });
    expect([200, 201]).toContain(reused.status);
    expect(await requestId(reused)).toBe(first);
    const renewed = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT, ConflictOption: 'renew' }));
    expect(renewed).not.toBe(first);
    expect((await get(base, `Credentials/${first}`, cookie)).status).toBe(404);
    expect((await get(base, `Credentials/${renewed}`, cookie)).status).toBe(200);
    const otherType = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT, AccessType: 'SSH' });
    expect(otherType.status).toBe(201);
  });

  it('answers 403 4031 for an account that is not API enabled, not permitted, or not on that system', async () => {
    const { base } = await start();
    const alice = await keySession(base, 'alice');
    const bob = await keySession(base, 'bob');
    const cases: [string, Record<string, number>][] = [
      [alice, { SystemID: SRV_APP01, AccountID: LEGACY_ADMIN }],
      [bob, { SystemID: LNX_WEB01, AccountID: ROOT }],
      [bob, { SystemID: SRV_APP01, AccountID: SVC_BACKUP }],
      [alice, { SystemID: SRV_APP01, AccountID: ROOT }],
      [alice, { SystemID: LNX_WEB01, AccountID: PRA_ADMIN }],
      [alice, { SystemID: SRV_APP01, AccountID: 9999 }],
    ];
    for (const [cookie, ids] of cases) {
      const res = await createRequest(base, cookie, ids);
      expect(res.status).toBe(403);
      expect(await res.text()).toBe('4031');
    }
    expect((await createRequest(base, alice, { SystemID: SRV_APP01, AccountID: PRA_ADMIN })).status).toBe(201);
  });

  it('answers 400 with a message to a bad body', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const bad: unknown[] = [
      { AccountID: ROOT },
      { SystemID: LNX_WEB01, AccountID: ROOT, DurationMinutes: 0 },
      { SystemID: LNX_WEB01, AccountID: ROOT, DurationMinutes: 525601 },
      { SystemID: LNX_WEB01, AccountID: ROOT, AccessType: 'Telnet' },
      { SystemID: LNX_WEB01, AccountID: ROOT, ConflictOption: 'steal' },
      { SystemID: LNX_WEB01, AccountID: ROOT, RotateOnCheckin: 'yes' },
      [1, 2],
    ];
    for (const body of bad) {
      const res = await send(base, 'POST', 'Requests', cookie, body);
      expect(res.status).toBe(400);
      expect(typeof (await res.json())).toBe('string');
    }
    const notJson = await fetch(`${base}Requests`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('binds body properties case-insensitively and caps the duration at the account maximum', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const res = await send(base, 'POST', 'Requests', cookie, { systemid: LNX_WEB01, accountId: ROOT, durationminutes: 525600, accesstype: 'ssh' });
    expect(res.status).toBe(201);
    expect(sim.state.activeRequests()[0]).toMatchObject({ durationMinutes: 240, accessType: 'SSH' });
  });

  it("answers GET Requests with the signed-in identity's own requests only, by status, with the vault's clock in Date", async () => {
    const { sim, base, origin } = await start();
    const alice = await keySession(base, 'alice');
    const bob = await keySession(base, 'bob');
    const app = await oauthSession(base);
    const active = await requestId(await createRequest(base, alice, { SystemID: LNX_WEB01, AccountID: ROOT }));
    const pending = await requestId(await createRequest(base, bob, { SystemID: LNX_WEB01, AccountID: DEPLOY }));
    const ended = await requestId(await createRequest(base, alice, { SystemID: SRV_APP01, AccountID: ADMINISTRATOR }));
    expect((await send(base, 'PUT', `Requests/${ended}/Checkin`, alice, {})).status).toBe(204);
    const mine = await get(base, 'Requests', alice);
    expect(mine.status).toBe(200);
    const all = (await mine.json()) as Array<Record<string, unknown>>;
    expect(all.map((r) => [r['RequestID'], r['Status']])).toEqual([
      [ended, 'Released'],
      [active, 'Active'],
    ]);
    expect(all[1]).toMatchObject({ SystemID: LNX_WEB01, AccountID: ROOT, AccessType: 'RDP', RequestReleaseDate: expect.any(String), ExpiresDate: expect.any(String) });
    expect(((await (await get(base, 'Requests?status=active', alice)).json()) as unknown[]).length).toBe(1);
    expect(((await (await get(base, 'Requests?status=pending', bob)).json()) as Array<{ RequestID: number }>).map((r) => r.RequestID)).toEqual([pending]);
    expect(await (await get(base, 'Requests?status=active', app)).json()).toEqual([]);
    expect(await (await get(base, 'Requests?queue=app', alice)).json()).toEqual([]);
    expect((await get(base, 'Requests?status=nope', alice)).status).toBe(400);

    // a request made long ago: back-dated, its expiry unchanged
    const before = Date.parse(sim.state.activeRequests().find((r) => r.requestId === active)?.createdAt ?? '');
    expect((await postControl(origin, `requests/${active}/backdate`, { ms: 600_000 })).status).toBe(200);
    const after = Date.parse(sim.state.activeRequests().find((r) => r.requestId === active)?.createdAt ?? '');
    expect(before - after).toBe(600_000);
    expect((await postControl(origin, `requests/${ended}/backdate`, { ms: 1 })).status).toBe(404);

    await postControl(origin, 'clock', { advanceMs: 3_600_000 });
    const date = Date.parse((await get(base, 'Requests', alice)).headers.get('date') ?? '');
    expect(date).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('keeps an approval-required request pending: 403 4034 until approved through the control API', async () => {
    const { base, origin } = await start();
    const cookie = await keySession(base, 'bob');
    const id = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: DEPLOY }));
    const pending = await get(base, `Credentials/${id}`, cookie);
    expect(pending.status).toBe(403);
    expect(await pending.text()).toBe('4034');
    expect((await fetch(`${origin}/_sim/requests/${id}/approve`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${origin}/_sim/requests/${id}/approve`, { method: 'POST' })).status).toBe(404);
    expect(await (await get(base, `Credentials/${id}`, cookie)).json()).toBe('Demo-deploy-lnx-web01!');
  });

  it("answers 403 4031 to another user's request id and 404 to an unknown one", async () => {
    const { base } = await start();
    const alice = await keySession(base, 'alice');
    const bob = await keySession(base, 'bob');
    const id = await requestId(await createRequest(base, alice, { SystemID: SRV_APP01, AccountID: ADMINISTRATOR }));
    const foreign = await get(base, `Credentials/${id}`, bob);
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toBe('4031');
    expect((await send(base, 'PUT', `Requests/${id}/Checkin`, bob, {})).status).toBe(403);
    expect((await send(base, 'PUT', `Requests/${id}/RotateOnCheckin`, bob)).status).toBe(403);
    expect((await get(base, 'Credentials/987654', alice)).status).toBe(404);
    expect((await get(base, 'Credentials/not-a-number', alice)).status).toBe(404);
  });

  it('answers 404 once a request is checked in or has expired on simulator time', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const released = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT }));
    expect((await send(base, 'PUT', `Requests/${released}/Checkin`, cookie, { Reason: 'done' })).status).toBe(204);
    expect((await get(base, `Credentials/${released}`, cookie)).status).toBe(404);
    expect((await send(base, 'PUT', `Requests/${released}/Checkin`, cookie, {})).status).toBe(404);
    expect((await send(base, 'PUT', `Requests/${released}/RotateOnCheckin`, cookie)).status).toBe(404);

    const expiring = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT, DurationMinutes: 5 }));
    sim.state.advanceClock(4 * 60_000);
    expect((await get(base, `Credentials/${expiring}`, cookie)).status).toBe(200);
    sim.state.advanceClock(60_000);
    expect((await get(base, `Credentials/${expiring}`, cookie)).status).toBe(404);
  });

  it('checks in with {Reason}, {} or no body at all, and through the old Release path', async () => {
    const { base } = await start();
    const cookie = await keySession(base);
    const bodies: (unknown | undefined)[] = [{ Reason: 'done' }, {}, undefined];
    for (const body of bodies) {
      const id = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT }));
      expect((await send(base, 'PUT', `Requests/${id}/Checkin`, cookie, body)).status).toBe(204);
    }
    const old = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT }));
    expect((await send(base, 'PUT', `Requests/Release/${old}`, cookie, {})).status).toBe(204);
    expect((await get(base, `Credentials/${old}`, cookie)).status).toBe(404);
  });
});

describe('rotation', () => {
  async function pull(base: string, cookie: string, systemId: number, accountId: number, extra: Record<string, unknown> = {}) {
    const id = await requestId(await createRequest(base, cookie, { SystemID: systemId, AccountID: accountId, ...extra }));
    const password = (await (await get(base, `Credentials/${id}`, cookie)).json()) as string;
    return { id, password };
  }

  it('rotates after any release when the system says so, and the next request sees the new password', async () => {
    const { sim, base, origin } = await start();
    const cookie = await keySession(base);
    const first = await pull(base, cookie, SRV_APP01, ADMINISTRATOR);
    expect(first.password).toBe('Demo-Administrator-srv-app01!');
    expect((await send(base, 'PUT', `Requests/${first.id}/Checkin`, cookie, {})).status).toBe(204);
    expect(sim.state.rotationsOf(ADMINISTRATOR)).toBe(1);
    const second = await pull(base, cookie, SRV_APP01, ADMINISTRATOR);
    expect(second.password).not.toBe(first.password);
    expect(second.password).toBe(sim.state.passwordOf(ADMINISTRATOR));
    const control = await (await fetch(`${origin}/_sim/accounts/${ADMINISTRATOR}`)).json();
    expect(control).toEqual({ accountId: ADMINISTRATOR, password: second.password, rotations: 1 });
  });

  it('does not rotate on check-in when neither policy nor request asks for it', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const first = await pull(base, cookie, LNX_WEB01, ROOT);
    await send(base, 'PUT', `Requests/${first.id}/Checkin`, cookie, {});
    expect(sim.state.rotationsOf(ROOT)).toBe(0);
    expect((await pull(base, cookie, LNX_WEB01, ROOT)).password).toBe(first.password);
  });

  it('rotates when the request was marked with PUT RotateOnCheckin', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const first = await pull(base, cookie, LNX_WEB01, ROOT);
    expect((await send(base, 'PUT', `Requests/${first.id}/RotateOnCheckin`, cookie)).status).toBe(204);
    expect(sim.state.rotationsOf(ROOT)).toBe(0);
    await send(base, 'PUT', `Requests/${first.id}/Checkin`, cookie, {});
    expect(sim.state.rotationsOf(ROOT)).toBe(1);
    expect((await pull(base, cookie, LNX_WEB01, ROOT)).password).not.toBe(first.password);
  });

  it('rotates when the request body asked for RotateOnCheckin, also when it expires instead of checking in', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const first = await pull(base, cookie, LNX_WEB01, ROOT, { RotateOnCheckin: true, DurationMinutes: 10 });
    sim.state.advanceClock(10 * 60_000);
    expect(sim.state.rotationsOf(ROOT)).toBe(1);
    expect(sim.state.passwordOf(ROOT)).not.toBe(first.password);
  });

  it('does not rotate when a pending request is cancelled or renewed', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const pending = await requestId(await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: DEPLOY, RotateOnCheckin: true }));
    expect((await send(base, 'PUT', `Requests/${pending}/Checkin`, cookie, {})).status).toBe(204);
    await pull(base, cookie, SRV_APP01, ADMINISTRATOR);
    await pull(base, cookie, SRV_APP01, ADMINISTRATOR, { ConflictOption: 'renew' });
    expect(sim.state.rotationsOf(DEPLOY)).toBe(0);
    expect(sim.state.rotationsOf(ADMINISTRATOR)).toBe(0);
  });

  it('changes a password now with POST ManagedAccounts/{id}/Credentials/Change', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    const before = sim.state.passwordOf(ROOT);
    expect((await send(base, 'POST', `ManagedAccounts/${ROOT}/Credentials/Change`, cookie, {})).status).toBe(204);
    expect(sim.state.passwordOf(ROOT)).not.toBe(before);
    expect((await send(base, 'POST', `ManagedAccounts/${ROOT}/Credentials/Change`, cookie, { Password: 'Chosen-1!' })).status).toBe(204);
    expect(sim.state.passwordOf(ROOT)).toBe('Chosen-1!');
    expect(sim.state.rotationsOf(ROOT)).toBe(2);
    const bob = await keySession(base, 'bob');
    expect(await (await send(base, 'POST', `ManagedAccounts/${ROOT}/Credentials/Change`, bob)).text()).toBe('4031');
    expect((await send(base, 'POST', 'ManagedAccounts/9999/Credentials/Change', cookie)).status).toBe(404);
  });
});

describe('control API and seeds', () => {
  it('reports sign-ins, sessions and active requests in /_sim/stats', async () => {
    const { base, origin } = await start();
    const cookie = await keySession(base, 'alice');
    await oauthSession(base);
    await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT });
    const stats = await (await fetch(`${origin}/_sim/stats`)).json();
    expect(stats).toMatchObject({
      signIns: { apiKey: 1, oauth: 1, total: 2 },
      signInsByUser: { alice: 1 },
      activeSessions: 2,
      activeRequests: 1,
    });
  });

  it('injects faults that match method and path, then heals', async () => {
    const { sim, base, origin } = await start();
    const cookie = await keySession(base);
    const fault = await postControl(origin, 'faults', { status: 503, count: 2, method: 'GET', path: 'managedsystems' });
    expect(fault.status).toBe(201);
    expect((await get(base, 'ManagedAccounts', cookie)).status).toBe(200);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(503);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(503);
    expect((await get(base, 'ManagedSystems', cookie)).status).toBe(200);
    sim.state.addFault({ status: 403, count: 1, body: 4033 });
    const coded = await get(base, 'ManagedSystems', cookie);
    expect(coded.status).toBe(403);
    expect(await coded.text()).toBe('4033');
    sim.state.addFault({ status: 503, count: 1, drop: true });
    await expect(get(base, 'ManagedSystems', cookie)).rejects.toThrow();
    expect(sim.state.stats()).toMatchObject({ faultsServed: 4, faultsPending: 0 });
  });

  it('can let a call take effect and then lose its answer', async () => {
    const { sim, base } = await start();
    const cookie = await keySession(base);
    sim.state.addFault({ status: 503, count: 1, method: 'POST', path: 'Requests', afterHandler: true });
    const lost = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT });
    expect(lost.status).toBe(503);
    expect(await lost.text()).toBe('');
    expect(sim.state.activeRequests()).toHaveLength(1);
    const again = await createRequest(base, cookie, { SystemID: LNX_WEB01, AccountID: ROOT, ConflictOption: 'reuse' });
    expect(await requestId(again)).toBe(sim.state.activeRequests()[0]?.requestId);
  });

  it('resets to the initial seed, to an empty one, or to a posted one', async () => {
    const { sim, base, origin } = await start();
    const cookie = await keySession(base);
    await send(base, 'POST', `ManagedAccounts/${ROOT}/Credentials/Change`, cookie, {});
    sim.state.reset();
    expect(sim.state.rotationsOf(ROOT)).toBe(0);
    expect(sim.state.stats().signIns.total).toBe(0);
    const empty = await postControl(origin, 'reset', { empty: true });
    expect(empty.status).toBe(200);
    expect((await signInWithKey(base, 'alice')).status).toBe(401);
    const seed: SimSeed = { apiRegistrations: [{ key: 'k' }], users: [{ userId: 1, userName: 'zed' }] };
    await postControl(origin, 'reset', { seed });
    const zed = await signInWithKey(base, 'zed', 'k');
    expect(zed.status).toBe(200);
    expect(await (await get(base, 'ManagedAccounts', cookieOf(zed))).json()).toEqual([]);
    const invalid = await postControl(origin, 'reset', { seed: { managedAccounts: [{ AccountId: 1, SystemId: 5, AccountName: 'x', password: 'p' }] } });
    expect(invalid.status).toBe(400);
  });

  it('starts empty with EMPTY_SEED', async () => {
    const { sim, base } = await start({ seed: EMPTY_SEED });
    expect((await signInWithKey(base, 'alice')).status).toBe(401);
    expect(sim.state.stats().activeRequests).toBe(0);
  });

  it('rejects seeds with duplicate account ids or dangling system references', () => {
    expect(simSeedSchema.safeParse({ managedSystems: [], managedAccounts: [{ AccountId: 1, SystemId: 1, AccountName: 'a', password: 'p' }] }).success).toBe(false);
    const system = { ManagedSystemID: 1, WorkgroupID: 1, HostName: 'h', SystemName: 'h', PlatformID: 1 };
    const dup = {
      managedSystems: [system],
      managedAccounts: [{ AccountId: 1, SystemId: 1, AccountName: 'a', password: 'p' }],
      domainLinkedAccounts: [{ AccountId: 1, AccountName: 'd', DomainName: 'D', password: 'p', linkedSystemIds: [1] }],
    };
    expect(simSeedSchema.safeParse(dup).success).toBe(false);
  });

  it('serves under a custom base path', async () => {
    const { base } = await start({ basePath: '/eEye.RetinaCS.Server/api/public/v3/' });
    expect(base).toMatch(/\/eEye\.RetinaCS\.Server\/api\/public\/v3\/$/);
    expect((await signInWithKey(base, 'alice')).status).toBe(200);
  });
});

describe('logging', () => {
  it('never logs passwords, keys, cookies, tokens or request ids', async () => {
    const { lines, logger } = captureLog();
    const { base } = await start({ logger });
    const res = await signInWithKey(base, 'alice', 'demo-api-key-pwd', 'alice-demo-pass');
    const cookie = cookieOf(res);
    const header = 'PS-Auth key=demo-api-key-pwd; runas=alice; pwd=[alice-demo-pass];';
    const withAuth = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { cookie, authorization: header, 'content-type': 'application/json' } });
    const created = await fetch(`${base}Requests`, withAuth({ method: 'POST', body: JSON.stringify({ SystemID: LNX_WEB01, AccountID: ROOT }) }));
    const id = await requestId(created);
    const password = (await (await fetch(`${base}Credentials/${id}`, withAuth())).json()) as string;
    await fetch(`${base}Requests/${id}/Checkin`, withAuth({ method: 'PUT', body: '{}' }));
    await oauthSession(base);
    expect(lines.length).toBeGreaterThan(4);
    const all = lines.join('\n');
    const sessionValues = cookie.split('; ').map((c) => c.split('=')[1] ?? '');
    for (const secret of [password, 'alice-demo-pass', 'demo-api-key-pwd', 'demo-secret', ...sessionValues, `/${id}`]) {
      expect(all).not.toContain(secret);
    }
  });
});
