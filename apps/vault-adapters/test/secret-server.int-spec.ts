import { ConsoleLogger, Logger, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OpenEcmError, SEAL_CONTEXTS, SecretServerSettings, type VaultCredential } from '@openecm/contracts';
import { natsServerOptions, type Bus } from '@openecm/messaging';
import { ProblemFilter } from '@openecm/service-kit';
import { REDIS_URL, checkoutOpened, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus } from '@openecm/testing';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { z } from 'zod';
import { BUILTIN_TEMPLATES, createSecretServerSim, type SecretServerSim, type SimSeed } from '../../../tools/secret-server-sim/src/sim';
import type { ConnectionOf } from '../src/connections/connections.service';
import type { Checkout } from '../src/credentials/checkout.repository';
import { VAULT_ADAPTERS, type HeldSecret } from '../src/credentials/vault-adapter';
import { PasswordSafeAdapter } from '../src/password-safe/password-safe.adapter';
import { API_IDENTITY, DENIED_REASON, PENDING_REASON, REVOKED_REASON, SecretServerAdapter } from '../src/secret-server/secret-server.adapter';
import { SealingKeys } from '../src/sealing/sealing-keys';
import { VaultSessionCache } from '../src/sessions/vault-session-cache';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { vaultAdaptersTestEnv } from '@openecm/vault-sdk/conformance';

// This suite edits vault.connection behind the service's back and tests token-cache's own contract, so both
// in-process caches are off here (test/vault-caches.int-spec.ts covers them).
vaultAdaptersTestEnv();
/** The simulators listen on loopback, which a vault URL may name only when allowed. */
const loopbackAllowed = new VaultAddressPolicy({ allowed: ['127.0.0.1'], infrastructure: [] });

const API_PASSWORD = 'openecm-api-demo-pass';
const USER_PASSWORDS = ['alice-demo-pass', 'bob-demo-pass', 'dave-demo-pass', 'corp-erin-demo-pass', 'erin-local-demo-pass'];
type Connection = ConnectionOf<'secret-server'>;
type SettingsInput = Partial<z.input<typeof SecretServerSettings>>;

/**
 * Whether AppModule provides SecretServerAdapter itself. Until it does, the app under test gets it added to
 * VAULT_ADAPTERS by an override, so the NATS tests run either way.
 */
const WIRED = readFileSync(join(__dirname, '../src/adapters.ts'), 'utf8').includes('SecretServerAdapter');
let overrideAdapter: SecretServerAdapter | undefined;

/** startTestApp, plus the override that adds the Secret Server adapter while AppModule lacks it. */
async function startVaultApp(module: Type<unknown>): Promise<INestApplication> {
  const builder = Test.createTestingModule({ imports: [module] });
  if (!WIRED) {
    builder.overrideProvider(VAULT_ADAPTERS).useFactory({
      factory: (ps: PasswordSafeAdapter, cache: VaultSessionCache) => {
        overrideAdapter = new SecretServerAdapter(cache, loopbackAllowed);
        return [ps, overrideAdapter];
      },
      inject: [PasswordSafeAdapter, VaultSessionCache],
    });
  }
  const app = (await builder.compile()).createNestApplication({ logger: ['error'] });
  app.useGlobalFilters(new ProblemFilter());
  app.connectMicroservice(natsServerOptions('vault-adapters'), { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  return app;
}

let sim: SecretServerSim;
let baseUrl: string;
let soapUrl: string;
let controlUrl: string;
let bus: Bus;
let sessions: VaultSessionCache;
let adapter: SecretServerAdapter;
let vaultApp: INestApplication;
let cacheApp: INestApplication;
let db: { url: string; drop: () => Promise<void> };
let pg: Client;
let redis: Redis;
const extraSims: SecretServerSim[] = [];
const extraAdapters: SecretServerAdapter[] = [];
const extraBuses: Bus[] = [];

function connection(name: string, settings: SettingsInput = {}, endpointUrl = soapUrl): Connection {
  return {
    name,
    type: 'secret-server',
    settings: SecretServerSettings.parse({ endpointUrl, apiUser: 'openecm-api', apiPassword: API_PASSWORD, releaseDurationMinutes: 45, allowInsecureHttp: true, ...settings }),
  };
}

async function control<T>(path: string, body?: unknown, url = controlUrl): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`simulator control ${path} answered ${res.status}`);
  return (await res.json()) as T;
}
const trust = (user: string, action: 'approve' | 'deny' | 'revoke') => control(`/trust/${encodeURIComponent(user)}/${action}`, {});

async function startSim(seed?: SimSeed): Promise<{ sim: SecretServerSim; soapUrl: string; controlUrl: string; baseUrl: string }> {
  const s = createSecretServerSim(seed ? { seed } : {});
  extraSims.push(s);
  const url = await s.listen(0);
  return { sim: s, baseUrl: url, soapUrl: `${url}/webservices/SSWebService.asmx`, controlUrl: new URL('/_sim', url).toString() };
}

function newAdapter(): SecretServerAdapter {
  const b = testBus();
  extraBuses.push(b);
  const a = new SecretServerAdapter(new VaultSessionCache(b, new SealingKeys()), loopbackAllowed);
  extraAdapters.push(a);
  return a;
}

const names = (credentials: Array<{ name: string }>) => credentials.map((c) => c.name).sort();
const listed = async (conn: Connection, user: string, endpoint: string): Promise<VaultCredential[]> => {
  const answer = await adapter.listOrPending(conn, user, endpoint);
  if (!('credentials' in answer)) throw new Error(`expected a list, got pending: ${answer.pending.reason}`);
  return answer.credentials;
};
const failure = (work: Promise<unknown>): Promise<OpenEcmError> =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(OpenEcmError);
      return e as OpenEcmError;
    },
  );

async function tokenCacheEntries(): Promise<Array<{ key: string; value: string }>> {
  const ns = process.env['OPENECM_NAMESPACE'] ?? '';
  const out: Array<{ key: string; value: string }> = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${ns}*token-cache*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) out.push({ key, value: (await redis.get(key)) ?? '' });
  } while (cursor !== '0');
  return out;
}

/** What the cache holds for an identity, read through the cache itself (a miss fails). */
function cachedValue(vault: string, identity: string): Promise<string> {
  return sessions.get(vault, identity, () => Promise.reject(new Error(`nothing cached for ${identity}`)));
}

