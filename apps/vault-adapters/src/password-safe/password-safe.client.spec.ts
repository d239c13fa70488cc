import { SecretValue } from '@openecm/crypto';
import { createPasswordSafeSim, type PasswordSafeSim, type SimSeed } from '../../../../tools/password-safe-sim/src/sim';
import {
  PasswordSafeClient,
  PasswordSafeError,
  redactRequestIds,
  vaultDate,
  withSessionRetry,
  type PasswordSafeClientOptions,
  type PasswordSafeErrorKind,
  type PasswordSafeSession,
} from './password-safe.client';

const ADMINISTRATOR = 1001;
const LEGACY_ADMIN = 1003;
const ROOT = 2001;
const DEPLOY = 2002;
const PRA_ADMIN = 3001;
const SRV_APP01 = 1;
const LNX_WEB01 = 2;

const API_KEY = 'demo-api-key';
const STRICT_KEY = 'demo-api-key-pwd';
const ALICE_PASSWORD = 'alice-demo-pass';
const OAUTH = { clientId: 'demo-client', clientSecret: SecretValue.of('demo-secret') };

const simulators: PasswordSafeSim[] = [];
const clients: PasswordSafeClient[] = [];
const logLines: string[] = [];
const errorsSeen: PasswordSafeError[] = [];

const logger = {
  warn: (obj: object, msg: string) => logLines.push(`${msg} ${JSON.stringify(obj)}`),
  debug: (obj: object, msg: string) => logLines.push(`${msg} ${JSON.stringify(obj)}`),
};

async function startSim(options: Parameters<typeof createPasswordSafeSim>[0] = {}): Promise<{ sim: PasswordSafeSim; baseUrl: string }> {
  const sim = createPasswordSafeSim(options);
  simulators.push(sim);
  return { sim, baseUrl: await sim.listen(0) };
}

function clientFor(baseUrl: string, extra: Partial<PasswordSafeClientOptions> = {}): PasswordSafeClient {
  const client = new PasswordSafeClient({ baseUrl, retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 }, logger, ...extra });
  clients.push(client);
  return client;
}

async function setup(options: Parameters<typeof createPasswordSafeSim>[0] = {}) {
  const { sim, baseUrl } = await startSim(options);
  return { sim, baseUrl, client: clientFor(baseUrl) };
}

async function expectKind<T>(promise: Promise<T>, kind: PasswordSafeErrorKind, extra: Partial<PasswordSafeError> = {}): Promise<PasswordSafeError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PasswordSafeError);
  const psError = error as PasswordSafeError;
  expect({ kind: psError.kind, ...pick(psError, extra) }).toEqual({ kind, ...extra });
  errorsSeen.push(psError);
  return psError;
}

function pick(error: PasswordSafeError, extra: Partial<PasswordSafeError>): Partial<PasswordSafeError> {
  return Object.fromEntries(Object.keys(extra).map((k) => [k, error[k as keyof PasswordSafeError]]));
}

