import type { INestApplication } from '@nestjs/common';
import { SEAL_CONTEXTS, type VaultConnectionInput } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey } from '@openecm/testing';
import { createPasswordSafeSim, generateSeed as generatePasswordSafe, type PasswordSafeSim, type SimSeed as PasswordSafeSeed } from '../../../tools/password-safe-sim/src/sim';
import { createSecretServerSim, generateSeed as generateSecretServer, type SecretServerSim, type SimSeed as SecretServerSeed } from '../../../tools/secret-server-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_ATTEMPTS'] = '1';

/** Windows is reached over RDP, Linux, AIX, HP-UX, Solaris and Cisco over SSH; databases, directories and web sites not at all. */
const PLATFORM_METHODS: Record<number, 'rdp' | 'shell' | undefined> = { 1: 'rdp', 2: 'shell', 3: 'shell', 4: 'shell', 5: 'shell', 47: 'shell' };

/** What Password Safe should yield for a run-as user and a search, worked out from the seed alone. */
function expectedPasswordSafe(seed: PasswordSafeSeed, user: string, search: string): string[] {
  const groups = seed.users?.find((u) => u.userName.toLowerCase() === user.toLowerCase())?.groups ?? [];
  const mayRequest = (a: { apiEnabled?: boolean; requesters?: 'all' | string[]; requesterGroups?: string[] }) =>
    a.apiEnabled !== false &&
    (a.requesters === undefined || a.requesters === 'all' || a.requesters.some((r) => r.toLowerCase() === user.toLowerCase()) || (a.requesterGroups ?? []).some((g) => groups.includes(g)));
  const requestable = new Set<number>([
    ...(seed.managedAccounts ?? []).filter(mayRequest).map((a) => a.SystemId),
    ...(seed.domainLinkedAccounts ?? []).filter(mayRequest).flatMap((a) => a.linkedSystemIds),
  ]);
  const needle = search.toLowerCase();
  return (seed.managedSystems ?? [])
    .filter((s) => requestable.has(s.ManagedSystemID) && PLATFORM_METHODS[s.PlatformID] !== undefined)
    .filter((s) => [s.SystemName, s.HostName, s.DnsName, s.IPAddress].some((v) => v?.toLowerCase().includes(needle)))
    .map((s) => s.SystemName)
    .sort();
}

/** What Secret Server should yield for a team's user: machines of the team folder's unrestricted machine secrets. */
function expectedSecretServer(seed: SecretServerSeed, team: string, search: string): string[] {
  const folder = seed.folders?.find((f) => f.name === team)?.id;
  const needle = search.toLowerCase();
  const machines = (seed.secrets ?? [])
    .filter((s) => s.folderId === folder && !s.checkOutEnabled && /Windows|Unix/.test(String(s.template)))
    .map((s) => (s.fields?.['machine'] ?? '').toLowerCase())
    .filter((m) => m.includes(needle));
  return [...new Set(machines)].sort();
}