beforeAll(async () => {
  sim = createSecretServerSim();
  baseUrl = await sim.listen(0);
  soapUrl = `${baseUrl}/webservices/SSWebService.asmx`;
  controlUrl = new URL('/_sim', baseUrl).toString();
  db = await createTestDatabase();
  process.env['DATABASE_URL'] = db.url;
  const vault = await import('../src/app.module');
  const cache = await import('../../token-cache/src/app.module');
  vaultApp = await startVaultApp(vault.AppModule);
  ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
  bus = testBus();
  sessions = new VaultSessionCache(bus, new SealingKeys());
  adapter = new SecretServerAdapter(sessions, loopbackAllowed);
  pg = new Client({ connectionString: db.url });
  await pg.connect();
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await adapter?.onApplicationShutdown();
  await Promise.all(extraAdapters.map((a) => a.onApplicationShutdown()));
  await Promise.all(extraBuses.map((b) => b.onApplicationShutdown()));
  await bus?.onApplicationShutdown();
  await vaultApp?.close();
  await overrideAdapter?.onApplicationShutdown();
  await cacheApp?.close();
  await pg?.end();
  await db?.drop();
  redis?.disconnect();
  await sim?.close();
  await Promise.all(extraSims.map((s) => s.close()));
  await clearNamespaceKeys();
});