beforeEach(() => {
  logLines.length = 0;
  errorsSeen.length = 0;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

describe('sign-in', () => {
  it('signs in with an API key and keeps a plain, serialisable session with a stripped Cookie header', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    expect(session.cookie).toMatch(/^ASP\.NET_SessionId=[^;]+; __RequestVerificationToken=[^;]+$/);
    expect(session.cookie).not.toMatch(/path|httponly|secure|samesite/i);
    expect(session.authorization).toBe('PS-Auth key=demo-api-key; runas=alice;');
    const rebuilt = JSON.parse(JSON.stringify(session)) as PasswordSafeSession;
    expect((await client.listManagedSystems(rebuilt)).map((s) => s.SystemName)).toEqual(['srv-app01', 'lnx-web01']);
    expect(sim.state.stats().signInsByUser).toEqual({ alice: 1 });
  });

  it('sends pwd=[...] and resends the PS-Auth header on every call for strict registrations', async () => {
    const { client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(STRICT_KEY), runAs: 'CORP\\alice', password: SecretValue.of('corp-alice-demo-pass') });
    expect(session.authorization).toBe('PS-Auth key=demo-api-key-pwd; runas=CORP\\alice; pwd=[corp-alice-demo-pass];');
    const accounts = await client.listManagedAccounts(session);
    expect(accounts.map((a) => a.AccountName).sort()).toEqual(['Administrator', 'deploy', 'svc-backup']);
    await expectKind(client.listManagedAccounts({ cookie: session.cookie }), 'session-expired', { status: 401 });
  });

  it('signs in with OAuth (token, then SignAppIn) and relies on cookies only', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithOAuth(OAUTH);
    expect(session.authorization).toBeUndefined();
    expect(session.cookie).toContain('ASP.NET_SessionId=');
    expect((await client.listManagedAccounts(session)).map((a) => a.AccountName).sort()).toEqual(['Administrator', 'deploy', 'root', 'svc-backup']);
    expect(sim.state.stats()).toMatchObject({ signIns: { apiKey: 0, oauth: 1 }, tokensIssued: 1 });
  });

  it("maps sign-in failures: 401 'bad-credentials', 403 'licence', 410 'api-disabled'", async () => {
    const { sim, client } = await setup();
    await expectKind(client.signInWithApiKey({ apiKey: SecretValue.of('wrong'), runAs: 'alice' }), 'bad-credentials', { status: 401 });
    await expectKind(client.signInWithApiKey({ apiKey: SecretValue.of(STRICT_KEY), runAs: 'alice' }), 'bad-credentials', { status: 401 });
    await expectKind(client.signInWithOAuth({ clientId: 'demo-client', clientSecret: SecretValue.of('wrong') }), 'bad-credentials', { status: 400 });
    sim.state.addFault({ status: 403, count: 1, path: 'Auth/SignAppin' });
    await expectKind(client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' }), 'licence', { status: 403 });
    sim.state.addFault({ status: 410, count: 1, path: 'Auth/SignAppin' });
    await expectKind(client.signInWithOAuth(OAUTH), 'api-disabled', { status: 410 });
  });

  it('refuses header-breaking characters before anything is sent', async () => {
    const { sim, client } = await setup();
    await expectKind(client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice\r\nX-Evil: 1' }), 'bad-request', { attempts: 0 });
    expect(sim.state.stats().failedSignIns).toBe(0);
  });

  it('signs out, and treats a session the server already dropped as signed out', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    await client.signOut(session);
    expect(sim.state.stats().activeSessions).toBe(0);
    await expect(client.signOut(session)).resolves.toBeUndefined();
  });
});

