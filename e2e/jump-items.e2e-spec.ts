import { ApplianceClient, hashicorpVaultDemoSettings } from '@openecm/appliance-sim';
import { NATS_URL, createTestDatabase, tearDownSuite, launchSystem, waitFor, type RunningSystem } from '@openecm/testing';

/**
 * External jump items through the gateway, with Password Safe and Secret Server holding generated inventories and
 * HashiCorp Vault its demo seed: the switch, searches merged and paged across vaults, the Jumpoint, every item
 * being a system the user gets credentials on, and an injection on an item's endpoint making it a recent item.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const redisDb = 1 + ((parseInt(namespace.slice(1, 7), 16) + 11) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;

interface Item {
  id: string;
  name: string;
  hostname: string;
  ip: string | null;
  jumpMethod: 'rdp' | 'shell';
  comments: string;
  vault: string;
  networkId: string | null;
  startable: boolean;
}
interface ItemList {
  group: string;
  items: Item[];
  nextCursor: string | null;
  pending: Array<{ vault: string; reason: string }>;
}

describe('external jump items end to end', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let api: ApplianceClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl, natsUrl: NATS_URL, secretServer: true, vaultSim: true, logLevel: 'warn' });
    const generated = await Promise.all([
      fetch(`${system.simControlUrl}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ systems: 3000, users: 60 }) }),
      fetch(`${system.secretServerControlUrl}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secrets: 3000, users: 60 }) }),
    ]);
    expect(generated.map((r) => r.status)).toEqual([200, 200]);
    api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    expect((await api.call('PUT', '/api/v1/admin/vaults/password-safe', { type: 'password-safe', settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } } })).status).toBe(201);
    const ss = await api.call('PUT', '/api/v1/admin/vaults/secret-server', {
      type: 'secret-server',
      settings: {
        endpointUrl: `${system.secretServerUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
        apiUser: 'openecm-api',
        apiPassword: 'openecm-api-demo-pass',
        defaultDomainForLocalUsers: 'CORP',
      },
    });
    expect(ss.status).toBe(201);
    expect((await api.call('PUT', '/api/v1/admin/vaults/hashicorp-vault', { type: 'hashicorp-vault', settings: hashicorpVaultDemoSettings(system.vaultSimUrl as string) })).status).toBe(201);
    await api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: 'alice' });
  }, 120_000);

  afterAll(() => tearDownSuite({ system, db, redisUrl }));

  const search = (term: string, extra: Record<string, string> = {}) =>
    api.call<ItemList>('GET', `/api/v1/jump-items?${new URLSearchParams({ user: 'alice', search: term, ...extra })}`);

  it('answers 404 JUMP_ITEMS_DISABLED until an administrator switches the search on', async () => {
    const off = await search('fra-');
    expect(off.status).toBe(404);
    expect(off.body).toMatchObject({ code: 'JUMP_ITEMS_DISABLED' });
    const saved = await api.call('PUT', '/api/v1/admin/jump-items', { enabled: true, jumpointId: null });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ enabled: true, jumpointId: null, groupName: 'External Jump Items' });
    expect((await api.call('PUT', '/api/v1/admin/jump-items', { enabled: true, jumpointId: null, extra: 1 })).status).toBe(400);
  });

  it('searches both vaults as the user, merged by name and paged, not startable without a Jumpoint', async () => {
    expect((await search('f')).body).toEqual({ group: 'External Jump Items', items: [], nextCursor: null, pending: [] });
    const first = await search('FRA-', { limit: '10' });
    expect(first.status).toBe(200);
    expect(first.body.pending).toEqual([]);
    expect(first.body.items).toHaveLength(10);
    const second = await search('fra-', { limit: '10', cursor: first.body.nextCursor ?? '' });
    const whole = await search('fra-', { limit: '20' });
    expect([...first.body.items, ...second.body.items]).toEqual(whole.body.items);
    const all = await search('fra-', { limit: '100' });
    expect(new Set(all.body.items.map((i) => i.vault))).toEqual(new Set(['password-safe', 'secret-server']));
    for (const item of all.body.items) {
      expect(item).toMatchObject({ startable: false, comments: 'Jumpoint for External Jump Items not configured' });
      expect(`${item.name} ${item.hostname} ${item.ip ?? ''}`.toLowerCase()).toContain('fra-');
    }
    expect(all.body.items.some((i) => i.jumpMethod === 'rdp') && all.body.items.some((i) => i.jumpMethod === 'shell')).toBe(true);
    const names = all.body.items.map((i) => i.name.toLowerCase());
    expect(names).toEqual([...names].sort());
  });

  it('shows only systems the user gets a credential on from a list, and an injection there makes a recent item', async () => {
    const items = (await search('ams-', { limit: '100' })).body.items;
    // HashiCorp Vault: the library set's and static role's literal endpoints, and the KV secrets' machines
    const fromVault = (await search('srv-', { limit: '100' })).body.items.filter((i) => i.vault === 'hashicorp-vault');
    expect(fromVault.map((i) => [i.name, i.jumpMethod])).toEqual([
      ['srv-app01', 'rdp'],
      ['srv-db01', 'rdp'],
      ['srv-web01', 'shell'],
    ]);
    const samples = [items.find((i) => i.vault === 'password-safe'), items.find((i) => i.vault === 'secret-server'), ...fromVault];
    for (const item of samples) {
      expect(item).toBeDefined();
      const listed = await api.listCredentials('alice', item?.hostname ?? '');
      expect(listed.status).toBe(200);
      expect(listed.body.credentials.filter((c) => c.vault === item?.vault).length).toBeGreaterThan(0);
    }
    const item = samples[0] as Item;
    const credential = (await api.listCredentials('alice', item.hostname)).body.credentials.find((c) => c.vault === item.vault);
    const injected = await api.inject(credential?.id ?? '', 'alice', item.hostname, 'jump-item-session');
    expect(injected.status).toBe(201);
    const recent = await waitFor(async () => {
      const answer = await api.call<{ group: string; items: Array<Item & { lastUsedAt: string }> }>('GET', '/api/v1/jump-items/recent?user=alice');
      return answer.body.items[0]?.id === item.id && answer.body;
    }, { timeoutMs: 15_000, what: 'the recent item' });
    expect(recent.items[0]).toMatchObject({ ...item, lastUsedAt: expect.any(String) });
    await api.release(injected.body.leaseId);
  });

  it('with a Jumpoint, items are startable and carry their own comments under the group named', async () => {
    expect((await api.call('PUT', '/api/v1/admin/jump-items', { enabled: true, jumpointId: 'jumpoint-01', groupName: 'Vault systems' })).status).toBe(200);
    const answer = await search('lon-', { limit: '50' });
    expect(answer.body.group).toBe('Vault systems');
    expect(answer.body.items.length).toBeGreaterThan(0);
    for (const item of answer.body.items) {
      expect(item.startable).toBe(true);
      expect(item.comments).not.toBe('Jumpoint for External Jump Items not configured');
    }
    expect(answer.body.items.filter((i) => i.vault === 'password-safe').every((i) => i.networkId === 'London DMZ')).toBe(true);
  });
});
