import type { INestApplication } from '@nestjs/common';
import { NO_JUMPOINT_COMMENT, OpenEcmError, SEAL_CONTEXTS, type JumpItem, type VaultConnectionInput } from '@openecm/contracts';
import { publishEvent, type Bus } from '@openecm/messaging';
import {
  NATS_URL,
  REDIS_URL,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  sealedForVaultAdapters,
  startTestApp,
  testBus,
  testKey,
  waitFor,
} from '@openecm/testing';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { createPasswordSafeSim, generateSeed as generatePasswordSafe, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';
import { createSecretServerSim, generateSeed as generateSecretServer, type SecretServerSim } from '../../../tools/secret-server-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_ATTEMPTS'] = '1';
process.env['JUMP_ITEMS_CACHE_SECONDS'] = '2';

const REQUESTERS = 'Secure Remote Access Requesters';

async function failure(call: Promise<unknown>): Promise<OpenEcmError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenEcmError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe('policy-approval: external jump items over both simulators (vault-adapters, token-cache, NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  const apps: INestApplication[] = [];
  let bus: Bus;
  let pg: Client;
  let nc: NatsConnection;
  let ps: PasswordSafeSim;
  let ss: SecretServerSim;
  const psSeed = generatePasswordSafe({ systems: 500, users: 40 });
  const ssSeed = generateSecretServer({ secrets: 500, users: 40 });

  beforeAll(async () => {
    ps = createPasswordSafeSim({ seed: psSeed, idleTimeoutMs: 60_000 });
    const psUrl = await ps.listen(0);
    ss = createSecretServerSim({ seed: ssSeed });
    const ssUrl = await ss.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const modules = {
      'token-cache': (await import('../../token-cache/src/app.module')).AppModule,
      'vault-adapters': (await import('../../vault-adapters/src/app.module')).AppModule,
      'policy-approval': (await import('../src/app.module')).AppModule,
    };
    for (const [name, module] of Object.entries(modules)) apps.push((await startTestApp(name, module)).app);
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    nc = await connect({ servers: NATS_URL });
    const connections: Record<string, VaultConnectionInput> = {
      ps: { type: 'password-safe', settings: { baseUrl: psUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true } },
      ss: {
        type: 'secret-server',
        settings: {
          endpointUrl: `${ssUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
          apiUser: 'openecm-api',
          apiPassword: 'openecm-api-demo-pass',
          includeDomainCredentialsFor: [],
          domainField: 'Domain',
          machineField: 'Machine',
          defaultDomainForLocalUsers: 'CORP',
          fallBackToLocalAccount: false,
          includeDefaultOrganization: false,
          apiMode: 'soap',
          releaseDurationMinutes: 60,
          timeoutSeconds: 5,
        },
      },
    };
    for (const [name, connection] of Object.entries(connections)) {
      await bus.request('vault.connection.upsert.v1', { name, connection: await sealedForVaultAdapters(bus, connection, SEAL_CONTEXTS.vaultConnection(name)) });
    }
    await bus.request('policy.defaults.ensure.v1', {});
    for (const user of ['alice', 'bob', 'user0002']) await bus.request('policy.group-member.add.v1', { group: REQUESTERS, user });
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    for (const app of apps.reverse()) await app.close();
    await pg?.end();
    await nc?.close();
    await db?.drop();
    await ps?.close();
    await ss?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  const search = (user: string, term: string, extra: { limit?: number; cursor?: string } = {}) =>
    bus.request('policy.jump-items.search.v1', { user, search: term, limit: extra.limit ?? 50, ...(extra.cursor ? { cursor: extra.cursor } : {}) });

  /** Every page of a search, following nextCursor. */
  async function allPages(user: string, term: string, limit: number): Promise<{ items: JumpItem[]; pages: number }> {
    const items: JumpItem[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await search(user, term, { limit, ...(cursor ? { cursor } : {}) });
      expect(page.pending).toEqual([]);
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 100);
    return { items, pages };
  }

  it('answers 404 JUMP_ITEMS_DISABLED until switched on, and a short search finds nothing without asking a vault', async () => {
    expect((await failure(search('alice', 'srv'))).code).toBe('JUMP_ITEMS_DISABLED');
    expect((await failure(bus.request('policy.jump-items.recent.v1', { user: 'alice' }))).code).toBe('JUMP_ITEMS_DISABLED');
    expect(await bus.request('policy.jump-settings.get.v1', {})).toMatchObject({ enabled: false, jumpointId: null, groupName: 'External Jump Items' });
    const saved = await bus.request('policy.jump-settings.put.v1', { enabled: true, jumpointId: null, groupName: 'External Jump Items' });
    expect(saved).toMatchObject({ enabled: true, jumpointId: null, groupName: 'External Jump Items', updatedAt: expect.any(String) });
    const signIns = ps.state.stats().signIns.total;
    for (const term of ['', 'f', ' s ']) expect(await search('alice', term)).toEqual({ group: 'External Jump Items', items: [], nextCursor: null, pending: [] });
    expect(ps.state.stats().signIns.total).toBe(signIns);
  });

  it('refuses a user in no requester group, as a list does', async () => {
    expect((await failure(search('user0003', 'fra-'))).code).toBe('ACCESS_DENIED');
  });

  it('merges both vaults sorted by name and pages them with a stable cursor, every item not startable without a Jumpoint', async () => {
    const whole = await search('alice', 'fra-', { limit: 100 });
    const { items, pages } = await allPages('alice', 'fra-', 7);
    expect(pages).toBeGreaterThan(2);
    expect(items).toEqual(whole.items.slice(0, items.length));
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    const keys = items.map((i) => `${i.name.toLowerCase()}\u0000${i.vault}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(items.map((i) => i.vault))).toEqual(new Set(['ps', 'ss']));
    for (const item of items) expect(item).toMatchObject({ startable: false, comments: NO_JUMPOINT_COMMENT });
    // platform and template decide the jump method
    const windows = items.find((i) => i.vault === 'ps' && (psSeed.managedSystems ?? []).find((s) => s.SystemName === i.name)?.PlatformID === 1);
    const linux = items.find((i) => i.vault === 'ps' && (psSeed.managedSystems ?? []).find((s) => s.SystemName === i.name)?.PlatformID === 2);
    expect([windows?.jumpMethod, linux?.jumpMethod]).toEqual(['rdp', 'shell']);
    expect(items.some((i) => i.vault === 'ps' && [8, 9, 25, 38].includes((psSeed.managedSystems ?? []).find((s) => s.SystemName === i.name)?.PlatformID ?? 0))).toBe(false);
  });

  it('gives ids bound to the user, the same on every search, and refuses a cursor of another user or search', async () => {
    const alice = await search('alice', 'srv-app01');
    const again = await search('ALICE', 'SRV-APP01');
    const bob = await search('bob', 'srv-app01');
    const aliceItem = alice.items.find((i) => i.vault === 'ps' && i.name === 'srv-app01');
    expect(aliceItem?.id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(again.items.find((i) => i.vault === 'ps' && i.name === 'srv-app01')?.id).toBe(aliceItem?.id);
    const bobItem = bob.items.find((i) => i.vault === 'ps' && i.name === 'srv-app01');
    expect(bobItem).toBeDefined();
    expect(bobItem?.id).not.toBe(aliceItem?.id);
    const page = await search('alice', 'fra-', { limit: 2 });
    expect(page.nextCursor).toEqual(expect.any(String));
    expect((await failure(search('bob', 'fra-', { limit: 2, cursor: page.nextCursor ?? '' }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(search('alice', 'ams-', { limit: 2, cursor: page.nextCursor ?? '' }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(search('alice', 'fra-', { cursor: 'not-a-cursor' }))).code).toBe('VALIDATION_FAILED');
  });

  it('shows only what each user may use: another team, other systems', async () => {
    const other = (psSeed.users ?? []).find((u) => u.userName.startsWith('user') && !(u.groups ?? []).includes('team-001'))?.userName ?? 'none';
    await bus.request('policy.group-member.add.v1', { group: REQUESTERS, user: other });
    const mine = (await allPages('alice', 'nyc-', 100)).items.filter((i) => i.vault === 'ps').map((i) => i.name);
    const theirs = (await allPages(other, 'nyc-', 100)).items.filter((i) => i.vault === 'ps').map((i) => i.name);
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(mine.filter((name) => theirs.includes(name))).toEqual([]);
  });

  it('keeps each vault’s answer briefly in Redis, then asks again; a failing vault is pending while the other answers', async () => {
    const first = await search('bob', 'lnx-');
    expect(first.pending.map((p) => p.vault)).toEqual(['ss']); // bob has yet to approve the API account
    const held = await search('user0002', 'ams-');
    ss.state.addFault({ status: 500, count: 1000 });
    try {
      expect(await search('user0002', 'ams-')).toEqual(held);
      const later = await waitFor(async () => {
        const answer = await search('user0002', 'ams-');
        return answer.pending.length > 0 && answer;
      }, { timeoutMs: 10_000, what: 'the held answer to expire' });
      expect(later.pending).toEqual([{ vault: 'ss', reason: expect.stringMatching(/^VAULT_/) }]);
      expect(later.items.length).toBeGreaterThan(0);
      expect(later.items.every((i) => i.vault === 'ps')).toBe(true);
      expect(JSON.stringify(later)).not.toMatch(/Gen-\d+/);
    } finally {
      ss.state.clearFaults();
    }
  });

  it('with a Jumpoint, items are startable and carry the system’s own comments', async () => {
    await bus.request('policy.jump-settings.put.v1', { enabled: true, jumpointId: 'jumpoint-dc1', groupName: 'Vault systems' });
    const answer = await search('alice', 'fra-', { limit: 100 });
    expect(answer.group).toBe('Vault systems');
    for (const item of answer.items) {
      expect(item.startable).toBe(true);
      const described = (psSeed.managedSystems ?? []).find((s) => s.SystemName === item.name)?.Description;
      expect(item.comments).toBe(item.vault === 'ps' ? (described ?? '') : '');
    }
  });

  it('records an injection on an endpoint that came from a jump item, and lists the last 20 newest first', async () => {
    const js = nc.jetstream();
    const shown = (await allPages('alice', 'fra-', 100)).items;
    expect(shown.length).toBeGreaterThan(21);
    const inject = (endpoint: string, at: Date) =>
      publishEvent(js, 'policy.lease.opened.v1', {
        leaseId: randomUUID(),
        user: 'alice',
        endpoint,
        sessionId: 's',
        vault: 'ps',
        credentialName: 'x',
        username: 'Administrator',
        at: at.toISOString(),
        releaseAt: at.toISOString(),
      }, randomUUID());
    const start = Date.now() - 60_000;
    // by host name, IP address or name, whichever the session was started on
    for (let i = 0; i < 22; i++) {
      const item = shown[i] as JumpItem;
      await inject(i % 2 === 0 ? item.hostname : (item.ip ?? item.name), new Date(start + i * 1000));
    }
    await inject('never-shown-host', new Date(start + 30_000));
    const recent = await waitFor(async () => {
      const answer = await bus.request('policy.jump-items.recent.v1', { user: 'alice' });
      return answer.items.length === 20 && answer.items[0]?.id === shown[21]?.id && answer;
    }, { what: 'the recent items' });
    expect(recent.items.map((i) => i.id)).toEqual(shown.slice(2, 22).reverse().map((i) => i.id));
    expect(recent.items[0]).toMatchObject({ ...shown[21], lastUsedAt: new Date(start + 21_000).toISOString() });
    expect(recent.group).toBe('Vault systems');
    expect((await bus.request('policy.jump-items.recent.v1', { user: 'bob' })).items).toEqual([]);
    // nothing of the vaults' inventories is stored: one settings row, and the used items only
    const rows = await pg.query(`SELECT (SELECT count(*) FROM policy.jump_item_recent)::int AS recent, (SELECT count(*) FROM policy.jump_item_settings)::int AS settings`);
    expect(rows.rows[0]).toEqual({ recent: 20, settings: 1 });
  });

  it('a used item is used again from the recent list, and a switched-off search answers 404 again', async () => {
    const before = await bus.request('policy.jump-items.recent.v1', { user: 'alice' });
    const oldest = before.items[before.items.length - 1] as JumpItem & { lastUsedAt: string };
    await publishEvent(nc.jetstream(), 'policy.lease.opened.v1', {
      leaseId: randomUUID(),
      user: 'alice',
      endpoint: oldest.hostname,
      sessionId: 's',
      vault: oldest.vault,
      credentialName: 'x',
      username: 'x',
      at: new Date().toISOString(),
      releaseAt: new Date().toISOString(),
    }, randomUUID());
    await waitFor(async () => (await bus.request('policy.jump-items.recent.v1', { user: 'alice' })).items[0]?.id === oldest.id, { what: 'the item used again' });
    await bus.request('policy.jump-settings.put.v1', { enabled: false, jumpointId: 'jumpoint-dc1', groupName: 'Vault systems' });
    expect((await failure(search('alice', 'fra-'))).code).toBe('JUMP_ITEMS_DISABLED');
  });
});