describe('managed accounts', () => {
  it('normalises the object-or-array quirk: always an array, and [] for "Managed Account not found"', async () => {
    const { client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const one = await client.listManagedAccounts(session, { systemName: 'srv-app01', accountName: 'Administrator' });
    expect(one).toEqual([expect.objectContaining({ AccountId: ADMINISTRATOR, SystemId: SRV_APP01, AccountName: 'Administrator' })]);
    expect(await client.listManagedAccounts(session, { systemName: 'srv-app01', accountName: 'nobody' })).toEqual([]);
    const bySystem = await client.listManagedAccounts(session, { systemId: LNX_WEB01 });
    expect(bySystem.map((a) => a.AccountId).sort()).toEqual([ROOT, DEPLOY]);
    expect(await client.listManagedAccounts(session, { ipAddress: '10.0.0.11', limit: 1 })).toHaveLength(1);
  });

  it('lists domain-linked accounts for a system', async () => {
    const { client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    expect(await client.listDomainLinkedAccounts(session, SRV_APP01)).toEqual([
      expect.objectContaining({ AccountId: PRA_ADMIN, AccountName: 'pra-admin', DomainName: 'CORP', SystemId: SRV_APP01 }),
    ]);
    expect(await client.listDomainLinkedAccounts(session, LNX_WEB01)).toEqual([]);
  });

  it('pages through more accounts than one page holds', async () => {
    const count = 1205;
    const seed: SimSeed = {
      oauthClients: [{ clientId: 'c', clientSecret: 's', userId: 1 }],
      managedSystems: [{ ManagedSystemID: 1, WorkgroupID: 1, HostName: 'big', SystemName: 'big', PlatformID: 1 }],
      managedAccounts: Array.from({ length: count }, (_, i) => ({ AccountId: i + 1, SystemId: 1, AccountName: `acct${i}`, password: 'p' })),
    };
    const { client } = await setup({ seed });
    const session = await client.signInWithOAuth({ clientId: 'c', clientSecret: SecretValue.of('s') });
    const all = await client.listManagedAccounts(session);
    expect(all).toHaveLength(count);
    expect(new Set(all.map((a) => a.AccountId)).size).toBe(count);
  });
});

describe('requests, credentials and rotation', () => {
  it('checks out, reads the password, checks in; the system policy rotates it and the next request sees the new one', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const requestId = await client.createRequest(session, {
      systemId: SRV_APP01,
      accountId: ADMINISTRATOR,
      durationMinutes: 30,
      reason: 'ticket 1',
      accessType: 'RDP',
    });
    expect(Number.isSafeInteger(requestId)).toBe(true);
    const before = (await client.getCredential(session, requestId)).reveal();
    expect(before).toBe('Demo-Administrator-srv-app01!');
    await client.checkin(session, requestId, 'session ended');
    await expectKind(client.getCredential(session, requestId), 'not-found', { status: 404 });
    expect(sim.state.rotationsOf(ADMINISTRATOR)).toBe(1);
    const next = await client.createRequest(session, { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 30, reason: 'ticket 2', accessType: 'RDP' });
    const after = (await client.getCredential(session, next)).reveal();
    expect(after).not.toBe(before);
    expect(after).toBe(sim.state.passwordOf(ADMINISTRATOR));
  });

  it('marks a request RotateOnCheckin so an account without a rotation policy still rotates', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const requestId = await client.createRequest(session, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 15, reason: 'r', accessType: 'SSH' });
    const before = (await client.getCredential(session, requestId)).reveal();
    await client.rotateOnCheckin(session, requestId);
    await client.checkin(session, requestId, 'done');
    expect(sim.state.passwordOf(ROOT)).not.toBe(before);
    await expectKind(client.rotateOnCheckin(session, requestId), 'not-found');
  });

  it('sends RotateOnCheckin in the request body when asked', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithOAuth(OAUTH);
    const requestId = await client.createRequest(session, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 15, reason: 'r', rotateOnCheckin: true });
    await client.checkin(session, requestId, 'done');
    expect(sim.state.rotationsOf(ROOT)).toBe(1);
  });

  it("lists the signed-in user's active requests only, with the vault's clock to age them by", async () => {
    const { sim, client } = await setup();
    const alice = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const app = await client.signInWithOAuth(OAUTH);
    const open = await client.createRequest(alice, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 120, reason: 'r' });
    const ended = await client.createRequest(alice, { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 15, reason: 'r' });
    await client.checkin(alice, ended, 'done');
    await client.createRequest(app, { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 120, reason: 'r' });
    sim.state.advanceClock(600_000);
    const held = await client.listActiveRequests(alice);
    expect(held.requests).toEqual([expect.objectContaining({ RequestID: open, SystemID: LNX_WEB01, AccountID: ROOT, Status: 'Active', RequestReleaseDate: expect.any(String) })]);
    // the vault's own clock, moved ten minutes on: a request's age is read against it, not against ours
    expect(held.vaultNow).toBeGreaterThan(Date.now() + 500_000);
    expect((await client.listActiveRequests(app)).requests).toHaveLength(1);
    expect(logLines.join('\n')).not.toContain(`Requests/${open}`);
  });

  it('reads Password Safe dates with or without a zone (none is UTC), and nothing else', () => {
    expect(vaultDate('2026-12-01T13:58:02.123')).toBe(Date.UTC(2026, 11, 1, 13, 58, 2, 123));
    expect(vaultDate('2026-12-01T13:58:02Z')).toBe(Date.UTC(2026, 11, 1, 13, 58, 2));
    expect(vaultDate('2026-12-01T14:58:02+01:00')).toBe(Date.UTC(2026, 11, 1, 13, 58, 2));
    expect(vaultDate('yesterday')).toBeUndefined();
    expect(vaultDate(null)).toBeUndefined();
  });

  it('always sends ConflictOption reuse, so concurrent pulls share one request', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const input = { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 15, reason: 'r', accessType: 'SSH' as const };
    const ids = await Promise.all([client.createRequest(session, input), client.createRequest(session, input), client.createRequest(session, input)]);
    expect(new Set(ids).size).toBe(1);
    expect(sim.state.activeRequests()).toHaveLength(1);
  });

  it("maps 4031 'forbidden', 4034 'approval-pending' and 400 'bad-request'", async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'bob' });
    await expectKind(client.createRequest(session, { systemId: SRV_APP01, accountId: LEGACY_ADMIN, durationMinutes: 5, reason: 'r' }), 'forbidden', { status: 403, code: 4031 });
    await expectKind(client.createRequest(session, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 5, reason: 'r' }), 'forbidden', { code: 4031 });
    const pending = await client.createRequest(session, { systemId: LNX_WEB01, accountId: DEPLOY, durationMinutes: 5, reason: 'r' });
    await expectKind(client.getCredential(session, pending), 'approval-pending', { status: 403, code: 4034 });
    expect(sim.state.approve(pending)).toBe(true);
    expect((await client.getCredential(session, pending)).reveal()).toBe('Demo-deploy-lnx-web01!');
    const bad = await expectKind(client.createRequest(session, { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 0, reason: 'r' }), 'bad-request', { status: 400 });
    // the vault's words are kept for the log, never echoed in the message
    expect(bad.message).toBe('Password Safe answered 400 to POST Requests');
    expect(bad.vaultMessage).toMatch(/DurationMinutes/);
    await expectKind(client.getCredential(session, -1), 'bad-request', { attempts: 0 });
  });

  it("maps 4033 'approver-only', 4091 'conflict', 410 'api-disabled' and an unparseable body 'unexpected'", async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const input = { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 5, reason: 'r' };
    sim.state.addFault({ status: 403, count: 1, body: 4033, path: 'Requests' });
    await expectKind(client.createRequest(session, input), 'approver-only', { code: 4033 });
    sim.state.addFault({ status: 409, count: 1, body: 4091, path: 'Requests' });
    await expectKind(client.createRequest(session, input), 'conflict', { status: 409, code: 4091 });
    sim.state.addFault({ status: 410, count: 1, path: 'ManagedSystems' });
    await expectKind(client.listManagedSystems(session), 'api-disabled', { status: 410 });
    sim.state.addFault({ status: 200, count: 1, body: 'not a list', path: 'ManagedSystems' });
    await expectKind(client.listManagedSystems(session), 'unexpected', { status: 200 });
  });
});