describe('SecretServerAdapter, SOAP mode (simulator over HTTP, token-cache over real NATS and Redis)', () => {
  beforeAll(() => sim.state.reset());

  it('lists, as the impersonated user, the machine secrets whose Machine field is the endpoint: names only', async () => {
    const before = sim.state.stats();
    const alice = await listed(connection('ss-list'), 'CORP\\alice', 'SRV-APP01');
    expect(names(alice)).toEqual(['srv-app01 Administrator', 'srv-app01 breakglass (comment)', 'srv-app01 svc-deploy (check-out)']);
    expect(alice.find((c) => c.name === 'srv-app01 Administrator')).toEqual({
      vault: 'ss-list',
      ref: { secretId: 101, username: 'Administrator' },
      name: 'srv-app01 Administrator',
      username: 'Administrator',
      domain: null,
      scope: 'machine',
      releaseDurationMinutes: 45,
      rotateAfterRelease: false,
    });
    expect(alice.every((c) => c.scope === 'machine')).toBe(true);
    expect(JSON.stringify(alice)).not.toMatch(/Demo-/);
    // listing reads no restricted secret: nothing checked out, no comment asked for
    const after = sim.state.stats();
    expect(after.checkedOutSecrets).toBe(0);
    expect(after.soapCalls['GetSecret'] - (before.soapCalls['GetSecret'] ?? 0)).toBe(1);
    const deploy = await control<{ accessLog: unknown[] }>('/secrets/105');
    expect(deploy.accessLog).toEqual([]);
    // a deleted secret and another machine are not listed; an unknown endpoint is an empty list
    expect(await listed(connection('ss-list'), 'CORP\\alice', 'srv-old01')).toEqual([]);
    expect(await listed(connection('ss-list'), 'CORP\\alice', 'nowhere')).toEqual([]);
  });

  it('adds the domain secrets of every configured domain (comma-separated or a list), as that user may see them', async () => {
    for (const include of ['CORP, LAB', ['corp', 'LAB', 'CORP']]) {
      const alice = await listed(connection('ss-domains', { includeDomainCredentialsFor: include }), 'CORP\\alice', 'srv-app01');
      const domainOnes = alice.filter((c) => c.scope === 'domain');
      expect(names(domainOnes)).toEqual(['CORP pra-admin', 'LAB lab-admin']);
      expect(domainOnes.find((c) => c.username === 'pra-admin')).toMatchObject({ domain: 'CORP', ref: { secretId: 103, username: 'pra-admin', domain: 'CORP' } });
      expect(alice.filter((c) => c.scope === 'machine')).toHaveLength(3);
    }
    const onlyLab = await listed(connection('ss-domains-lab', { includeDomainCredentialsFor: 'LAB' }), 'CORP\\alice', 'srv-app01');
    expect(names(onlyLab.filter((c) => c.scope === 'domain'))).toEqual(['LAB lab-admin']);
    // Secret Server filters per user: dave is no Domain Admin, so no domain credentials for him
    const dave = await listed(connection('ss-domains', { includeDomainCredentialsFor: 'CORP, LAB' }), 'dave', 'srv-app01');
    expect(dave.filter((c) => c.scope === 'domain')).toEqual([]);
    expect(dave).toHaveLength(3);
  });

  it('maps user names: the three forms, the default domain for bare users, and fall-back to the local account', async () => {
    const plain = connection('ss-map-plain');
    const withDefault = connection('ss-map-default', { defaultDomainForLocalUsers: 'CORP' });
    const withFallBack = connection('ss-map-fallback', { fallBackToLocalAccount: true });
    const both = connection('ss-map-both', { defaultDomainForLocalUsers: 'CORP', fallBackToLocalAccount: true });

    // DOMAIN\user and user@fqdn both reach CORP\alice
    expect(names(await listed(plain, 'CORP\\alice', 'srv-app01'))).toHaveLength(3);
    expect(names(await listed(plain, 'alice@corp.example', 'srv-app01'))).toHaveLength(3);
    // a bare name is a local user unless a default domain is set
    expect((await failure(adapter.listOrPending(plain, 'alice', 'srv-app01'))).code).toBe('VAULT_FORBIDDEN');
    expect(names(await listed(withDefault, 'alice', 'srv-app01'))).toHaveLength(3);
    // erin exists twice: the local erin sees only her own SSH secret, CORP\erin the shared root one
    expect(names(await listed(plain, 'erin', 'lnx-web01'))).toEqual(['lnx-web01 erin']);
    expect(names(await listed(withDefault, 'erin', 'lnx-web01'))).toEqual(['lnx-web01 root']);
    expect(names(await listed(withDefault, '.\\erin', 'lnx-web01'))).toEqual(['lnx-web01 erin']);
    expect(names(await listed(plain, 'CORP\\erin', 'lnx-web01'))).toEqual(['lnx-web01 root']);
    // dave is local only: a domain name for him fails unless fall-back is on
    const missing = await failure(adapter.listOrPending(plain, 'CORP\\dave', 'srv-app01'));
    expect(missing).toMatchObject({ code: 'VAULT_FORBIDDEN' });
    expect(missing.message).toContain('tried CORP\\dave');
    expect(names(await listed(withFallBack, 'CORP\\dave', 'srv-app01'))).toHaveLength(3);
    expect(names(await listed(withFallBack, 'dave@corp.example', 'srv-app01'))).toHaveLength(3);
    expect((await failure(adapter.listOrPending(withDefault, 'dave', 'srv-app01'))).message).toContain('tried CORP\\dave');
    expect(names(await listed(both, 'dave', 'srv-app01'))).toHaveLength(3);
    // fall-back is for users who do not exist, never for a found user's refusal
    const carol = await adapter.listOrPending(both, 'carol', 'srv-app01');
    expect(carol).toEqual({ pending: { reason: DENIED_REASON } });
  });

  it('sends the organization when impersonating only with includeDefaultOrganization', async () => {
    const org = await startSim({
      organization: 'ACME',
      domains: [{ id: 1, name: 'CORP' }],
      users: [
        { id: 1, username: 'api', password: 'api-pass-org', webServicesImpersonate: true },
        { id: 2, username: 'olga', domain: 'CORP', password: 'olga-pass' },
      ],
      secrets: [{ id: 301, name: 'app01 admin', template: 'Windows Account', fields: { machine: 'app01', username: 'admin', password: 'Org-Pass-1' }, permissions: { users: ['CORP\\olga'] } }],
      trust: [{ apiUser: 'api', user: 'CORP\\olga', state: 'approved' }],
    });
    const base = { apiUser: 'api', apiPassword: 'api-pass-org', apiOrganization: 'ACME' };
    const without = connection('ss-org-off', base, org.soapUrl);
    const withOrg = connection('ss-org-on', { ...base, includeDefaultOrganization: true }, org.soapUrl);
    expect(await failure(adapter.listOrPending(without, 'CORP\\olga', 'app01'))).toMatchObject({ code: 'VAULT_FORBIDDEN' });
    expect(names(await listed(withOrg, 'CORP\\olga', 'app01'))).toEqual(['app01 admin']);
    // the API account always names its organization: without it, it cannot sign in
    expect(await failure(adapter.listOrPending(connection('ss-org-none', { apiUser: 'api', apiPassword: 'api-pass-org' }, org.soapUrl), 'CORP\\olga', 'app01'))).toMatchObject({
      code: 'VAULT_AUTH_FAILED',
    });
  });

  it('reads renamed Machine / Domain fields, matches them case-insensitively and exactly, whatever the server matched', async () => {
    const custom = await startSim({
      domains: [{ id: 1, name: 'CORP' }],
      templates: [
        ...BUILTIN_TEMPLATES,
        { id: 7001, name: 'Server Login', fields: [{ id: 1, name: 'Host', slug: 'host' }, { id: 2, name: 'Username', slug: 'username' }, { id: 3, name: 'Password', slug: 'password', isPassword: true }] },
        { id: 7002, name: 'AD Login', fields: [{ id: 11, name: 'AD Domain', slug: 'ad-domain' }, { id: 12, name: 'Username', slug: 'username' }, { id: 13, name: 'Password', slug: 'password', isPassword: true }] },
      ],
      users: [
        { id: 1, username: 'api', password: 'api-pass-c', webServicesImpersonate: true },
        { id: 2, username: 'ops', domain: 'CORP', password: 'ops-pass' },
      ],
      folders: [{ id: 1, name: 'All', permissions: { users: ['CORP\\ops', 'api'] } }],
      secrets: [
        { id: 201, name: 'web01 admin', template: 'Server Login', folderId: 1, fields: { host: 'WEB01', username: 'admin', password: 'P-201' } },
        { id: 202, name: 'web012 admin', template: 'Server Login', folderId: 1, fields: { host: 'web012', username: 'admin', password: 'P-202' } },
        { id: 203, name: 'web01 windows', template: 'Windows Account', folderId: 1, fields: { machine: 'web01', username: 'win', password: 'P-203' } },
        { id: 204, name: 'CORP ops', template: 'AD Login', folderId: 1, fields: { 'ad-domain': 'corp', username: 'corp-ops', password: 'P-204' } },
        { id: 205, name: 'DMZ ops', template: 'AD Login', folderId: 1, fields: { 'ad-domain': 'DMZ', username: 'dmz-ops', password: 'P-205' } },
        { id: 206, name: 'LAB ops', template: 'AD Login', folderId: 1, fields: { 'ad-domain': 'LAB', username: 'lab-ops', password: 'P-206' } },
      ],
      trust: [{ apiUser: 'api', user: 'CORP\\ops', state: 'approved' }],
    });
    const renamed = connection('ss-renamed', { apiUser: 'api', apiPassword: 'api-pass-c', machineField: 'Host', domainField: 'AD Domain', includeDomainCredentialsFor: 'CORP, DMZ' }, custom.soapUrl);
    const got = await listed(renamed, 'CORP\\ops', 'web01');
    expect(names(got)).toEqual(['CORP ops', 'DMZ ops', 'web01 admin']);
    expect(got.find((c) => c.name === 'CORP ops')).toMatchObject({ scope: 'domain', domain: 'corp', username: 'corp-ops' });
    expect(got.find((c) => c.name === 'web01 admin')).toMatchObject({ scope: 'machine', username: 'admin', domain: null });
    // the default field names find only the stock template's secret
    expect(names(await listed(connection('ss-default-fields', { apiUser: 'api', apiPassword: 'api-pass-c' }, custom.soapUrl), 'CORP\\ops', 'web01'))).toEqual(['web01 windows']);

    // a server whose field search matches loosely: the returned field is checked, so web012 stays out
    const summary = (id: number, name: string) =>
      `<SecretSummary><SecretId>${id}</SecretId><SecretName>${name}</SecretName><SecretTypeName>Server Login</SecretTypeName><SecretTypeId>7001</SecretTypeId><FolderId>1</FolderId><IsRestricted>false</IsRestricted></SecretSummary>`;
    custom.sim.state.addFault({
      count: 1,
      status: 200,
      operation: 'SearchSecretsByFieldValue',
      contentType: 'text/xml; charset=utf-8',
      body: `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SearchSecretsByFieldValueResponse xmlns="urn:thesecretserver.com"><SearchSecretsByFieldValueResult><Errors /><SecretSummaries>${summary(201, 'web01 admin')}${summary(202, 'web012 admin')}</SecretSummaries></SearchSecretsByFieldValueResult></SearchSecretsByFieldValueResponse></soap:Body></soap:Envelope>`,
    });
    const loose = await listed(connection('ss-loose', { apiUser: 'api', apiPassword: 'api-pass-c', machineField: 'Host' }, custom.soapUrl), 'CORP\\ops', 'web01');
    expect(names(loose)).toEqual(['web01 admin']);
  });

  describe('delegated trust', () => {
    beforeAll(() => sim.state.reset());

    it('pending: the answer is pending with the approve URL (kept out of every message); after approval it lists', async () => {
      const conn = connection('ss-trust', { defaultDomainForLocalUsers: 'CORP' });
      const answer = await adapter.listOrPending(conn, 'bob', 'srv-app01');
      expect(answer).toEqual({ pending: { reason: PENDING_REASON, approveUrl: `${baseUrl}/ApplicationAccess.aspx?request=demo-bob-request` } });
      const error = await failure(adapter.list(conn, 'bob', 'srv-app01'));
      expect(error.code).toBe('VAULT_APPROVAL_PENDING');
      expect(error.message).not.toContain('demo-bob-request');
      // the page the URL leads to exists and names the request
      const page = await fetch(`${baseUrl}/ApplicationAccess.aspx?request=demo-bob-request`);
      expect(await page.text()).toContain('pending');

      await trust('CORP\\bob', 'approve');
      expect(names(await listed(conn, 'bob', 'srv-app01'))).toEqual(['srv-app01 Administrator']);
    });

    it('a user never asked before gets a new approval request; denying it gives the clear reason and nothing listed', async () => {
      const conn = connection('ss-trust');
      const first = await adapter.listOrPending(conn, 'CORP\\frank', 'srv-app01');
      expect(first).toEqual({ pending: { reason: PENDING_REASON, approveUrl: expect.stringMatching(/\/ApplicationAccess\.aspx\?request=[0-9a-f-]{36}$/) } });
      expect(sim.state.stats().impersonate.pendingCreated).toBe(1);
      await trust('CORP\\frank', 'deny');
      expect(await adapter.listOrPending(conn, 'CORP\\frank', 'srv-app01')).toEqual({ pending: { reason: DENIED_REASON } });
      const error = await failure(adapter.list(conn, 'CORP\\frank', 'srv-app01'));
      expect(error).toMatchObject({ code: 'VAULT_FORBIDDEN', message: `Secret Server: ${DENIED_REASON}` });
      // denied and revoked in the seed
      expect(await adapter.listOrPending(conn, 'CORP\\carol', 'srv-app01')).toEqual({ pending: { reason: DENIED_REASON } });
      expect(await adapter.listOrPending(conn, 'CORP\\grace', 'srv-app01')).toEqual({ pending: { reason: REVOKED_REASON } });
    });

    it('revoking kills the cached impersonated token: the next list gives the reason and nothing; re-approval lists again', async () => {
      const conn = connection('ss-revoke');
      expect(await listed(conn, 'CORP\\alice', 'srv-app01')).toHaveLength(3);
      await trust('CORP\\alice', 'revoke');
      expect(await adapter.listOrPending(conn, 'CORP\\alice', 'srv-app01')).toEqual({ pending: { reason: REVOKED_REASON } });
      await trust('CORP\\alice', 'approve');
      expect(await listed(conn, 'CORP\\alice', 'srv-app01')).toHaveLength(3);
    });

    it('an API account without "Web Services Impersonate" is refused, with the vault saying why', async () => {
      const conn = connection('ss-noimp', { apiUser: 'svc-noimpersonate', apiPassword: 'svc-noimpersonate-demo-pass' });
      const error = await failure(adapter.listOrPending(conn, 'CORP\\alice', 'srv-app01'));
      expect(error.code).toBe('VAULT_FORBIDDEN');
      expect(error.message).toContain('Web Services Impersonate');
    });
  });

  describe('tokens', () => {
    beforeAll(() => sim.state.reset());

    it('caches the API and user tokens: a second list signs in nowhere', async () => {
      const conn = connection('ss-cache');
      await listed(conn, 'CORP\\alice', 'srv-app01');
      const before = sim.state.stats();
      await listed(conn, 'CORP\\alice', 'srv-app01');
      await listed(conn, 'dave', 'srv-app01');
      const after = sim.state.stats();
      expect(after.authenticate.total - before.authenticate.total).toBe(0);
      expect(after.impersonate.byUser['CORP\\alice']).toBe(before.impersonate.byUser['CORP\\alice']);
    });

    it('when tokens expire (server side, or by the clock), re-authenticates once and carries on', async () => {
      const conn = connection('ss-expiry');
      await listed(conn, 'CORP\\alice', 'srv-app01');
      for (const expire of [() => control('/tokens/expire', {}), () => control('/clock', { advanceMs: 21 * 60 * 1000 })]) {
        const before = sim.state.stats();
        await expire();
        expect(await listed(conn, 'CORP\\alice', 'srv-app01')).toHaveLength(3);
        const after = sim.state.stats();
        expect(after.authenticate.total - before.authenticate.total).toBe(1);
        expect((after.impersonate.byUser['CORP\\alice'] ?? 0) - (before.impersonate.byUser['CORP\\alice'] ?? 0)).toBe(1);
        // and the renewed tokens are cached again
        const settled = sim.state.stats();
        await listed(conn, 'CORP\\alice', 'srv-app01');
        expect(sim.state.stats().authenticate.total).toBe(settled.authenticate.total);
      }
    });

    it('single flight in one instance: 50 concurrent lists for one cold user authenticate and impersonate once', async () => {
      const conn = connection('ss-flight-one', { defaultDomainForLocalUsers: 'CORP' });
      const before = sim.state.stats();
      const lists = await Promise.all(Array.from({ length: 50 }, () => adapter.listOrPending(conn, 'alice', 'srv-app01')));
      for (const l of lists) expect('credentials' in l && l.credentials.length).toBe(3);
      const after = sim.state.stats();
      expect(after.authenticate.total - before.authenticate.total).toBe(1);
      expect((after.impersonate.byUser['CORP\\alice'] ?? 0) - (before.impersonate.byUser['CORP\\alice'] ?? 0)).toBe(1);
    });

    it('single flight across two instances: 50 concurrent lists for one cold user authenticate once', async () => {
      const conn = connection('ss-flight-two', { defaultDomainForLocalUsers: 'CORP' });
      const a = newAdapter();
      const b = newAdapter();
      const before = sim.state.stats();
      const lists = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).listOrPending(conn, 'alice', 'srv-app01')));
      for (const l of lists) expect('credentials' in l && l.credentials.length).toBe(3);
      const after = sim.state.stats();
      expect(after.authenticate.total - before.authenticate.total).toBe(1);
      expect((after.impersonate.byUser['CORP\\alice'] ?? 0) - (before.impersonate.byUser['CORP\\alice'] ?? 0)).toBe(1);
    });

    it('keeps tokens in Redis only sealed, under hashed keys, for their lifetime minus a margin', async () => {
      const conn = connection('ss-redis');
      await listed(conn, 'CORP\\alice', 'srv-app01');
      const apiToken = await cachedValue('ss-redis', API_IDENTITY);
      const aliceToken = await cachedValue('ss-redis', 'CORP\\alice');
      expect(apiToken).not.toBe(aliceToken);
      const entries = await tokenCacheEntries();
      const mine = entries.filter((e) => e.key.includes(':ss-redis:'));
      expect(mine).toHaveLength(2);
      const everything = JSON.stringify(entries);
      for (const secret of [apiToken, aliceToken, API_PASSWORD, ...USER_PASSWORDS]) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/alice/i);
      expect(everything).not.toContain(API_IDENTITY);
      for (const entry of mine) {
        const ttl = await redis.ttl(entry.key);
        // 20 minutes minus a minute's margin; reads may slide it to the configured session TTL, never beyond
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(1140);
      }
    });

    it('reset drops the connection\'s tokens; the next list signs in anew', async () => {
      const conn = connection('ss-reset');
      await listed(conn, 'CORP\\alice', 'srv-app01');
      expect((await tokenCacheEntries()).filter((e) => e.key.includes(':ss-reset:'))).toHaveLength(2);
      await adapter.reset('ss-reset', 'everywhere');
      expect((await tokenCacheEntries()).filter((e) => e.key.includes(':ss-reset:'))).toHaveLength(0);
      const before = sim.state.stats().authenticate.total;
      await listed(conn, 'CORP\\alice', 'srv-app01');
      expect(sim.state.stats().authenticate.total - before).toBe(1);
    });
  });

  describe('check-out and check-in', () => {
    beforeAll(() => sim.state.reset());

    const checkoutOf = (user: string, secretId: number): Checkout & { vaultRequest: string } => ({ leaseId: randomUUID(), connection: 'ss-co', user, ref: { secretId }, vaultRequest: String(secretId), state: 'out', durationMinutes: null });

    it('reads a CheckOutEnabled secret as the user (checking it out), refuses another user, checks it in (the vault rotates)', async () => {
      const conn = connection('ss-co');
      const cred = (await listed(conn, 'CORP\\alice', 'srv-app01')).find((c) => c.ref['secretId'] === 105);
      expect(cred).toBeDefined();
      const password = sim.state.passwordOf(105);
      const recorded: string[] = [];
      const out = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'CORP\\alice', ref: cred!.ref, durationMinutes: 30, reason: 'patching' }, async (r) => {
        recorded.push(r);
      });
      expect(revealed(out)).toEqual({ username: 'svc-deploy', domain: null, secret: { type: 'password', value: password } });
      expect(recorded).toEqual(['105']);
      expect(await control('/secrets/105')).toMatchObject({ checkedOut: true, checkedOutBy: 'CORP\\alice' });

      const busy = await failure(adapter.checkout(conn, { leaseId: randomUUID(), user: 'dave', ref: cred!.ref, durationMinutes: 30, reason: 'x' }, async () => undefined));
      expect(busy.code).toBe('CREDENTIAL_IN_USE');
      expect(busy.message).not.toContain(password);

      await expect(adapter.checkin(conn, checkoutOf('CORP\\alice', 105), { rotate: false, reason: 'done' })).resolves.toEqual({ rotationRequested: false });
      const after = await control<{ checkedOut: boolean; rotations: number; password: string }>('/secrets/105');
      expect(after).toMatchObject({ checkedOut: false, rotations: 1 });
      expect(after.password).not.toBe(password);
      // not checked out any more: checking in again is success
      await expect(adapter.checkin(conn, checkoutOf('CORP\\alice', 105), { rotate: false, reason: 'again' })).resolves.toEqual({ rotationRequested: false });
    });

    it('a secret that requires a comment is read with the lease reason as the comment; a plain one checks in as a no-op', async () => {
      const conn = connection('ss-co');
      const out = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'CORP\\alice', ref: { secretId: 106, username: '' }, durationMinutes: 30, reason: 'INC-42 <patch> & reboot' }, async () => undefined);
      expect(revealed(out)).toEqual({ username: 'breakglass', domain: null, secret: { type: 'password', value: sim.state.passwordOf(106) } });
      const log = await control<{ accessLog: Array<{ user: string; comment?: string }> }>('/secrets/106');
      expect(log.accessLog.at(-1)).toMatchObject({ user: 'CORP\\alice', comment: 'INC-42 <patch> & reboot' });

      const plain = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'CORP\\alice', ref: { secretId: 103, username: 'pra-admin', domain: 'CORP' }, durationMinutes: 30, reason: '' }, async () => undefined);
      expect(revealed(plain)).toEqual({ username: 'pra-admin', domain: 'CORP', secret: { type: 'password', value: sim.state.passwordOf(103) } });
      await expect(adapter.checkin(conn, checkoutOf('CORP\\alice', 103), { rotate: true, reason: '' })).resolves.toEqual({ rotationRequested: false });
    });

    it('maps refusals: pending user, forbidden secret, bad reference; the token expiring mid-way is renewed once', async () => {
      const conn = connection('ss-co');
      expect(await failure(adapter.checkout(conn, { leaseId: randomUUID(), user: 'CORP\\bob', ref: { secretId: 101, username: 'x' }, durationMinutes: 1, reason: '' }, async () => undefined))).toMatchObject({
        code: 'VAULT_APPROVAL_PENDING',
      });
      expect(await failure(adapter.checkout(conn, { leaseId: randomUUID(), user: 'dave', ref: { secretId: 103, username: 'x' }, durationMinutes: 1, reason: '' }, async () => undefined))).toMatchObject({
        code: 'VAULT_FORBIDDEN',
      });
      expect(await failure(adapter.checkout(conn, { leaseId: randomUUID(), user: 'dave', ref: { nope: 1 }, durationMinutes: 1, reason: '' }, async () => undefined))).toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await control('/tokens/expire', {});
      const out = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'CORP\\alice', ref: { secretId: 101, username: 'Administrator' }, durationMinutes: 1, reason: '' }, async () => undefined);
      expect(out.secret.value.reveal()).toBe(sim.state.passwordOf(101));
    });
  });

  describe('Test Settings', () => {
    beforeAll(() => sim.state.reset());

    it('lists with the settings as given, signing in afresh each time and leaving the cache alone', async () => {
      const conn = connection('ss-test', { includeDomainCredentialsFor: 'CORP, LAB', defaultDomainForLocalUsers: 'CORP' });
      const before = sim.state.stats().authenticate.total;
      const ok = await adapter.test(conn, 'alice', 'srv-app01');
      expect(ok.result).toBe('ok');
      expect(ok.result === 'ok' && ok.credentials).toEqual(
        expect.arrayContaining([
          { name: 'srv-app01 Administrator', username: 'Administrator', domain: null, scope: 'machine' },
          { name: 'CORP pra-admin', username: 'pra-admin', domain: 'CORP', scope: 'domain' },
          { name: 'LAB lab-admin', username: 'lab-admin', domain: 'LAB', scope: 'domain' },
        ]),
      );
      expect(JSON.stringify(ok)).not.toMatch(/Demo-/);
      // an empty list is an answer, not a failure (domain credentials are listed whatever the endpoint)
      expect(await adapter.test(connection('ss-test', { defaultDomainForLocalUsers: 'CORP' }), 'alice', 'nowhere')).toEqual({ result: 'ok', credentials: [] });
      expect(sim.state.stats().authenticate.total - before).toBe(2);
      expect((await tokenCacheEntries()).filter((e) => e.key.includes(':ss-test:'))).toEqual([]);
    });

    it('answers pending with the approve URL, and denied or revoked with the reason', async () => {
      const conn = connection('ss-test');
      expect(await adapter.test(conn, 'CORP\\bob', 'srv-app01')).toEqual({
        result: 'pending',
        reason: PENDING_REASON,
        approveUrl: `${baseUrl}/ApplicationAccess.aspx?request=demo-bob-request`,
      });
      expect(await adapter.test(conn, 'CORP\\carol', 'srv-app01')).toEqual({ result: 'pending', reason: DENIED_REASON });
      expect(await adapter.test(conn, 'CORP\\grace', 'srv-app01')).toEqual({ result: 'pending', reason: REVOKED_REASON });
    });

    it('names the failing step with the vault\'s own message and no secret', async () => {
      const wrong = await adapter.test(connection('ss-test', { apiPassword: 'Wrong-Pass-777' }), 'CORP\\alice', 'srv-app01');
      expect(wrong).toEqual({ result: 'failed', step: 'authentication', code: 'VAULT_AUTH_FAILED', message: 'Login failed.' });

      const down = await adapter.test(connection('ss-test', {}, 'http://127.0.0.1:9/SecretServer'), 'CORP\\alice', 'srv-app01');
      expect(down).toMatchObject({ result: 'failed', step: 'connect', code: 'VAULT_UNAVAILABLE' });

      const tls = await adapter.test(connection('ss-test', {}, soapUrl.replace('http:', 'https:')), 'CORP\\alice', 'srv-app01');
      expect(tls).toMatchObject({ result: 'failed', step: 'tls', code: 'VAULT_TLS_ERROR' });

      const noImp = await adapter.test(connection('ss-test', { apiUser: 'svc-noimpersonate', apiPassword: 'svc-noimpersonate-demo-pass' }), 'CORP\\alice', 'srv-app01');
      expect(noImp).toMatchObject({ result: 'failed', step: 'impersonation', code: 'VAULT_FORBIDDEN', message: expect.stringContaining('Web Services Impersonate') });

      const nobody = await adapter.test(connection('ss-test'), 'CORP\\nobody', 'srv-app01');
      expect(nobody).toMatchObject({ result: 'failed', step: 'impersonation', code: 'VAULT_FORBIDDEN', message: expect.stringContaining('not found') });

      sim.state.addFault({ count: 4, status: 503, operation: 'SearchSecretsByFieldValue' });
      const search = await adapter.test(connection('ss-test'), 'CORP\\alice', 'srv-app01');
      sim.state.clearFaults();
      expect(search).toMatchObject({ result: 'failed', step: 'search', code: 'VAULT_UNAVAILABLE' });

      const all = JSON.stringify([wrong, down, tls, noImp, nobody, search]);
      for (const secret of ['Wrong-Pass-777', API_PASSWORD, 'svc-noimpersonate-demo-pass']) expect(all).not.toContain(secret);
    });
  });
});

