import { SEAL_CONTEXTS } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { checkoutOpened, sealedForVaultAdapters } from '@openecm/testing';
import { startVaultAdapters, vaultAdaptersTestEnv, type VaultAdaptersSystem } from '@openecm/vault-sdk/conformance';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createVaultSim, loadDemoSeed, type VaultSim } from '../../../tools/vault-sim/src/sim';
import { CONFORMANCE_SERVICES } from './conformance-services';

vaultAdaptersTestEnv();
// the sweep's grace period is the vault's clock against the records'; 0 here, so a record made in the test counts
process.env['VAULT_SWEEP_GRACE_MS'] = '0';

describe('vault-adapters with HashiCorp Vault (simulator over HTTP, real NATS, Redis, Postgres)', () => {
  let system: VaultAdaptersSystem;
  let bus: Bus;
  let sim: VaultSim;
  let address: string;
  let pg: Client;
  let seed: ReturnType<typeof loadDemoSeed>;

  const sources = [
    { kind: 'library', set: 'rdp-admins', endpoints: ['srv-app01'], domain: 'CORP', users: ['CORP\\alice'] },
    { kind: 'static-role', role: 'srv-db01-admin', endpoints: ['srv-db01', '10.0.0.31'] },
    { kind: 'kv', path: 'servers' },
  ];
  const connect = async (name: string, settings: Record<string, unknown>) =>
    bus.request('vault.connection.upsert.v1', { name, connection: await sealedForVaultAdapters(bus, { type: 'hashicorp-vault', settings }, SEAL_CONTEXTS.vaultConnection(name)) });
  const list = (user: string, endpoint: string) => bus.request('vault.credentials.list.v1', { user, endpoint });

  beforeAll(async () => {
    // the namespace of a Vault Enterprise or OpenBao tenant: every call must name it
    const demo = loadDemoSeed();
    // besides the demo's secrets: a machine offered to bob only, two folders down, and one whose metadata names no account
    const kv = (demo.kv ?? []).map((m) => ({
      ...m,
      secrets: [
        ...(m.secrets ?? []),
        { path: 'servers/lab/lnx-build07/ci', data: { password: 'Vlt-Kv-Ci-Test-8Pz' }, customMetadata: { machine: 'lnx-build07.lab.example', account: 'ci', users: 'bob', jump_method: 'shell' } },
        { path: 'servers/lab/srv-orphan09/note', data: { password: 'Vlt-Kv-Note-Test-3Qd' }, customMetadata: { machine: 'srv-orphan09' } },
      ],
    }));
    seed = { ...demo, kv, namespace: 'ops' };
    sim = createVaultSim({ seed });
    address = await sim.listen(0);
    system = await startVaultAdapters(CONFORMANCE_SERVICES);
    bus = system.bus;
    pg = new Client({ connectionString: system.databaseUrl });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await system?.close();
    await sim?.close();
  });

  it('saves the connection with secret_id and token sealed at rest and masked when shown; a bad setting is refused by name', async () => {
    const saved = await connect('hcv', { address, namespace: 'ops', allowInsecureHttp: true, auth: { method: 'approle', roleId: 'demo-role-id', secretId: 'demo-secret-id' }, sources });
    expect(saved.connection).toMatchObject({ type: 'hashicorp-vault', settings: { auth: { method: 'approle', roleId: 'demo-role-id', secretId: '********' } } });
    const token = await connect('hcv-token', { address, namespace: 'ops', allowInsecureHttp: true, auth: { method: 'token', token: 'demo-vault-token' }, sources });
    expect(token.connection.settings).toMatchObject({ auth: { method: 'token', token: '********' } });
    const stored = await pg.query('SELECT settings_sealed FROM vault.connection');
    expect(JSON.stringify(stored.rows)).not.toMatch(/demo-secret-id|demo-vault-token/);
    await expect(connect('hcv-bad', { address, allowInsecureHttp: true, auth: { method: 'approle', roleId: 'r' }, sources })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [expect.objectContaining({ field: 'settings.auth.secretId' })],
    });
    await expect(connect('hcv-bad', { address, allowInsecureHttp: true, auth: { method: 'token', token: 't' }, sources: [{ kind: 'kv', mount: '../sys' }] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [expect.objectContaining({ field: 'settings.sources.0.mount' })],
    });
    await pg.query(`DELETE FROM vault.connection WHERE name = 'hcv-token'`);
  });

  it('lists the library set, static roles and KV secrets whose endpoints and users match, names only', async () => {
    const alice = await list('alice@corp.example', 'srv-app01.corp.example');
    expect(alice.credentials.map((c) => c.name)).toEqual(['CORP\\rdp-admins']);
    expect(alice.credentials[0]).toMatchObject({ vault: 'hcv', username: 'rdp-admins', domain: 'CORP', scope: 'domain', rotateAfterRelease: true });
    expect((await list('bob', 'srv-app01')).credentials).toEqual([]);
    expect((await list('bob', '10.0.0.31')).credentials.map((c) => c.name)).toEqual(['10.0.0.31\\dbadmin']);
    // the deploy secret's custom_metadata offers it to bob only
    expect((await list('alice', 'srv-web01')).credentials.map((c) => c.name)).toEqual(['srv-web01\\root']);
    expect((await list('bob', 'SRV-WEB01')).credentials.map((c) => c.name).sort()).toEqual(['srv-web01\\deploy', 'srv-web01\\root']);
    const all = JSON.stringify(await Promise.all([list('alice', 'srv-app01'), list('bob', 'srv-db01'), list('bob', 'srv-web01')]));
    for (const secret of sim.state.allSecrets()) expect(all).not.toContain(secret);
  });

  it('reads a static role and has Vault rotate it after release; a KV secret is read and nothing is rotated', async () => {
    const role = (await list('bob', 'srv-db01')).credentials[0]!;
    const leaseId = randomUUID();
    const before = sim.state.passwordOf('static-role', 'ldap', 'srv-db01-admin');
    const out = await checkoutOpened(bus, { leaseId, vault: 'hcv', ref: role.ref, user: 'bob', durationMinutes: 30, reason: 'test' });
    expect(out).toMatchObject({ username: 'dbadmin', domain: null, secret: { type: 'password', value: before } });
    await expect(bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'done' })).resolves.toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.passwordOf('static-role', 'ldap', 'srv-db01-admin')).not.toBe(before);

    const root = (await list('alice', 'srv-web01')).credentials[0]!;
    const kvLease = randomUUID();
    const kv = await checkoutOpened(bus, { leaseId: kvLease, vault: 'hcv', ref: root.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    expect(kv).toMatchObject({ username: 'root', domain: null, secret: { type: 'password', value: 'Vlt-Kv-Root-Demo-2Lm' } });
    const rotations = sim.state.rotations().length;
    await expect(bus.request('vault.credentials.checkin.v1', { leaseId: kvLease, rotate: false, reason: 'done' })).resolves.toEqual({ checkedIn: true, rotationRequested: false });
    expect(sim.state.rotations()).toHaveLength(rotations);
  });

  it('lends each library account once: when the set is exhausted a check-out is CREDENTIAL_IN_USE, and a check-in frees one again', async () => {
    const set = (await list('alice', 'srv-app01')).credentials[0]!;
    const leases = [randomUUID(), randomUUID(), randomUUID()];
    const lend = (leaseId: string) => checkoutOpened(bus, { leaseId, vault: 'hcv', ref: set.ref, user: 'alice', durationMinutes: 30, reason: 'test' });
    const first = await lend(leases[0]!);
    const second = await lend(leases[1]!);
    expect(new Set([first.username, second.username])).toEqual(new Set(['svc-rdp-1', 'svc-rdp-2']));
    await expect(lend(leases[2]!)).rejects.toMatchObject({ code: 'CREDENTIAL_IN_USE' });
    await bus.request('vault.credentials.checkin.v1', { leaseId: leases[0]!, rotate: true, reason: 'done' });
    await bus.request('vault.credentials.checkin.v1', { leaseId: leases[1]!, rotate: true, reason: 'done' });
    expect(sim.state.checkouts()).toEqual([]);
  });

  it('refuses a reference to anything the settings do not name (a forged KV path)', async () => {
    await expect(
      checkoutOpened(bus, { leaseId: randomUUID(), vault: 'hcv', ref: { kind: 'kv', mount: 'secret', path: 'elsewhere/secret' }, user: 'alice', durationMinutes: 30, reason: 'test' }),
    ).rejects.toMatchObject({ code: 'VAULT_ACCOUNT_NOT_FOUND' });
  });

  it("the sweep checks in what a lease it no longer holds left lent, and leaves alone what OpenECM never recorded (Vault dates no loan)", async () => {
    const set = (await list('alice', 'srv-app01')).credentials[0]!;
    const [kept, lost] = [randomUUID(), randomUUID()];
    await checkoutOpened(bus, { leaseId: kept, vault: 'hcv', ref: set.ref, user: 'alice', durationMinutes: 30, reason: 'kept' });
    await checkoutOpened(bus, { leaseId: lost, vault: 'hcv', ref: set.ref, user: 'alice', durationMinutes: 30, reason: 'lost' });
    const swept = await bus.request('vault.checkouts.sweep.v1', { leaseIds: [kept] });
    expect(swept.vaults.find((v) => v.vault === 'hcv')).toMatchObject({ held: 2, owned: 1, checkedIn: 1, failed: 0, error: null });
    expect(JSON.stringify(swept)).not.toContain('svc-rdp');
    expect(sim.state.checkouts()).toHaveLength(1);
    await bus.request('vault.credentials.checkin.v1', { leaseId: kept, rotate: true, reason: 'done' });
    // lent by hand with the broker's own AppRole: nothing of OpenECM's records it, and Vault says not since when
    const login = await fetch(`${address}/v1/auth/approle/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-vault-namespace': 'ops' }, body: JSON.stringify({ role_id: 'demo-role-id', secret_id: 'demo-secret-id' }) });
    const token = ((await login.json()) as { auth: { client_token: string } }).auth.client_token;
    await fetch(`${address}/v1/ldap/library/rdp-admins/check-out`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-vault-token': token, 'x-vault-namespace': 'ops' }, body: '{}' });
    const again = await bus.request('vault.checkouts.sweep.v1', { leaseIds: [] });
    expect(again.vaults.find((v) => v.vault === 'hcv')).toMatchObject({ held: 1, young: 1, checkedIn: 0 });
    expect(sim.state.checkouts()).toHaveLength(1);
  });

  describe('external jump items', () => {
    const jumpSources = [
      { kind: 'library', set: 'rdp-admins', endpoints: ['srv-app01', '*.lab.example', 'srv-app02.corp.example'], domain: 'CORP', users: ['CORP\\alice'] },
      { kind: 'static-role', role: 'srv-db01-admin', endpoints: ['srv-db01', '10.0.0.31'], jumpMethod: 'shell' },
      { kind: 'kv', path: 'servers' },
      // the whole mount again: the same machines, each still one system; and a folder that does not exist
      { kind: 'kv' },
      { kind: 'kv', path: 'nothing-here' },
    ];
    const search = async (user: string, term: string, limit = 500) => {
      const answer = await bus.request('vault.systems.search.v1', { user, search: term, limit, skip: ['hcv'] });
      return { answer, jump: answer.vaults.find((v) => v.vault === 'hcv-jump') };
    };

    beforeAll(async () => {
      await connect('hcv-jump', { address, namespace: 'ops', allowInsecureHttp: true, auth: { method: 'token', token: 'demo-vault-token' }, sources: jumpSources });
    });

    it("finds the KV secrets' machines and the literal endpoints of the sets and roles the user may use, never a wildcard", async () => {
      const checkouts = sim.state.checkouts().length;
      const { answer, jump } = await search('alice@corp.example', 'SRV-');
      expect(answer.pending).toEqual([]);
      expect(jump).toEqual({
        vault: 'hcv-jump',
        truncated: false,
        systems: [
          { vault: 'hcv-jump', ref: { machine: 'srv-app01' }, name: 'srv-app01', hostname: 'srv-app01', ip: null, jumpMethod: 'rdp', comments: '', networkId: null },
          { vault: 'hcv-jump', ref: { machine: 'srv-app02.corp.example' }, name: 'srv-app02.corp.example', hostname: 'srv-app02.corp.example', ip: null, jumpMethod: 'rdp', comments: '', networkId: null },
          { vault: 'hcv-jump', ref: { machine: 'srv-db01' }, name: 'srv-db01', hostname: 'srv-db01', ip: null, jumpMethod: 'shell', comments: '', networkId: null },
          { vault: 'hcv-jump', ref: { machine: 'srv-web01' }, name: 'srv-web01', hostname: 'srv-web01', ip: null, jumpMethod: 'shell', comments: '', networkId: null },
        ],
      });
      // a search by address finds the KV machine and the static role's address, each with its ip
      const byIp = await search('alice', '10.0.0.');
      expect(byIp.jump?.systems.map((s) => [s.name, s.ip])).toEqual([
        ['10.0.0.21', '10.0.0.21'],
        ['10.0.0.31', '10.0.0.31'],
      ]);
      expect((await search('alice', '.lab.example')).jump?.systems).toEqual([]);
      // every system found is one a list offers the user a credential on; nothing was checked out, no secret answered
      for (const system of jump?.systems ?? []) expect((await list('alice', system.hostname)).credentials.length).toBeGreaterThan(0);
      expect(sim.state.checkouts()).toHaveLength(checkouts);
      const text = JSON.stringify([answer, byIp.answer]);
      for (const secret of sim.state.allSecrets()) expect(text).not.toContain(secret);
    });

    it("respects the users of a set and of a secret's metadata: another user sees other systems", async () => {
      expect((await search('bob', 'srv-')).jump?.systems.map((s) => s.name)).toEqual(['srv-db01', 'srv-web01']);
      expect((await search('alice', 'build')).jump?.systems).toEqual([]);
      expect((await search('CORP\\bob', 'build')).jump?.systems).toEqual([
        expect.objectContaining({ name: 'lnx-build07.lab.example', jumpMethod: 'shell' }),
      ]);
      // a secret naming no account offers no credential, so its machine is no jump item
      expect((await search('alice', 'orphan')).jump?.systems).toEqual([]);
    });

    it('answers the first systems by name and says when more matched', async () => {
      const { jump } = await search('alice', 'srv-', 2);
      expect(jump).toMatchObject({ truncated: true, systems: [{ name: 'srv-app01' }, { name: 'srv-app02.corp.example' }] });
      expect((await search('alice', 'srv-', 4)).jump?.truncated).toBe(false);
    });

    it('reports a vault that refuses the token as pending with a broker code naming no token, and the others answer', async () => {
      await connect('hcv-wrong', { address, namespace: 'ops', allowInsecureHttp: true, auth: { method: 'token', token: 'not-the-vault-token' }, sources: jumpSources });
      const { answer, jump } = await search('alice', 'srv-');
      expect(answer.pending).toEqual([{ vault: 'hcv-wrong', reason: expect.stringMatching(/^VAULT_FORBIDDEN: HashiCorp Vault answered .* with 403$/) }]);
      expect(JSON.stringify(answer.pending)).not.toContain('not-the-vault-token');
      expect(jump?.systems).toHaveLength(4);
    });
  });

  it('walks a KV source once for every user and endpoint for a while, and afresh once the connection is saved again', async () => {
    const names = async (user: string, endpoint: string) => (await list(user, endpoint)).credentials.filter((c) => c.vault === 'hcv').map((c) => c.name);
    // a list for one endpoint walks KV; a secret then added at Vault for another endpoint is not walked again yet
    expect(await names('bob', 'srv-web01')).not.toEqual([]);
    const added = { path: 'servers/new/srv-new42/svc', data: { password: 'Vlt-Kv-New-Test-5Rt' }, customMetadata: { machine: 'srv-new42', account: 'svc-new' } };
    sim.state.reset({ ...seed, kv: (seed.kv ?? []).map((m, i) => (i === 0 ? { ...m, secrets: [...(m.secrets ?? []), added] } : m)) });
    expect(await names('bob', 'srv-new42')).toEqual([]);
    // saving the connection (on any instance: the change reaches every one) drops what was walked
    await connect('hcv', { address, namespace: 'ops', allowInsecureHttp: true, auth: { method: 'approle', roleId: 'demo-role-id', secretId: 'demo-secret-id' }, sources });
    expect(await names('bob', 'srv-new42')).toEqual(['srv-new42\\svc-new']);
    sim.state.reset(seed);
  });
});