describe('sessions', () => {
  it("reports a dead session as 'session-expired', and withSessionRetry signs in once more", async () => {
    const { sim, client } = await setup();
    let cached = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    sim.state.expireAllSessions();
    await expectKind(client.listManagedSystems(cached), 'session-expired', { status: 401 });

    const refresh = jest.fn(async () => {
      cached = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
      return cached;
    });
    const systems = await withSessionRetry(async () => cached, refresh, (s) => client.listManagedSystems(s));
    expect(systems).toHaveLength(2);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(sim.state.stats().signIns.apiKey).toBe(2);
  });

  it('retries a dead session only once, and leaves other errors alone', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const refresh = jest.fn(async () => session);
    sim.state.expireAllSessions();
    await expectKind(withSessionRetry(async () => session, refresh, (s) => client.listManagedSystems(s)), 'session-expired');
    expect(refresh).toHaveBeenCalledTimes(1);
    const fresh = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const neverCalled = jest.fn(async () => fresh);
    await expectKind(withSessionRetry(async () => fresh, neverCalled, (s) => client.getCredential(s, 999)), 'not-found');
    expect(neverCalled).not.toHaveBeenCalled();
  });

  it('expires on the idle timeout of the server', async () => {
    const { sim, client } = await setup({ idleTimeoutMs: 60_000 });
    const session = await client.signInWithOAuth(OAUTH);
    sim.state.advanceClock(60_001);
    await expectKind(client.listManagedAccounts(session), 'session-expired');
  });
});