describe('SecretServerAdapter, REST mode (the API account\'s own view)', () => {
  beforeAll(() => sim.state.reset());
  const rest = (name: string, settings: SettingsInput = {}) => connection(name, { apiMode: 'rest', ...settings }, baseUrl);

  it('lists what the API account sees, the same for every user, with user names from the summaries and nothing read', async () => {
    const conn = rest('ss-rest', { includeDomainCredentialsFor: 'CORP' });
    const before = sim.state.stats();
    const a = await listed(conn, 'alice', 'srv-app01');
    const z = await listed(conn, 'someone-else', 'SRV-APP01');
    expect(a).toEqual(z);
    expect(names(a)).toEqual(['CORP pra-admin', 'srv-app01 Administrator', 'srv-app01 breakglass (comment)', 'srv-app01 svc-deploy (check-out)']);
    expect(a.map((c) => c.username).sort()).toEqual(['Administrator', 'breakglass', 'pra-admin', 'svc-deploy']);
    expect(a.find((c) => c.scope === 'domain')).toMatchObject({ domain: 'CORP', ref: { secretId: 103, domain: 'CORP' } });
    const after = sim.state.stats();
    expect(after.restToken.total - before.restToken.total).toBe(1);
    expect(after.checkedOutSecrets).toBe(0);
    expect(((await control<{ accessLog: unknown[] }>('/secrets/101')).accessLog)).toEqual([]);
    // per-user permissions are Secret Server's business in SOAP mode only: here erin's own secret is not visible
    expect(names(await listed(conn, 'erin', 'lnx-web01'))).toEqual(['CORP pra-admin', 'lnx-web01 root']);
  });

  it('signs in with the API domain in its own field; renews an expired token once', async () => {
    const asAlice = rest('ss-rest-domain', { apiUser: 'alice', apiPassword: 'alice-demo-pass', apiDomain: 'CORP' });
    expect(names(await listed(asAlice, 'whoever', 'srv-app01'))).toHaveLength(3);
    const noDomain = rest('ss-rest-nodomain', { apiUser: 'alice', apiPassword: 'alice-demo-pass' });
    const error = await failure(adapter.listOrPending(noDomain, 'whoever', 'srv-app01'));
    expect(error.code).toBe('VAULT_AUTH_FAILED');
    expect(error.message).not.toContain('alice-demo-pass');

    const before = sim.state.stats().restToken.total;
    await control('/tokens/expire', {});
    expect(names(await listed(asAlice, 'whoever', 'srv-app01'))).toHaveLength(3);
    expect(sim.state.stats().restToken.total - before).toBe(1);
  });

  it('checks out as the API account (with the comment when required) and checks in', async () => {
    const conn = rest('ss-rest-co');
    const out = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'alice', ref: { secretId: 105, username: 'svc-deploy' }, durationMinutes: 30, reason: 'r' }, async () => undefined);
    expect(revealed(out)).toEqual({ username: 'svc-deploy', domain: null, secret: { type: 'password', value: sim.state.passwordOf(105) } });
    expect(await control('/secrets/105')).toMatchObject({ checkedOut: true, checkedOutBy: 'openecm-api' });
    const co: Checkout & { vaultRequest: string } = { leaseId: randomUUID(), connection: 'ss-rest-co', user: 'alice', ref: { secretId: 105 }, vaultRequest: '105', state: 'out', durationMinutes: null };
    await expect(adapter.checkin(conn, co, { rotate: false, reason: '' })).resolves.toEqual({ rotationRequested: false });
    expect(await control('/secrets/105')).toMatchObject({ checkedOut: false, rotations: 1 });
    await expect(adapter.checkin(conn, co, { rotate: false, reason: '' })).resolves.toEqual({ rotationRequested: false });

    const commented = await adapter.checkout(conn, { leaseId: randomUUID(), user: 'alice', ref: { secretId: 106, username: 'breakglass' }, durationMinutes: 30, reason: 'INC-7' }, async () => undefined);
    expect(commented.secret.value.reveal()).toBe(sim.state.passwordOf(106));
    expect((await control<{ accessLog: Array<{ comment?: string }> }>('/secrets/106')).accessLog.at(-1)).toMatchObject({ comment: 'INC-7' });
  });

  it('Test Settings over REST: the list, or the failing step', async () => {
    expect(await adapter.test(rest('ss-rest-test'), 'alice', 'lnx-web01')).toEqual({
      result: 'ok',
      credentials: [{ name: 'lnx-web01 root', username: 'root', domain: null, scope: 'machine' }],
    });
    expect(await adapter.test(rest('ss-rest-test', { apiPassword: 'Nope-Nope-1' }), 'alice', 'lnx-web01')).toEqual({
      result: 'failed',
      step: 'authentication',
      code: 'VAULT_AUTH_FAILED',
      // over REST the words come from an HTTP error body, which is never echoed: the status and call say it
      message: 'Secret Server answered 400 to POST oauth2/token',
    });
  });
});

