import { ApplianceClient } from '@openecm/appliance-sim';
import {
  BusEavesdropper,
  NATS_URL,
  createTestDatabase,
  deleteNamespaceStreams,
  launchSystem,
  sightings,
  waitFor,
  type RunningSystem,
} from '@openecm/testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A process on the same NATS with no role, subscribed to every subject of the namespace and every inbox,
 * while the whole flow runs with canary secrets: both vaults connected (Password Safe by API key and by
 * OAuth, Secret Server by API password), listed, injected, released, rotated, tested, the cache cleared and
 * filled again. Not one canary may reach it in any form.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const redisDb = 1 + ((parseInt(namespace.slice(1, 7), 16) + 11) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;

const canary = (label: string) => `${label}${randomBytes(12).toString('hex')}`;
const API_KEY = canary('CanaryApiKey');
const OAUTH_SECRET = canary('CanaryOAuth');
const SS_PASSWORD = canary('CanarySsPass');

type Seed = Record<string, Array<Record<string, unknown>>>;

/** The simulators' demo seeds with every vault secret replaced by a canary, written where the simulators read them. */
function canarySeeds(dir: string): { psSeed: string; ssSeed: string; accountPasswords: string[] } {
  const accountPasswords: string[] = [];
  const password = () => {
    const value = canary('CanaryAcct');
    accountPasswords.push(value);
    return value;
  };
  const ps = JSON.parse(readFileSync(join(__dirname, '../tools/password-safe-sim/seed/demo.json'), 'utf8')) as Seed;
  for (const registration of ps['apiRegistrations'] ?? []) registration['key'] = API_KEY;
  for (const client of ps['oauthClients'] ?? []) client['clientSecret'] = OAUTH_SECRET;
  for (const account of [...(ps['managedAccounts'] ?? []), ...(ps['domainLinkedAccounts'] ?? [])]) account['password'] = password();
  const ss = JSON.parse(readFileSync(join(__dirname, '../tools/secret-server-sim/seed/demo.json'), 'utf8')) as Seed;
  for (const user of ss['users'] ?? []) if (user['username'] === 'openecm-api') user['password'] = SS_PASSWORD;
  for (const secret of ss['secrets'] ?? []) {
    const fields = secret['fields'] as Record<string, unknown>;
    if (typeof fields['password'] === 'string') fields['password'] = password();
  }
  const psSeed = join(dir, 'password-safe.json');
  const ssSeed = join(dir, 'secret-server.json');
  writeFileSync(psSeed, JSON.stringify(ps));
  writeFileSync(ssSeed, JSON.stringify(ss));
  return { psSeed, ssSeed, accountPasswords };
}

describe('the bus, overheard during a whole flow', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let api: ApplianceClient;
  let eavesdropper: BusEavesdropper;
  let dir: string;
  let accountPasswords: string[];
  const injected: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openecm-canaries-'));
    const seeds = canarySeeds(dir);
    accountPasswords = seeds.accountPasswords;
    eavesdropper = await BusEavesdropper.listen(NATS_URL, [`${namespace}.>`, '_INBOX.>']);
    db = await createTestDatabase();
    system = await launchSystem({
      namespace,
      databaseUrl: db.url,
      redisUrl,
      natsUrl: NATS_URL,
      secretServer: true,
      env: { PS_SIM_SEED: seeds.psSeed, SS_SIM_SEED: seeds.ssSeed, RELEASE_JOB_BACKOFF_MS: '100', VAULT_RETRY_BASE_DELAY_MS: '20' },
    });
    api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
  }, 120_000);

  afterAll(async () => {
    await eavesdropper?.stop().catch(() => undefined);
    await system?.stop();
    await db?.drop();
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
    await deleteNamespaceStreams();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const passwordSafe = (auth: Record<string, string>) => ({ type: 'password-safe', settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth } });
  const secretServer = () => ({
    type: 'secret-server',
    settings: {
      endpointUrl: `${system.secretServerUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
      apiUser: 'openecm-api',
      apiPassword: SS_PASSWORD,
      includeDomainCredentialsFor: 'CORP',
      defaultDomainForLocalUsers: 'CORP',
    },
  });
  const settled = (leaseId: string) =>
    waitFor(async () => {
      const lease = await api.lease(leaseId);
      return ['rotated', 'checked-in', 'failed'].includes(lease.body.state) && lease.body;
    }, { timeoutMs: 20_000, what: `lease ${leaseId} settled` });

  it('runs the flow: connect both vaults, list, inject, release, rotate, Test Settings, clear the cache', async () => {
    for (const [name, connection] of [
      ['password-safe', passwordSafe({ mode: 'api-key', apiKey: API_KEY })],
      ['password-safe-oauth', passwordSafe({ mode: 'oauth', clientId: 'demo-client', clientSecret: OAUTH_SECRET })],
      ['secret-server', secretServer()],
    ] as const) {
      const saved = await api.call('PUT', `/api/v1/admin/vaults/${name}`, connection);
      expect(saved.status).toBe(201);
    }
    await api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: 'alice' });

    const listed = await api.listCredentials('alice', 'srv-app01');
    expect(listed.status).toBe(200);
    const pick = (vault: string, name: string) => listed.body.credentials.find((c) => c.vault === vault && c.name === name);
    const picks = [pick('password-safe', 'srv-app01\\Administrator'), pick('password-safe-oauth', 'CORP\\pra-admin'), pick('secret-server', 'srv-app01 Administrator')];
    for (const [i, credential] of picks.entries()) {
      expect(credential).toBeDefined();
      const injection = await api.inject(credential!.id, 'alice', 'srv-app01', `overheard-${i}`);
      expect(injection.status).toBe(201);
      expect(accountPasswords).toContain(injection.body.secret.value);
      injected.push(injection.body.secret.value);
      await api.release(injection.body.leaseId);
      const lease = await settled(injection.body.leaseId);
      expect(lease.state).toBe(credential!.vault === 'secret-server' ? 'checked-in' : 'rotated');
    }

    for (const connection of [passwordSafe({ mode: 'api-key', apiKey: API_KEY }), passwordSafe({ mode: 'oauth', clientId: 'demo-client', clientSecret: OAUTH_SECRET }), secretServer()]) {
      const tested = await api.call<{ result: string }>('POST', '/api/v1/admin/vaults/test', { ...connection, user: 'alice', endpoint: 'srv-app01' });
      expect(tested.body.result).toBe('ok');
    }
    for (const name of ['password-safe', 'password-safe-oauth', 'secret-server']) {
      const tested = await api.call<{ result: string }>('POST', `/api/v1/admin/vaults/${name}/test`, { user: 'alice', endpoint: 'srv-app01' });
      expect(tested.body.result).toBe('ok');
    }
    const wrong = await api.call<{ result: string; step: string }>('POST', '/api/v1/admin/vaults/test', { ...passwordSafe({ mode: 'api-key', apiKey: `${API_KEY}x` }), user: 'alice', endpoint: 'srv-app01' });
    expect(wrong.body).toMatchObject({ result: 'failed', step: 'authentication' });

    const cleared = await api.call<{ deleted: number }>('DELETE', '/api/v1/admin/token-cache');
    expect(cleared.body.deleted).toBeGreaterThan(0);
    // signed in anew: fresh sessions travel to token-cache again
    expect((await api.listCredentials('alice', 'srv-app01')).body.credentials.length).toBe(listed.body.credentials.length);
  });

  it('let the eavesdropper see the traffic where the secrets travel', async () => {
    const seen = new Set(eavesdropper.subjects().map((s) => s.slice(namespace.length + 1)));
    for (const subject of ['vault.connection.upsert.v1', 'vault.connection.test.v1', 'policy.lease.open.v1', 'vault.credentials.checkout.v1']) {
      expect(seen).toContain(subject);
    }
    expect([...seen].some((s) => s.startsWith('token.cache.'))).toBe(true);
    expect(eavesdropper.subjects().filter((s) => s.startsWith('_INBOX.')).length).toBeGreaterThan(50);
    // what the sealed answers look like: boxes, never a secret field
    const checkoutReplies = eavesdropper.messages.filter((m) => m.subject.startsWith('_INBOX.') && m.payload.includes('"alg":"hpke-x25519-sha256-aes128gcm"'));
    expect(checkoutReplies.length).toBeGreaterThanOrEqual(injected.length * 2);
  });

  it('overheard no canary in any form: API key, OAuth client secret, Secret Server password, injected passwords, session cookies', async () => {
    await eavesdropper.stop();
    expect(injected).toHaveLength(3);
    // and what only a Password Safe session holds: its cookie and the PS-Auth header built with the key
    const canaries = {
      API_KEY,
      OAUTH_SECRET,
      SS_PASSWORD,
      ...Object.fromEntries(injected.map((p, i) => [`injected #${i + 1}`, p])),
      'the session cookie': 'ASP.NET_SessionId',
      'the PS-Auth header': 'PS-Auth key=',
    };
    const names = new Map(Object.entries(canaries).map(([name, value]) => [value, name]));
    const found = sightings(eavesdropper.messages, Object.values(canaries)).map((s) => `${names.get(s.secret)} as ${s.form} in the ${s.part} of ${s.subject}`);
    expect(found).toEqual([]);
  });
});