// Retrying itself (which statuses, dropped connections, backoff) is the shared transport's: libs/vault-sdk/src/http/vault-http.spec.ts.
describe('retries', () => {
  it("gives up after the attempt budget with 'unavailable'", async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithOAuth(OAUTH);
    sim.state.addFault({ status: 500, count: 10, path: 'ManagedSystems' });
    const error = await expectKind(client.listManagedSystems(session), 'unavailable', { status: 500, attempts: 4 });
    expect(error.message).toBe('Password Safe answered 500 to GET ManagedSystems after 4 attempts');
    expect(sim.state.stats().faultsServed).toBe(4);
    expect(logLines.filter((l) => l.startsWith('password safe call failed, retrying'))).toHaveLength(3);
  });

  it("reports a closed port as 'unavailable' with the transport code", async () => {
    const { sim, baseUrl } = await startSim();
    await sim.close();
    const client = clientFor(baseUrl, { retry: { attempts: 2, baseDelayMs: 1 } });
    await expectKind(client.signInWithOAuth(OAUTH), 'unavailable', { status: undefined, transportCode: 'ECONNREFUSED', attempts: 2 });
  });

  it('retries POST Requests safely: after a lost answer, reuse hands back the same request', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    sim.state.addFault({ status: 503, count: 1, method: 'POST', path: 'Requests', afterHandler: true });
    const requestId = await client.createRequest(session, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 5, reason: 'r' });
    expect(sim.state.activeRequests()).toEqual([expect.objectContaining({ requestId })]);
  });

  it('treats 404 on a retried check-in as done, because the lost first attempt already checked in', async () => {
    const { sim, client } = await setup();
    const session = await client.signInWithApiKey({ apiKey: SecretValue.of(API_KEY), runAs: 'alice' });
    const requestId = await client.createRequest(session, { systemId: SRV_APP01, accountId: ADMINISTRATOR, durationMinutes: 5, reason: 'r' });
    sim.state.addFault({ status: 502, count: 1, method: 'PUT', path: 'Checkin', afterHandler: true });
    await client.checkin(session, requestId, 'done');
    expect(sim.state.activeRequests()).toEqual([]);
    expect(sim.state.rotationsOf(ADMINISTRATOR)).toBe(1);
    await expectKind(client.checkin(session, requestId, 'again'), 'not-found', { attempts: 1 });
  });
});

describe('secrets', () => {
  it('keeps passwords, keys, cookies, tokens and request ids out of error messages and logs', async () => {
    const { sim, client } = await setup();
    const strict = await client.signInWithApiKey({ apiKey: SecretValue.of(STRICT_KEY), runAs: 'alice', password: SecretValue.of(ALICE_PASSWORD) });
    const oauth = await client.signInWithOAuth(OAUTH);
    const requestId = await client.createRequest(strict, { systemId: LNX_WEB01, accountId: ROOT, durationMinutes: 5, reason: 'r' });
    const password = (await client.getCredential(strict, requestId)).reveal();
    sim.state.addFault({ status: 503, count: 2, path: 'Credentials' });
    await client.getCredential(strict, requestId);
    sim.state.addFault({ status: 400, count: 1, body: `bad thing at /Credentials/${requestId} and Requests/${requestId}/Checkin`, path: 'Credentials' });
    const echoed = await expectKind(client.getCredential(strict, requestId), 'bad-request');
    expect(echoed.message).toContain('Credentials/{id}');
    await client.checkin(strict, requestId, 'done');
    await expectKind(client.getCredential(strict, requestId), 'not-found');
    await expectKind(client.getCredential(oauth, requestId), 'not-found');
    sim.state.expireAllSessions();
    await expectKind(client.checkin(strict, requestId, 'x'), 'session-expired');

    const cookieValues = [strict.cookie, oauth.cookie].flatMap((c) => c.split('; ').map((p) => p.split('=')[1] ?? ''));
    const secrets = [password, ALICE_PASSWORD, STRICT_KEY, OAUTH.clientSecret.reveal(), ...cookieValues];
    const texts = [...errorsSeen.map((e) => `${e.message} ${JSON.stringify(e)}`), ...logLines];
    expect(logLines.length).toBeGreaterThan(5);
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/(Credentials|Requests)\/\d/);
    }
  });

  it('redacts request ids in paths', () => {
    expect(redactRequestIds('GET /Credentials/124?type=password; PUT Requests/124/Checkin; PUT Requests/Release/77')).toBe(
      'GET /Credentials/{id}?type=password; PUT Requests/{id}/Checkin; PUT Requests/Release/{id}',
    );
  });
});

describe('TLS', () => {
  // Certificates, private CAs and rejectUnauthorized are the shared transport's: libs/vault-sdk/src/http/vault-http.spec.ts.
  it("maps a TLS failure to 'tls', without retrying", async () => {
    const { sim, baseUrl } = await startSim();
    const client = clientFor(baseUrl.replace('http:', 'https:'));
    const error = await expectKind(client.signInWithOAuth(OAUTH), 'tls', { status: undefined, attempts: 1 });
    expect(error.transportCode).toBeDefined();
    expect(sim.state.stats().tokensIssued).toBe(0);
  });
});