describe('SSH keys', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-test-only\n-----END OPENSSH PRIVATE KEY-----\n';
  let custom: Awaited<ReturnType<typeof startSim>>;

  beforeAll(async () => {
    custom = await startSim({
      users: [
        { id: 1, username: 'api', password: 'api-pass-k', webServicesImpersonate: true },
        { id: 2, username: 'kim', password: 'kim-pass' },
      ],
      secrets: [
        { id: 401, name: 'lnx-key01 deploy', template: 'Unix Account (SSH)', fields: { machine: 'lnx-key01', username: 'deploy', 'private-key': key }, permissions: { users: ['api', 'kim'] } },
      ],
      trust: [{ apiUser: 'api', user: 'kim', state: 'approved' }],
    });
  });

  it('a secret with a private key and no password checks out as an ssh-key over REST; SOAP says it cannot read key files', async () => {
    const restConn = connection('ss-key-rest', { apiMode: 'rest', apiUser: 'api', apiPassword: 'api-pass-k' }, custom.baseUrl);
    const [cred] = await listed(restConn, 'kim', 'lnx-key01');
    expect(cred).toMatchObject({ name: 'lnx-key01 deploy', username: 'deploy' });
    const out = await adapter.checkout(restConn, { leaseId: randomUUID(), user: 'kim', ref: cred!.ref, durationMinutes: 5, reason: '' }, async () => undefined);
    expect(revealed(out)).toEqual({ username: 'deploy', domain: null, secret: { type: 'ssh-key', value: key } });

    const soapConn = connection('ss-key-soap', { apiUser: 'api', apiPassword: 'api-pass-k' }, custom.soapUrl);
    expect(await listed(soapConn, 'kim', 'lnx-key01')).toHaveLength(1);
    const error = await failure(adapter.checkout(soapConn, { leaseId: randomUUID(), user: 'kim', ref: cred!.ref, durationMinutes: 5, reason: '' }, async () => undefined));
    expect(error.code).toBe('VAULT_ERROR');
    expect(error.message).toContain('file attachment');
  });
});