describe('vault-adapters: system search for external jump items (both simulators, real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let cacheApp: INestApplication;
  let bus: Bus;
  let ps: PasswordSafeSim;
  let ss: SecretServerSim;
  let psUrl: string;
  let ssUrl: string;
  const psSeed = generatePasswordSafe({ systems: 600, users: 60 });
  const ssSeed = generateSecretServer({ secrets: 600, users: 60 });

  beforeAll(async () => {
    ps = createPasswordSafeSim({ seed: psSeed, idleTimeoutMs: 60_000 });
    psUrl = await ps.listen(0);
    ss = createSecretServerSim({ seed: ssSeed });
    ssUrl = await ss.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    await connect('ps', { type: 'password-safe', settings: { baseUrl: psUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true } });
    await connect('ss', {
      type: 'secret-server',
      settings: { ...ssSettings(), defaultDomainForLocalUsers: 'CORP' },
    } as VaultConnectionInput);
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await db?.drop();
    await ps?.close();
    await ss?.close();
    await clearNamespaceKeys();
  });

  function ssSettings() {
    return {
      endpointUrl: `${ssUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
      apiUser: 'openecm-api',
      apiPassword: 'openecm-api-demo-pass',
      includeDomainCredentialsFor: [],
      domainField: 'Domain',
      machineField: 'Machine',
      fallBackToLocalAccount: false,
      includeDefaultOrganization: false,
      apiMode: 'soap' as const,
      releaseDurationMinutes: 60,
      timeoutSeconds: 10,
    };
  }

  async function connect(name: string, connection: VaultConnectionInput): Promise<void> {
    await bus.request('vault.connection.upsert.v1', { name, connection: await sealedForVaultAdapters(bus, connection, SEAL_CONTEXTS.vaultConnection(name)) });
  }

  const search = (user: string, term: string, extra: { limit?: number; skip?: string[] } = {}) =>
    bus.request('vault.systems.search.v1', { user, search: term, limit: extra.limit ?? 500, ...(extra.skip ? { skip: extra.skip } : {}) });

  it('finds, as the run-as user, the RDP and shell systems with a requestable API-enabled account, by platform', async () => {
    const answer = await search('alice', 'FRA-');
    const fromPs = answer.vaults.find((v) => v.vault === 'ps');
    expect(answer.pending).toEqual([]);
    expect(fromPs?.systems.map((s) => s.name)).toEqual(expectedPasswordSafe(psSeed, 'alice', 'fra-'));
    expect(fromPs?.systems.length).toBeGreaterThan(3);
    const bySystem = new Map((psSeed.managedSystems ?? []).map((s) => [s.SystemName, s]));
    for (const system of fromPs?.systems ?? []) {
      const seeded = bySystem.get(system.name);
      expect(system.jumpMethod).toBe(PLATFORM_METHODS[seeded?.PlatformID ?? 0]);
      expect(system.hostname).toBe(seeded?.DnsName ?? seeded?.HostName);
      expect(system.ip).toBe(seeded?.IPAddress ?? null);
      expect(system.comments).toBe(seeded?.Description ?? '');
      expect(system.networkId).toBe(psSeed.workgroups?.find((w) => w.WorkgroupID === seeded?.WorkgroupID)?.Name);
      expect(system.ref).toEqual({ systemId: seeded?.ManagedSystemID });
    }
    // another team sees other systems, and nobody a system without an API-enabled account
    const other = await search('user0002', 'fra-');
    expect(other.vaults.find((v) => v.vault === 'ps')?.systems.map((s) => s.name)).toEqual(expectedPasswordSafe(psSeed, 'user0002', 'fra-'));
    const enabled = new Set((psSeed.managedAccounts ?? []).filter((a) => a.apiEnabled !== false).map((a) => a.SystemId));
    const linked = new Set((psSeed.domainLinkedAccounts ?? []).flatMap((a) => a.linkedSystemIds));
    for (const system of [...(fromPs?.systems ?? []), ...(other.vaults.find((v) => v.vault === 'ps')?.systems ?? [])]) {
      const id = Number(system.ref['systemId']);
      expect(enabled.has(id) || linked.has(id)).toBe(true);
    }
  });

  it('matches host name, DNS name or IP address parts case-insensitively, and bounds the answer', async () => {
    const mine = expectedPasswordSafe(psSeed, 'alice', '.corp.example');
    const byDns = await search('alice', '.CORP.EXAMPLE', { limit: 5 });
    const fromPs = byDns.vaults.find((v) => v.vault === 'ps');
    expect(fromPs).toMatchObject({ truncated: true });
    expect(fromPs?.systems.map((s) => s.name)).toEqual(mine.slice(0, 5));
    const system = (psSeed.managedSystems ?? []).find((s) => s.IPAddress && mine.includes(s.SystemName) && s.ManagedSystemID > 10_000);
    const byIp = await search('alice', system?.IPAddress ?? 'none');
    expect(byIp.vaults.find((v) => v.vault === 'ps')?.systems.map((s) => s.name)).toContain(system?.SystemName);
  });

  it('finds, as the impersonated user, the machines of the machine secrets the user sees, one per machine', async () => {
    const answer = await search('alice', 'ams-');
    const fromSs = answer.vaults.find((v) => v.vault === 'ss');
    const expected = expectedSecretServer(ssSeed, 'team-001', 'ams-');
    expect(expected.length).toBeGreaterThan(2);
    expect(fromSs?.systems.map((s) => s.name.toLowerCase())).toEqual(expected);
    for (const system of fromSs?.systems ?? []) {
      const secret = (ssSeed.secrets ?? []).find((s) => s.fields?.['machine']?.toLowerCase() === system.name.toLowerCase());
      expect(system.jumpMethod).toBe(String(secret?.template).startsWith('Windows') ? 'rdp' : 'shell');
      expect(system.ip).toBe(/^\d+\.\d+\.\d+\.\d+$/.test(system.name) ? system.name : null);
      expect(system.networkId).toBeNull();
    }
    // web and SQL Server secrets name no machine
    const web = (ssSeed.secrets ?? []).find((s) => s.template === 'Web Password' && s.folderId === ssSeed.folders?.find((f) => f.name === 'team-001')?.id);
    const host = new URL(web?.fields?.['url'] ?? 'https://none/').hostname.split('.')[0] ?? 'none';
    expect((await search('alice', host)).vaults.find((v) => v.vault === 'ss')?.systems).toEqual([]);
  });

  it('reports a user who has not approved the API account in pending, with the approve URL, while Password Safe answers', async () => {
    const answer = await search('bob', 'srv-');
    expect(answer.pending).toEqual([{ vault: 'ss', reason: expect.stringContaining('not approved'), approveUrl: expect.stringContaining('ApplicationAccess') }]);
    expect(answer.vaults.map((v) => v.vault)).toEqual(['ps']);
    expect(answer.vaults[0]?.systems.map((s) => s.name)).toEqual(expectedPasswordSafe(psSeed, 'bob', 'srv-'));
  });

  it('reports a failing vault in pending and answers from the others', async () => {
    ps.state.addFault({ status: 503, count: 10, path: 'ManagedAccounts' });
    try {
      const answer = await search('user0003', 'nyc-');
      expect(answer.pending).toEqual([{ vault: 'ps', reason: expect.stringMatching(/^VAULT_UNAVAILABLE: /) }]);
      expect(answer.vaults.map((v) => v.vault)).toEqual(['ss']);
      expect(JSON.stringify(answer)).not.toMatch(/Gen-\d+/);
    } finally {
      ps.state.clearFaults();
    }
  });

  it('skips the vaults the caller holds an answer for, and names every connected vault', async () => {
    const answer = await search('alice', 'lon-', { skip: ['ps'] });
    expect(answer.vaults.map((v) => v.vault)).toEqual(['ss']);
    expect(answer.connected.sort()).toEqual(['ps', 'ss']);
  });

  it("keeps a connection's inventory in process: a later search needs no ManagedSystems call", async () => {
    await search('user0004', 'sgp-');
    ps.state.addFault({ status: 500, count: 50, path: 'ManagedSystems' });
    try {
      const answer = await search('user0005', 'sgp-');
      expect(answer.pending).toEqual([]);
      expect(answer.vaults.find((v) => v.vault === 'ps')?.systems.map((s) => s.name)).toEqual(expectedPasswordSafe(psSeed, 'user0005', 'sgp-'));
      expect(ps.state.stats().faultsPending).toBe(50);
    } finally {
      ps.state.clearFaults();
    }
  });

  it('searches over REST as the API account, with the Machine field in each summary and no secret read', async () => {
    await connect('ss-rest', { type: 'secret-server', settings: { ...ssSettings(), endpointUrl: ssUrl, allowInsecureHttp: true, apiMode: 'rest' } });
    const before = ss.state.secretControlView(100_001)?.['accessLog'];
    const answer = await search('whoever', 'fra-', { skip: ['ps', 'ss'] });
    const fromRest = answer.vaults.find((v) => v.vault === 'ss-rest');
    const everyTeam = [...new Set(ssSeed.folders?.filter((f) => f.name.startsWith('team-')).flatMap((f) => expectedSecretServer(ssSeed, f.name, 'fra-')))].sort();
    const checkout = new Set((ssSeed.secrets ?? []).filter((s) => s.checkOutEnabled).map((s) => s.fields?.['machine']?.toLowerCase()));
    // REST reads no secret, so a machine known only from a check-out secret shows as well
    expect(fromRest?.systems.map((s) => s.name.toLowerCase()).filter((m) => !checkout.has(m))).toEqual(everyTeam.filter((m) => !checkout.has(m)));
    expect(ss.state.secretControlView(100_001)?.['accessLog']).toEqual(before);
  });
});
