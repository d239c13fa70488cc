import { Logger, type INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import {
  checkoutOpened,
  clearNamespaceKeys,
  createTestDatabase,
  sealedForVaultAdapters,
  startTestApp,
  testBus,
  testKey,
} from '@openecm/testing';
import { SEAL_CONTEXTS, type VaultConnectionInput } from '@openecm/contracts';
import { Keyring, SealingKeyPair, sealTo } from '@openecm/crypto';
import { PinoNestLogger, createLogger } from '@openecm/telemetry';
import { vaultAdaptersTestEnv } from '@openecm/vault-sdk/conformance';
import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';

// This suite edits vault.connection behind the service's back and tests token-cache's own contract, so both
// in-process caches are off here (test/vault-caches.int-spec.ts covers them).
vaultAdaptersTestEnv();

describe('vault-adapters with Password Safe (simulator over HTTP, real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let cacheApp: INestApplication;
  let bus: Bus;
  let sim: PasswordSafeSim;
  let baseUrl: string;
  let pg: Client;

  beforeAll(async () => {
    sim = createPasswordSafeSim({ idleTimeoutMs: 60_000 });
    baseUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await pg?.end();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  const connect = async (name: string, auth: Record<string, string>, extra: Record<string, unknown> = {}) =>
    bus.request('vault.connection.upsert.v1', {
      name,
      connection: await sealedForVaultAdapters(
        bus,
        { type: 'password-safe', settings: { baseUrl, allowInsecureHttp: true, auth: auth as never, releaseDurationMinutes: 90, rotateAfterRelease: true, ...extra } },
        SEAL_CONTEXTS.vaultConnection(name),
      ),
    });
  const testTarget = async (connection: VaultConnectionInput | Record<string, unknown>) => ({ connection: await sealedForVaultAdapters(bus, connection, SEAL_CONTEXTS.vaultTest()) });

  it('saves a connection with its secrets sealed at rest and masked when listed', async () => {
    const first = await connect('ps', { mode: 'api-key', apiKey: 'demo-api-key' });
    expect(first.created).toBe(true);
    expect(first.connection.settings).toMatchObject({ auth: { mode: 'api-key', apiKey: '********' } });
    expect((await connect('ps', { mode: 'api-key', apiKey: 'demo-api-key' })).created).toBe(false);
    const listed = await bus.request('vault.connection.list.v1', {});
    expect(JSON.stringify(listed)).not.toContain('demo-api-key');
    const raw = await pg.query('SELECT settings_sealed FROM vault.connection');
    expect(JSON.stringify(raw.rows)).not.toContain('demo-api-key');
  });

  it('lists, as the run-as user, the API-enabled accounts of the matching system plus its domain-linked accounts', async () => {
    const alice = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'SRV-APP01.corp.example' });
    expect(alice.credentials.map((c) => c.name).sort()).toEqual(['CORP\\pra-admin', 'srv-app01\\Administrator', 'srv-app01\\svc-backup']);
    expect(alice.credentials.find((c) => c.name === 'CORP\\pra-admin')).toMatchObject({ scope: 'domain', domain: 'CORP', username: 'pra-admin' });
    expect(alice.credentials.find((c) => c.username === 'Administrator')).toMatchObject({ scope: 'machine', domain: null, releaseDurationMinutes: 90 });
    const byIp = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: '10.0.0.11' });
    expect(byIp.credentials).toHaveLength(3);
    // Password Safe filters per run-as user: bob may not request svc-backup
    const bob = await bus.request('vault.credentials.list.v1', { user: 'bob', endpoint: 'srv-app01' });
    expect(bob.credentials.map((c) => c.username)).not.toContain('svc-backup');
    expect(JSON.stringify([alice, bob])).not.toMatch(/Demo-/);
    const none = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'unknown-host' });
    expect(none).toEqual({ credentials: [], pending: [] });
  });

  it('in OAuth mode signs in as the application, once, for every user', async () => {
    await connect('ps-oauth', { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' });
    const before = sim.state.stats().signIns.oauth;
    const lists = await Promise.all(['alice', 'bob', 'someone'].map((user) => bus.request('vault.credentials.list.v1', { user, endpoint: 'srv-app01' })));
    expect(sim.state.stats().signIns.oauth - before).toBe(1);
    for (const l of lists) expect(l.credentials.filter((c) => c.vault === 'ps-oauth').map((c) => c.username)).toContain('svc-backup');
    await pg.query(`DELETE FROM vault.connection WHERE name = 'ps-oauth'`);
  });

  it('checks out the current password and, on check-in with rotation, the vault replaces it', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const admin = list.credentials.find((c) => c.username === 'Administrator');
    const leaseId = randomUUID();
    const out = await checkoutOpened(bus, { leaseId, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 90, reason: 'test' });
    expect(out).toMatchObject({ username: 'Administrator', domain: null, secret: { type: 'password', value: sim.state.passwordOf(1001) } });
    expect(JSON.stringify(out.sealed)).not.toContain(sim.state.passwordOf(1001));
    const old = out.secret.value;
    const stored = await pg.query('SELECT request_sealed FROM vault.checkout WHERE lease_id = $1', [leaseId]);
    expect(stored.rows[0].request_sealed).toMatch(/^v1\./);

    const checkin = await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'session ended' });
    expect(checkin).toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.passwordOf(1001)).not.toBe(old);
    expect(sim.state.rotationsOf(1001)).toBe(1);
    // a second check-in (a retried job) does not reach the vault again
    await expect(bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'again' })).resolves.toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.rotationsOf(1001)).toBe(1);
  });

  it("seals the checked-out secret to the caller's key, bound to the lease: no other key or lease opens it", async () => {
    const admin = (await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' })).credentials.find((c) => c.username === 'Administrator');
    const leaseId = randomUUID();
    const caller = await SealingKeyPair.generate();
    const out = await bus.request('vault.credentials.checkout.v1', { leaseId, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 90, reason: 'test', sealTo: caller.publicKey });
    const password = sim.state.passwordOf(1001);
    expect(JSON.stringify(out)).not.toContain(password);
    await expect(caller.open(out.secret, SEAL_CONTEXTS.checkoutSecret(leaseId))).resolves.toEqual({ type: 'password', value: password });
    await expect(caller.open(out.secret, SEAL_CONTEXTS.checkoutSecret(randomUUID()))).resolves.toBeUndefined();
    await expect((await SealingKeyPair.generate()).open(out.secret, SEAL_CONTEXTS.checkoutSecret(leaseId))).resolves.toBeUndefined();
    await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: false, reason: 'done' });
  });

  it('opens connection settings sealed to its own key, for that connection only', async () => {
    const input = { type: 'password-safe', settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } } };
    expect(await bus.request('vault.sealing-key.get.v1', {})).toMatchObject({ kid: 'v1' });
    const stranger = await SealingKeyPair.generate();
    const toStranger = await sealTo(stranger.publicKey, input, SEAL_CONTEXTS.vaultConnection('ps-x'));
    await expect(bus.request('vault.connection.upsert.v1', { name: 'ps-x', connection: toStranger })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [expect.objectContaining({ field: 'connection' })],
    });
    // sealed for the connection "ps": replayed under another name, it does not open
    const forPs = await sealedForVaultAdapters(bus, input, SEAL_CONTEXTS.vaultConnection('ps'));
    await expect(bus.request('vault.connection.upsert.v1', { name: 'ps-x', connection: forPs })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await pg.query(`SELECT 1 FROM vault.connection WHERE name = 'ps-x'`)).rowCount).toBe(0);
  });

  it('hands token-cache sessions it cannot read, bound to their user: one planted under another user is never used', async () => {
    await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const alice = (await bus.request('token.cache.get.v1', { vault: 'ps', user: 'alice' })).value as string;
    expect(alice).toMatch(/^v1\.v1\./);
    expect(Buffer.from(alice.split('.')[4] as string, 'base64url').toString('latin1')).not.toMatch(/demo-api-key|SessionId/);
    // a process on the bus puts alice's sealed session under bob's name
    await bus.request('token.cache.delete.v1', { vault: 'ps', user: 'bob' });
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'bob', value: alice, ttlSeconds: 60 });
    const before = sim.state.stats().signInsByUser['bob'] ?? 0;
    const bob = await bus.request('vault.credentials.list.v1', { user: 'bob', endpoint: 'srv-app01' });
    expect(bob.credentials.map((c) => c.username)).not.toContain('svc-backup');
    expect((sim.state.stats().signInsByUser['bob'] ?? 0) - before).toBe(1);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'bob' })).value).not.toBe(alice);
  });

  it('checks in a check-out whose answer was lost (the request id never recorded), asked for rotation once', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const admin = list.credentials.find((c) => c.username === 'Administrator');
    const leaseId = randomUUID();
    await checkoutOpened(bus, { leaseId, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 90, reason: 'test' });
    // As a crash between the vault's answer and the record leaves it: the intent, no request id.
    await pg.query(`UPDATE vault.checkout SET state = 'pending', request_sealed = NULL WHERE lease_id = $1`, [leaseId]);
    const open = sim.state.activeRequests().length;
    expect(open).toBeGreaterThan(0);
    const rotations = sim.state.rotationsOf(1001);
    // Asking for the rotation again at check-in would meet this refusal and fail the check-in.
    sim.state.addFault({ status: 400, count: 1, method: 'PUT', path: 'RotateOnCheckin', body: 'The request has ended' });

    const checkin = await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'session ended' });
    expect(checkin).toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.activeRequests()).toHaveLength(open - 1);
    expect(sim.state.rotationsOf(1001)).toBe(rotations + 1);
    // The rotation went with the request: no separate RotateOnCheckin call took the fault.
    expect(sim.state.stats().faultsPending).toBe(1);
    sim.state.clearFaults();
  });

  it('counts a request the vault ended on its own (its duration ran out) as checked in, rotated by the vault', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const admin = list.credentials.find((c) => c.username === 'Administrator');
    const leaseId = randomUUID();
    await checkoutOpened(bus, { leaseId, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 1, reason: 'test' });
    const rotations = sim.state.rotationsOf(1001);
    // Past the request's minute (and within the 60 s session idle timeout the suite runs with).
    sim.state.advanceClock(61_000);
    expect(sim.state.activeRequests().some((r) => r.accountId === 1001)).toBe(false);
    expect(sim.state.rotationsOf(1001)).toBe(rotations + 1);
    const checkin = await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'session ended' });
    expect(checkin).toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.rotationsOf(1001)).toBe(rotations + 1);
  });

  it('signs in again once when the vault session expired, and carries on', async () => {
    await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const before = sim.state.stats().signInsByUser;
    sim.state.expireAllSessions();
    const after = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(after.credentials).toHaveLength(3);
    const signIns = sim.state.stats().signInsByUser;
    expect((signIns['alice'] ?? 0) - (before['alice'] ?? 0)).toBe(1);
  });

  it('maps vault refusals to broker errors: approval pending, unknown account', async () => {
    const deploy = (await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'lnx-web01' })).credentials.find((c) => c.username === 'deploy');
    expect(deploy).toBeDefined();
    await expect(
      checkoutOpened(bus, { leaseId: randomUUID(), vault: 'ps', ref: deploy!.ref, user: 'alice', durationMinutes: 30, reason: 't' }),
    ).rejects.toMatchObject({ code: 'VAULT_APPROVAL_PENDING' });
    await expect(
      checkoutOpened(bus, { leaseId: randomUUID(), vault: 'ps', ref: { systemId: 1, accountId: 424242, account: 'ghost' }, user: 'alice', durationMinutes: 30, reason: 't' }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/VAULT_FORBIDDEN|VAULT_ACCOUNT_NOT_FOUND/) });
    await expect(checkoutOpened(bus, { leaseId: randomUUID(), vault: 'nope', ref: {}, user: 'alice', durationMinutes: 1, reason: '' })).rejects.toMatchObject({ code: 'VAULT_NOT_FOUND' });
  });

  it('Test Settings lists with settings as entered, uncached, and names the failing step', async () => {
    const settings = (extra: Record<string, unknown>) => ({
      type: 'password-safe' as const,
      settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key' as const, apiKey: 'demo-api-key' }, ...extra },
    });
    const signInsBefore = sim.state.stats().signIns.total;
    const ok = await bus.request('vault.connection.test.v1', { target: await testTarget(settings({})), user: 'alice', endpoint: 'srv-app01' });
    expect(ok).toMatchObject({ result: 'ok' });
    expect(ok.result === 'ok' && ok.credentials.map((c) => c.name).sort()).toEqual(['CORP\\pra-admin', 'srv-app01\\Administrator', 'srv-app01\\svc-backup']);
    expect(sim.state.stats().signIns.total).toBe(signInsBefore + 1);
    expect(JSON.stringify(ok)).not.toMatch(/Demo-/);

    const empty = await bus.request('vault.connection.test.v1', { target: await testTarget(settings({})), user: 'alice', endpoint: 'nowhere' });
    expect(empty).toEqual({ result: 'ok', credentials: [] });

    const badKey = await bus.request('vault.connection.test.v1', {
      target: await testTarget({ type: 'password-safe', settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'wrong-key' } } }),
      user: 'alice',
      endpoint: 'srv-app01',
    });
    expect(badKey).toMatchObject({ result: 'failed', step: 'authentication', code: 'VAULT_AUTH_FAILED' });
    expect(JSON.stringify(badKey)).not.toContain('wrong-key');

    const down = await bus.request('vault.connection.test.v1', {
      target: await testTarget({ type: 'password-safe', settings: { baseUrl: 'http://127.0.0.1:9/BeyondTrust/api/public/v3/', allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'k' } } }),
      user: 'alice',
      endpoint: 'srv-app01',
    });
    expect(down).toMatchObject({ result: 'failed', step: 'connect', code: 'VAULT_UNAVAILABLE' });

    const saved = await bus.request('vault.connection.test.v1', { target: { name: 'ps' }, user: 'bob', endpoint: 'srv-app01' });
    expect(saved.result === 'ok' && saved.credentials.map((c) => c.username)).not.toContain('svc-backup');
  });

  it('answers the failure when the only vault is unreachable, without secrets in the message', async () => {
    await connect('ps', { mode: 'api-key', apiKey: 'demo-api-key' }, { baseUrl: 'http://127.0.0.1:9/BeyondTrust/api/public/v3/', allowInsecureHttp: true });
    const error = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' }).then(() => undefined, (e: Error & { code: string }) => e);
    expect(error).toMatchObject({ code: 'VAULT_UNAVAILABLE' });
    expect(error?.message).not.toContain('demo-api-key');
    await connect('ps', { mode: 'api-key', apiKey: 'demo-api-key' });
  });

  it('reports a connection sealed with a key no longer configured, and the other vaults still answer', async () => {
    await connect('ps-oauth', { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' });
    // As if VAULT_SETTINGS_KEYS had been replaced without keeping the key this connection was sealed with.
    const stale = Keyring.parse(`gone:${testKey()}`).seal(
      JSON.stringify({ type: 'password-safe', settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' } } }),
      'vault-connection:ps-oauth',
    );
    await pg.query('UPDATE vault.connection SET settings_sealed = $1 WHERE name = $2', [stale, 'ps-oauth']);

    const listed = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(new Set(listed.credentials.map((c) => c.vault))).toEqual(new Set(['ps']));
    expect(listed.pending).toEqual([{ vault: 'ps-oauth', reason: expect.stringMatching(/^VAULT_SETTINGS_UNREADABLE: .*VAULT_SETTINGS_KEYS/) }]);

    const { connections } = await bus.request('vault.connection.list.v1', {});
    expect(connections.find((c) => c.name === 'ps-oauth')).toMatchObject({ status: 'unreadable', settings: {} });
    expect(connections.find((c) => c.name === 'ps')).toMatchObject({ status: 'ok' });
    await expect(bus.request('vault.connection.test.v1', { target: { name: 'ps-oauth' }, user: 'alice', endpoint: 'srv-app01' })).rejects.toMatchObject({
      code: 'VAULT_SETTINGS_UNREADABLE',
    });

    // Entering the settings again seals them with the current key.
    await connect('ps-oauth', { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' });
    const again = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(again.pending).toEqual([]);
    expect(new Set(again.credentials.map((c) => c.vault))).toEqual(new Set(['ps', 'ps-oauth']));
  });

  it('checks out, checks in and rotates in API-key and OAuth mode with debug logging on, and the product logger writes no secret', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    Logger.overrideLogger(new PinoNestLogger(createLogger('vault-adapters', 'debug', stream)));
    const passwords: string[] = [];
    // sessions dropped, so both sign-ins (the API key's and the client secret's) run again while debug logs are on
    sim.state.expireAllSessions();
    const signIns = sim.state.stats().signIns;
    try {
      for (const vault of ['ps', 'ps-oauth']) {
        const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
        const admin = list.credentials.find((c) => c.vault === vault && c.username === 'Administrator');
        const leaseId = randomUUID();
        const out = await checkoutOpened(bus, { leaseId, vault, ref: admin!.ref, user: 'alice', durationMinutes: 30, reason: 'log check' });
        passwords.push(out.secret.value);
        await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'session ended' });
        passwords.push(sim.state.passwordOf(1001));
      }
    } finally {
      Logger.overrideLogger(['error']);
    }
    // the flow really ran and really logged at debug, each vault call (both check-outs' reads) included
    expect(new Set(passwords).size).toBe(3);
    expect(sim.state.stats().signIns).toMatchObject({ apiKey: signIns.apiKey + 1, oauth: signIns.oauth + 1 });
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; op?: string; vault?: string });
    const reads = parsed.filter((l) => l.level === 'debug' && l.op === 'GET Credentials/{id}');
    expect(reads.map((l) => l.vault)).toEqual(['ps', 'ps-oauth']);
    const text = lines.join('');
    for (const secret of ['demo-api-key', 'demo-secret', ...passwords]) {
      for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
        expect(text).not.toContain(form);
      }
    }
  });
});