describe('no secret in any log line or error message', () => {
  it('captures every log line through failing and succeeding flows and finds no password, token or approval id', async () => {
    sim.state.reset();
    const lines: string[] = [];
    const capture = (...args: unknown[]) => {
      lines.push(JSON.stringify(args));
    };
    const logger: LoggerService = { log: capture, error: capture, warn: capture, debug: capture, verbose: capture, fatal: capture };
    Logger.overrideLogger(logger);
    const messages: string[] = [];
    try {
      const conn = connection('ss-logs', { defaultDomainForLocalUsers: 'CORP', fallBackToLocalAccount: true });
      sim.state.addFault({ count: 1, status: 503, operation: 'Authenticate' });
      await listed(conn, 'alice', 'srv-app01');
      await control('/tokens/expire', {});
      await listed(conn, 'alice', 'srv-app01');
      await adapter.listOrPending(conn, 'bob', 'srv-app01');
      await adapter.checkout(conn, { leaseId: randomUUID(), user: 'alice', ref: { secretId: 105, username: '' }, durationMinutes: 5, reason: '' }, async () => undefined);
      for (const work of [
        adapter.list(conn, 'bob', 'srv-app01'),
        adapter.list(connection('ss-logs-bad', { apiPassword: 'Bad-Secret-Pass-1' }), 'alice', 'srv-app01'),
        adapter.checkout(conn, { leaseId: randomUUID(), user: 'dave', ref: { secretId: 105, username: '' }, durationMinutes: 5, reason: '' }, async () => undefined),
      ]) {
        messages.push((await failure(work)).message);
      }
      const apiToken = await cachedValue('ss-logs', API_IDENTITY);
      const aliceToken = await cachedValue('ss-logs', 'alice');
      const text = JSON.stringify([lines, messages]);
      expect(lines.length).toBeGreaterThan(0);
      for (const secret of [apiToken, aliceToken, API_PASSWORD, 'Bad-Secret-Pass-1', 'demo-bob-request', sim.state.passwordOf(105)]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      const quiet = new ConsoleLogger();
      quiet.setLogLevels(['error']);
      Logger.overrideLogger(quiet);
      sim.state.clearFaults();
    }
  });
});

describe(`through NATS vault.credentials.* with a secret-server connection (${WIRED ? 'adapter wired in AppModule' : 'adapter added to VAULT_ADAPTERS by a test override until AppModule wires it'})`, () => {
  const settings = (extra: SettingsInput = {}) => ({
    endpointUrl: soapUrl, allowInsecureHttp: true,
    apiUser: 'openecm-api',
    apiPassword: API_PASSWORD,
    includeDomainCredentialsFor: 'CORP, LAB',
    defaultDomainForLocalUsers: 'CORP',
    fallBackToLocalAccount: true,
    ...extra,
  });

  beforeAll(async () => {
    sim.state.reset();
    await bus.request('token.cache.delete.v1', {});
    await pg.query(`DELETE FROM vault.connection`);
    const connection = await sealedForVaultAdapters(bus, { type: 'secret-server', settings: settings() }, SEAL_CONTEXTS.vaultConnection('ss'));
    const saved = await bus.request('vault.connection.upsert.v1', { name: 'ss', connection });
    expect(saved.connection.settings).toMatchObject({ apiPassword: '********' });
    expect(JSON.stringify(saved)).not.toContain(API_PASSWORD);
    const raw = await pg.query('SELECT settings_sealed FROM vault.connection');
    expect(JSON.stringify(raw.rows)).not.toContain(API_PASSWORD);
  });

  it('lists machine and domain credentials for an approved user, each naming the vault', async () => {
    const alice = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(alice.pending).toEqual([]);
    expect(names(alice.credentials)).toEqual(['CORP pra-admin', 'LAB lab-admin', 'srv-app01 Administrator', 'srv-app01 breakglass (comment)', 'srv-app01 svc-deploy (check-out)']);
    expect(alice.credentials.every((c) => c.vault === 'ss')).toBe(true);
    expect(JSON.stringify(alice)).not.toMatch(/Demo-/);
  });

  it('answers a pending user in `pending` with the approve URL, a denied one with the reason, neither as an error', async () => {
    const bob = await bus.request('vault.credentials.list.v1', { user: 'bob', endpoint: 'srv-app01' });
    expect(bob).toEqual({ credentials: [], pending: [{ vault: 'ss', reason: PENDING_REASON, approveUrl: `${baseUrl}/ApplicationAccess.aspx?request=demo-bob-request` }] });
    const carol = await bus.request('vault.credentials.list.v1', { user: 'carol', endpoint: 'srv-app01' });
    expect(carol).toEqual({ credentials: [], pending: [{ vault: 'ss', reason: DENIED_REASON }] });
    await trust('CORP\\bob', 'approve');
    const after = await bus.request('vault.credentials.list.v1', { user: 'bob', endpoint: 'srv-app01' });
    expect(after.pending).toEqual([]);
    expect(names(after.credentials)).toEqual(['srv-app01 Administrator']);
  });

  it('checks out a CheckOutEnabled secret as the user and checks it in on release', async () => {
    const list = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const deploy = list.credentials.find((c) => c.name.includes('svc-deploy'));
    const leaseId = randomUUID();
    const out = await checkoutOpened(bus, { leaseId, vault: 'ss', ref: deploy!.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    expect(out).toMatchObject({ username: 'svc-deploy', domain: null, secret: { type: 'password', value: sim.state.passwordOf(105) } });
    expect(await control('/secrets/105')).toMatchObject({ checkedOut: true, checkedOutBy: 'CORP\\alice' });
    const stored = await pg.query('SELECT request_sealed FROM vault.checkout WHERE lease_id = $1', [leaseId]);
    expect(stored.rows[0].request_sealed).toMatch(/^v1\./);
    expect(await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'done' })).toEqual({ checkedIn: true, rotationRequested: false });
    expect(await control('/secrets/105')).toMatchObject({ checkedOut: false });
  });

  it('Test Settings for unsaved settings and for the saved connection', async () => {
    const unsaved = await bus.request('vault.connection.test.v1', { target: { connection: await sealedForVaultAdapters(bus, { type: 'secret-server', settings: settings() }, SEAL_CONTEXTS.vaultTest()) }, user: 'alice', endpoint: 'lnx-web01' });
    expect(unsaved).toEqual({
      result: 'ok',
      credentials: [
        { name: 'lnx-web01 root', username: 'root', domain: null, scope: 'machine' },
        { name: 'CORP pra-admin', username: 'pra-admin', domain: 'CORP', scope: 'domain' },
        { name: 'LAB lab-admin', username: 'lab-admin', domain: 'LAB', scope: 'domain' },
      ],
    });
    const saved = await bus.request('vault.connection.test.v1', { target: { name: 'ss' }, user: 'frank', endpoint: 'srv-app01' });
    expect(saved).toMatchObject({ result: 'pending', approveUrl: expect.stringContaining('/ApplicationAccess.aspx?request=') });
    const bad = await bus.request('vault.connection.test.v1', { target: { connection: await sealedForVaultAdapters(bus, { type: 'secret-server', settings: settings({ apiPassword: 'Wrong-Wrong-9' }) }, SEAL_CONTEXTS.vaultTest()) }, user: 'alice', endpoint: 'x' });
    expect(bad).toEqual({ result: 'failed', step: 'authentication', code: 'VAULT_AUTH_FAILED', message: 'Login failed.' });
  });

  it('keeps no token or password in clear text in Redis', async () => {
    const apiToken = await cachedValue('ss', API_IDENTITY);
    const entries = JSON.stringify(await tokenCacheEntries());
    for (const secret of [apiToken, API_PASSWORD, ...USER_PASSWORDS]) expect(entries).not.toContain(secret);
  });
});

/** An adapter's check-out with its secret revealed, to compare with what the vault holds. */
function revealed(out: { username: string; domain: string | null; secret: HeldSecret }) {
  return { ...out, secret: { type: out.secret.type, value: out.secret.value.reveal() } };
}
