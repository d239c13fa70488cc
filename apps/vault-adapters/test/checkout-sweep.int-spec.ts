import { Logger, type INestApplication } from '@nestjs/common';
import { SEAL_CONTEXTS, type VaultSweepCounts } from '@openecm/contracts';
import { SecretValue } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, checkoutOpened, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey } from '@openecm/testing';
import { PinoNestLogger, createLogger } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';
import { createSecretServerSim, type SecretServerSim } from '../../../tools/secret-server-sim/src/sim';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { PasswordSafeClient, type PasswordSafeSession } from '../src/password-safe/password-safe.client';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';
/** A minute of grace: what a test makes older than that (back-dated at the simulator, or its record) is past it. */
process.env['VAULT_SWEEP_GRACE_MS'] = '60000';

const ADMINISTRATOR = { systemId: 1, accountId: 1001 };
const SVC_BACKUP = { systemId: 1, accountId: 1002 };
/** On lnx-web01, whose policy does not rotate after every release: a rotation there is one the sweep asked for. */
const ROOT = { systemId: 2, accountId: 2001 };
const TEN_MINUTES = 600_000;
const SS_API_PASSWORD = 'openecm-api-demo-pass';

describe('the vault-side sweep, vault.checkouts.sweep.v1 (simulators over HTTP, real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let cacheApp: INestApplication;
  let bus: Bus;
  let ps: PasswordSafeSim;
  let psUrl: string;
  let psOrigin: string;
  let ss: SecretServerSim;
  let ssControl: string;
  let pg: Client;
  const direct: PasswordSafeClient[] = [];
  const lines: string[] = [];
  let ssSettings: Record<string, unknown>;

  beforeAll(async () => {
    ps = createPasswordSafeSim({ idleTimeoutMs: 600_000 });
    psUrl = await ps.listen(0);
    psOrigin = new URL(psUrl).origin;
    ss = createSecretServerSim();
    const ssUrl = await ss.listen(0);
    ssControl = new URL('/_sim', ssUrl).toString();
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const psSettings = { baseUrl: psUrl, allowInsecureHttp: true, releaseDurationMinutes: 90, rotateAfterRelease: true };
    for (const [name, auth] of [
      ['ps', { mode: 'api-key', apiKey: 'demo-api-key' }],
      ['ps-oauth', { mode: 'oauth', clientId: 'demo-client', clientSecret: 'demo-secret' }],
    ] as const) {
      await bus.request('vault.connection.upsert.v1', {
        name,
        connection: await sealedForVaultAdapters(bus, { type: 'password-safe', settings: { ...psSettings, auth } }, SEAL_CONTEXTS.vaultConnection(name)),
      });
    }
    ssSettings = {
      endpointUrl: `${ssUrl}/webservices/SSWebService.asmx`,
      allowInsecureHttp: true,
      apiUser: 'openecm-api',
      apiPassword: SS_API_PASSWORD,
      defaultDomainForLocalUsers: 'CORP',
      releaseDurationMinutes: 30,
    };
    await bus.request('vault.connection.upsert.v1', {
      name: 'ss',
      connection: await sealedForVaultAdapters(bus, { type: 'secret-server', settings: ssSettings }, SEAL_CONTEXTS.vaultConnection('ss')),
    });
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    Logger.overrideLogger(new PinoNestLogger(createLogger('vault-adapters', 'debug', stream)));
  });

  afterAll(async () => {
    Logger.overrideLogger(['error']);
    await Promise.all(direct.map((c) => c.close()));
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await pg?.end();
    await db?.drop();
    await ps?.close();
    await ss?.close();
    await clearNamespaceKeys();
  });

  /** A request made at Password Safe with the API account, past OpenECM: by hand, or by a check-out whose record was lost. */
  async function requestByHand(as: { runAs: string } | 'application', target: { systemId: number; accountId: number }): Promise<number> {
    const client = new PasswordSafeClient({ baseUrl: psUrl, addressPolicy: new VaultAddressPolicy({ allowed: ['127.0.0.1'], infrastructure: [] }) });
    direct.push(client);
    const session: PasswordSafeSession =
      as === 'application'
        ? await client.signInWithOAuth({ clientId: 'demo-client', clientSecret: SecretValue.of('demo-secret') })
        : await client.signInWithApiKey({ apiKey: SecretValue.of('demo-api-key'), runAs: as.runAs });
    return client.createRequest(session, { ...target, durationMinutes: 120, reason: 'by hand' });
  }

  async function backdate(requestId: number, ms = TEN_MINUTES): Promise<void> {
    const res = await fetch(`${psOrigin}/_sim/requests/${requestId}/backdate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) });
    expect(res.status).toBe(200);
  }

  const sweep = async (leaseIds: string[]): Promise<Record<string, VaultSweepCounts>> => {
    const reply = await bus.request('vault.checkouts.sweep.v1', { leaseIds });
    return Object.fromEntries(reply.vaults.map((v) => [v.vault, v]));
  };
  const counts = (c: Partial<VaultSweepCounts>) => ({ held: 0, owned: 0, young: 0, checkedIn: 0, failed: 0, error: null, ...c });
  const requestOf = async (leaseId: string): Promise<number> => {
    const sealed = await pg.query(`SELECT request_sealed FROM vault.checkout WHERE lease_id = $1`, [leaseId]);
    expect(sealed.rows[0].request_sealed).toMatch(/^v1\./);
    const open = ps.state.activeRequests().filter((r) => r.owner === 'user:11');
    // the lease's request is the one the simulator shows for its account
    return open.find((r) => r.accountId === ADMINISTRATOR.accountId)?.requestId ?? -1;
  };
  const ssSecret = async (id: number) => (await (await fetch(`${ssControl}/secrets/${id}`)).json()) as { checkedOut: boolean; checkedOutBy: string | null; rotations: number };
  const ageRecord = (leaseId: string) => pg.query(`UPDATE vault.checkout SET created_at = now() - interval '10 minutes' WHERE lease_id = $1`, [leaseId]);
  const stateOf = async (leaseId: string) => (await pg.query(`SELECT state FROM vault.checkout WHERE lease_id = $1`, [leaseId])).rows[0]?.state as string | undefined;

  const held = randomUUID();
  let heldRequest = 0;
  let orphan = 0;
  let fresh = 0;

  it('checks in an orphan request older than the grace period, rotated; leaves a held lease and a fresh request alone', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const admin = list.credentials.find((c) => c.vault === 'ps' && c.username === 'Administrator');
    await checkoutOpened(bus, { leaseId: held, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 90, reason: 'held' });
    heldRequest = await requestOf(held);
    await backdate(heldRequest);
    orphan = await requestByHand({ runAs: 'alice' }, ROOT);
    await backdate(orphan);
    fresh = await requestByHand({ runAs: 'alice' }, SVC_BACKUP);
    const rotationsBefore = ps.state.rotationsOf(ROOT.accountId);

    const first = await sweep([held]);
    expect(first['ps']).toEqual(counts({ vault: 'ps', held: 3, owned: 1, young: 1, checkedIn: 1 }));
    expect(ps.state.requestStatus(orphan)).toEqual({ status: 'released', rotateOnCheckin: true });
    expect(ps.state.rotationsOf(ROOT.accountId)).toBe(rotationsBefore + 1);
    expect(ps.state.requestStatus(heldRequest)?.status).toBe('open');
    expect(ps.state.requestStatus(fresh)?.status).toBe('open');
    expect(ps.state.rotationsOf(ADMINISTRATOR.accountId)).toBe(0);
  });

  it('a second sweep finds nothing more to do', async () => {
    const second = await sweep([held]);
    expect(second['ps']).toEqual(counts({ vault: 'ps', held: 2, owned: 1, young: 1 }));
    expect(ps.state.requestStatus(heldRequest)?.status).toBe('open');
  });

  it("in OAuth mode sweeps the application's requests, and two sweeps at once check one orphan in once", async () => {
    const appOrphan = await requestByHand('application', ROOT);
    await backdate(appOrphan);
    const rotationsBefore = ps.state.rotationsOf(ROOT.accountId);
    const [a, b] = await Promise.all([sweep([held]), sweep([held])]);
    expect((a['ps-oauth']?.held ?? 0) + (b['ps-oauth']?.held ?? 0)).toBeGreaterThanOrEqual(1);
    expect([a['ps-oauth']?.failed, b['ps-oauth']?.failed]).toEqual([0, 0]);
    expect(ps.state.requestStatus(appOrphan)?.status).toBe('released');
    expect(ps.state.rotationsOf(ROOT.accountId)).toBe(rotationsBefore + 1);
    expect((await sweep([held]))['ps-oauth']).toEqual(counts({ vault: 'ps-oauth' }));
  });

  it('a fresh request past the grace period is checked in by the next sweep', async () => {
    await backdate(fresh);
    expect((await sweep([held]))['ps']).toEqual(counts({ vault: 'ps', held: 2, owned: 1, checkedIn: 1 }));
    expect(ps.state.requestStatus(fresh)?.status).toBe('released');
  });

  it('once no lease holds it, the recorded request is checked in and its record marked so', async () => {
    // a record inside the grace period may be a check-out in flight that reused the request: left alone
    expect((await sweep([]))['ps']).toEqual(counts({ vault: 'ps', held: 1, young: 1 }));
    await ageRecord(held);
    expect((await sweep([]))['ps']).toEqual(counts({ vault: 'ps', held: 1, checkedIn: 1 }));
    expect(ps.state.requestStatus(heldRequest)?.status).toBe('released');
    expect(await stateOf(held)).toBe('in');
    // the lease's own release comes later: nothing is left, and it counts as checked in
    await expect(bus.request('vault.credentials.checkin.v1', { leaseId: held, rotate: true, reason: 'late' })).resolves.toEqual({ checkedIn: true, rotationRequested: true });
  });

  it("a held lease's check-out whose answer was lost (no request id recorded) owns what its user holds of its account", async () => {
    const lost = randomUUID();
    const list = await bus.request('vault.credentials.list.v1', { user: 'bob', endpoint: 'srv-app01' });
    const admin = list.credentials.find((c) => c.vault === 'ps' && c.username === 'Administrator');
    ps.state.addFault({ method: 'POST', path: 'Requests', status: 503, afterHandler: true, count: 20 });
    await expect(checkoutOpened(bus, { leaseId: lost, vault: 'ps', ref: admin!.ref, user: 'bob', durationMinutes: 30, reason: 'lost' })).rejects.toMatchObject({ code: 'VAULT_UNAVAILABLE' });
    ps.state.clearFaults();
    expect(await stateOf(lost)).toBe('pending');
    await ageRecord(lost);
    const bobs = ps.state.activeRequests().filter((r) => r.owner === 'user:12');
    expect(bobs).toHaveLength(1);
    await backdate((bobs[0] as { requestId: number }).requestId);
    expect((await sweep([lost]))['ps']).toEqual(counts({ vault: 'ps', held: 1, owned: 1 }));
    expect((await sweep([]))['ps']).toEqual(counts({ vault: 'ps', held: 1, checkedIn: 1 }));
    expect(ps.state.activeRequests().filter((r) => r.owner === 'user:12')).toEqual([]);
  });

  it('Secret Server: a secret left checked out by OpenECM for no held lease is checked in, after the grace period', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const deploy = list.credentials.find((c) => c.vault === 'ss' && c.name.includes('svc-deploy'));
    const leaseId = randomUUID();
    await checkoutOpened(bus, { leaseId, vault: 'ss', ref: deploy!.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    expect(await ssSecret(105)).toMatchObject({ checkedOut: true, checkedOutBy: 'CORP\\alice' });
    const rotations = (await ssSecret(105)).rotations;

    expect((await sweep([leaseId]))['ss']).toEqual(counts({ vault: 'ss', held: 1, owned: 1 }));
    // no lease holds it, but its record is inside the grace period: a check-out in flight
    expect((await sweep([]))['ss']).toEqual(counts({ vault: 'ss', held: 1, young: 1 }));
    await ageRecord(leaseId);
    expect((await sweep([]))['ss']).toEqual(counts({ vault: 'ss', held: 1, checkedIn: 1 }));
    expect(await ssSecret(105)).toMatchObject({ checkedOut: false, rotations: rotations + 1 });
    expect(await stateOf(leaseId)).toBe('in');
    expect((await sweep([]))['ss']).toEqual(counts({ vault: 'ss' }));
  });

  it("Secret Server REST: the API account's check-out is swept; a check-out of the same secret by someone else is not OpenECM's to end", async () => {
    await bus.request('vault.connection.upsert.v1', {
      name: 'ss-rest',
      connection: await sealedForVaultAdapters(bus, { type: 'secret-server', settings: { ...ssSettings, apiMode: 'rest' } }, SEAL_CONTEXTS.vaultConnection('ss-rest')),
    });
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const deploy = (vault: string) => list.credentials.find((c) => c.vault === vault && c.name.includes('svc-deploy'));
    const api = randomUUID();
    await checkoutOpened(bus, { leaseId: api, vault: 'ss-rest', ref: deploy('ss-rest')!.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    expect(await ssSecret(105)).toMatchObject({ checkedOut: true, checkedOutBy: 'openecm-api' });
    expect((await sweep([api]))['ss-rest']).toEqual(counts({ vault: 'ss-rest', held: 1, owned: 1 }));
    await ageRecord(api);
    expect((await sweep([]))['ss-rest']).toEqual(counts({ vault: 'ss-rest', held: 1, checkedIn: 1 }));
    expect(await ssSecret(105)).toMatchObject({ checkedOut: false });

    // now alice holds it through the SOAP connection: the REST records still name the secret, but its holder is not the API account
    const alice = randomUUID();
    await checkoutOpened(bus, { leaseId: alice, vault: 'ss', ref: deploy('ss')!.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    const both = await sweep([alice]);
    expect(both['ss-rest']).toEqual(counts({ vault: 'ss-rest' }));
    expect(both['ss']).toEqual(counts({ vault: 'ss', held: 1, owned: 1 }));
    expect(await ssSecret(105)).toMatchObject({ checkedOut: true, checkedOutBy: 'CORP\\alice' });
    await bus.request('vault.credentials.checkin.v1', { leaseId: alice, rotate: false, reason: 'done' });
  });

  it('logs one line per vault per sweep with counts only, never a request id', () => {
    const sweeps = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'vault sweep');
    expect(sweeps.length).toBeGreaterThan(10);
    const allowed = ['level', 'time', 'service', 'context', 'msg', 'vault', 'held', 'owned', 'young', 'checkedIn', 'failed', 'error', 'identities', 'errors', 'pid', 'hostname', 'trace_id', 'span_id', 'trace_flags'];
    for (const line of sweeps) expect(Object.keys(line).filter((k) => !allowed.includes(k))).toEqual([]);
    const ids = [heldRequest, orphan, fresh].map(String);
    for (const line of lines.filter((l) => /request/i.test(l))) {
      for (const id of ids) expect(line).not.toMatch(new RegExp(`Requests/${id}|"${id}"`));
    }
  });
});
