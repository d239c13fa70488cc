import { postControl, simHarness } from '@openecm/sim-kit/testing';
import { SimState, createPasswordSafeSim, generateSeed, type SimSeed } from './sim';

const { start, closeAll } = simHarness(createPasswordSafeSim);

afterEach(closeAll);

const cookieOf = (res: Response): string =>
  res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');

async function session(base: string, runAs: string): Promise<string> {
  const res = await fetch(`${base}Auth/SignAppin`, { method: 'POST', headers: { authorization: `PS-Auth key=demo-api-key; runas=${runAs};` } });
  expect(res.status).toBe(200);
  return cookieOf(res);
}

const getJson = async (base: string, path: string, cookie: string): Promise<unknown> => {
  const res = await fetch(`${base}${path}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return res.json();
};

interface System {
  ManagedSystemID: number;
  SystemName: string;
  PlatformID: number;
  WorkgroupID: number;
  Description: string | null;
}

describe('ManagedSystems paging, as the vendor answers it', () => {
  it('answers an array without limit and {TotalCount, Data} with it; offset goes only with limit', async () => {
    const { base } = await start({ seed: generateSeed({ systems: 30, users: 5 }) });
    const cookie = await session(base, 'alice');
    const all = (await getJson(base, 'ManagedSystems', cookie)) as System[];
    expect(Array.isArray(all)).toBe(true);
    expect(all).toHaveLength(30);
    const page = (await getJson(base, 'ManagedSystems?limit=10&offset=25', cookie)) as { TotalCount: number; Data: System[] };
    expect(page.TotalCount).toBe(30);
    expect(page.Data.map((s) => s.ManagedSystemID)).toEqual(all.slice(25).map((s) => s.ManagedSystemID));
    const first = (await getJson(base, 'ManagedSystems?limit=10', cookie)) as { TotalCount: number; Data: System[] };
    expect(first.Data).toHaveLength(10);
    const bad = await fetch(`${base}ManagedSystems?offset=5`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect((await fetch(`${base}ManagedSystems?limit=0`, { headers: { cookie } })).status).toBe(400);
    const named = (await getJson(base, `ManagedSystems?name=${all[5]?.SystemName.toUpperCase()}`, cookie)) as System[];
    expect(named.map((s) => s.ManagedSystemID)).toEqual([all[5]?.ManagedSystemID]);
    expect(await getJson(base, 'ManagedSystems?type=2', cookie)).toEqual([]);
  });

  it('answers Platforms with their default session type, and Workgroups by ID and Name', async () => {
    const { base } = await start({ seed: generateSeed({ systems: 10, users: 2 }) });
    const cookie = await session(base, 'alice');
    const platforms = (await getJson(base, 'Platforms', cookie)) as { PlatformID: number; Name: string; DefaultSessionType: string | null }[];
    expect(platforms.find((p) => p.PlatformID === 1)).toMatchObject({ Name: 'Windows', DefaultSessionType: 'RDP' });
    expect(platforms.find((p) => p.PlatformID === 2)).toMatchObject({ Name: 'Linux', DefaultSessionType: 'SSH' });
    expect(platforms.filter((p) => p.DefaultSessionType === null).map((p) => p.Name)).toEqual(
      expect.arrayContaining(['MS SQL Server', 'Active Directory', 'Website']),
    );
    const workgroups = (await getJson(base, 'Workgroups', cookie)) as { ID: number; Name: string; OrganizationID: string }[];
    expect(workgroups.map((w) => w.Name)).toEqual(['BeyondTrust Workgroup', 'Amsterdam DC', 'Frankfurt DC', 'New York DC', 'Singapore DC', 'London DMZ']);
    expect(workgroups[0]).toEqual({ ID: 1, Name: 'BeyondTrust Workgroup', OrganizationID: expect.any(String) });
    expect((await fetch(`${base}Platforms`)).status).toBe(401);
  });
});

describe('generated inventories', () => {
  it('is the same for the same numbers, and holds the demo seed besides', () => {
    const a = generateSeed({ systems: 200, users: 40, seed: 7 });
    expect(generateSeed({ systems: 200, users: 40, seed: 7 })).toEqual(a);
    expect(generateSeed({ systems: 200, users: 40, seed: 8 })).not.toEqual(a);
    expect(a.managedSystems).toHaveLength(200);
    expect(a.managedSystems?.slice(0, 2).map((s) => s.SystemName)).toEqual(['srv-app01', 'lnx-web01']);
    expect(a.users?.map((u) => u.userName)).toEqual(expect.arrayContaining(['alice', 'bob', 'CORP\\alice', 'user0001', 'user0040']));
    expect(new Set(a.managedSystems?.map((s) => s.SystemName)).size).toBe(200);
  });

  it('mixes platforms and workgroups, and leaves about one system in ten without an API-enabled account', () => {
    const seed = generateSeed({ systems: 5000, users: 100 });
    const systems = seed.managedSystems ?? [];
    const share = (platform: number) => systems.filter((s) => s.PlatformID === platform).length / systems.length;
    expect(share(1)).toBeGreaterThan(0.4);
    expect(share(2)).toBeGreaterThan(0.2);
    expect(systems.some((s) => s.PlatformID === 8) && systems.some((s) => s.PlatformID === 38) && systems.some((s) => s.PlatformID === 47)).toBe(true);
    expect(new Set(systems.map((s) => s.WorkgroupID)).size).toBe(6);
    const enabled = new Set((seed.managedAccounts ?? []).filter((a) => a.apiEnabled !== false).map((a) => a.SystemId));
    const without = systems.filter((s) => !enabled.has(s.ManagedSystemID)).length / systems.length;
    expect(without).toBeGreaterThan(0.06);
    expect(without).toBeLessThan(0.14);
  });

  it("shows a run-as user only its team's requestable accounts, through the team's user group", async () => {
    const seed = generateSeed({ systems: 400, users: 40 });
    const { base } = await start({ seed });
    const alice = await session(base, 'alice');
    const accounts = (await getJson(base, 'ManagedAccounts?type=system', alice)) as { SystemId: number; AccountId: number }[];
    const generated = accounts.filter((a) => a.SystemId >= 10_001);
    expect(generated.length).toBeGreaterThan(0);
    const byId = new Map((seed.managedAccounts ?? []).map((a) => [a.AccountId, a]));
    for (const account of generated) {
      expect(byId.get(account.AccountId)).toMatchObject({ requesterGroups: ['team-001'] });
      expect(byId.get(account.AccountId)?.apiEnabled).not.toBe(false);
    }
    const teamEnabled = (seed.managedAccounts ?? []).filter((a) => a.requesterGroups?.[0] === 'team-001' && a.apiEnabled !== false);
    expect(generated).toHaveLength(teamEnabled.length);
    const linked = (await getJson(base, 'ManagedAccounts?type=domainlinked', alice)) as { AccountName: string }[];
    expect(linked.map((a) => a.AccountName)).toContain('pra-team-001');
    const groups = seed.users?.find((u) => u.userName === 'user0002')?.groups ?? [];
    const theirs = (await getJson(base, 'ManagedAccounts?type=system', await session(base, 'user0002'))) as { AccountId: number; SystemId: number }[];
    const expected = (seed.managedAccounts ?? []).filter((a) => a.apiEnabled !== false && a.requesterGroups?.some((g) => groups.includes(g)));
    expect(theirs.filter((a) => a.SystemId >= 10_001).map((a) => a.AccountId).sort()).toEqual(expected.map((a) => a.AccountId).sort());
  });

  it('is loaded by POST /_sim/generate, and a bad request changes nothing', async () => {
    const { base, origin } = await start();
    expect((await postControl(origin, 'generate', { systems: 0 })).status).toBe(400);
    expect((await postControl(origin, 'generate', { systems: 10, extra: true })).status).toBe(400);
    const cookie = await session(base, 'alice');
    expect(((await getJson(base, 'ManagedSystems', cookie)) as System[]).length).toBe(2);
    const res = await postControl(origin, 'generate', { systems: 120, users: 10 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ managedSystems: 120, users: 13, workgroups: 6 });
    const page = (await getJson(base, 'ManagedSystems?limit=1', await session(base, 'user0003'))) as { TotalCount: number };
    expect(page.TotalCount).toBe(120);
  });

  it('holds 100 000 managed systems and answers a page and a user’s accounts quickly', () => {
    const seed: SimSeed = generateSeed({ systems: 100_000 });
    const state = new SimState(seed, 60_000);
    const startedAt = Date.now();
    const page = state.listManagedSystems({ limit: '1000', offset: '99000' }) as { TotalCount: number; Data: unknown[] };
    expect(page.TotalCount).toBe(100_000);
    expect(page.Data).toHaveLength(1000);
    const signedIn = state.signInWithPsAuth('PS-Auth key=demo-api-key; runas=user0500;');
    const session = state.authenticate(`ASP.NET_SessionId=${signedIn.session.id}; __RequestVerificationToken=${signedIn.session.csrf}`, undefined);
    const accounts = state.listManagedAccounts(session, { type: 'system', limit: '1000' }) as unknown[];
    expect(accounts.length).toBeGreaterThan(500);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });
});
