import { waitFor } from '@openecm/testing';
import type { PasswordSafeClient, PasswordSafeSession } from '../password-safe/password-safe.client';
import { PasswordSafeSystems } from './password-safe-systems';
import { firstByName, isIpAddress, jumpMethodOfSessionType, jumpMethodOfTemplate, matchesSearch } from './systems';

describe('how systems are reached and matched', () => {
  it('maps Password Safe session types and Secret Server templates to RDP or shell, and leaves the rest out', () => {
    expect([jumpMethodOfSessionType('RDP'), jumpMethodOfSessionType('ssh'), jumpMethodOfSessionType(null), jumpMethodOfSessionType('Web')]).toEqual(['rdp', 'shell', undefined, undefined]);
    expect(['Windows Account', 'Unix Account (SSH)', 'Unix Account (SSH Key Rotation)', 'Linux Root', 'Web Password', 'SQL Server Account', 'Active Directory Account'].map(jumpMethodOfTemplate)).toEqual([
      'rdp',
      'shell',
      'shell',
      'shell',
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('matches any known name case-insensitively by a lower-case needle, and sorts by name', () => {
    expect(matchesSearch(['SRV-APP01', null, '10.0.0.11'], 'app')).toBe(true);
    expect(matchesSearch(['SRV-APP01', undefined], '10.0')).toBe(false);
    expect(isIpAddress('10.0.0.11') && isIpAddress('fe80::1') && !isIpAddress('srv-app01') && !isIpAddress('cafe')).toBe(true);
    const system = (name: string) => ({ vault: 'v', ref: {}, name, hostname: name, ip: null, jumpMethod: 'rdp' as const, comments: '', networkId: null });
    expect(firstByName([system('b'), system('A'), system('c')], 2)).toEqual({ systems: [system('A'), system('b')], truncated: true });
  });
});

describe('Password Safe systems kept in process', () => {
  const session: PasswordSafeSession = { cookie: 'c' };

  function fakeClient() {
    const calls = { systems: 0, accounts: 0 };
    let failSystems = false;
    let systems = [{ ManagedSystemID: 1, SystemName: 'srv-app01', HostName: 'srv-app01', DnsName: 'srv-app01.corp.example', IPAddress: '10.0.0.11', PlatformID: 1, WorkgroupID: 1, Description: 'App' }];
    const client = {
      managedSystemsPage: async () => {
        calls.systems += 1;
        if (failSystems) throw new Error('vault down');
        return { TotalCount: systems.length, Data: systems };
      },
      listPlatforms: async () => [{ PlatformID: 1, Name: 'Windows', DefaultSessionType: 'RDP' }],
      listWorkgroups: async () => [{ ID: 1, Name: 'BeyondTrust Workgroup' }],
      listManagedAccounts: async (_session: PasswordSafeSession, query: { type?: string }) => {
        calls.accounts += 1;
        return query.type === 'system' ? [{ SystemId: 1, SystemName: 'srv-app01', AccountId: 11, AccountName: 'Administrator', PlatformID: 1 }, { SystemId: 2, SystemName: 'srv-new02', AccountId: 12, AccountName: 'Administrator', PlatformID: 1 }] : [];
      },
    };
    return {
      client: client as unknown as PasswordSafeClient,
      calls,
      failNext: () => {
        failSystems = true;
      },
      heal: () => {
        failSystems = false;
      },
      rename: (name: string) => {
        systems = [{ ...systems[0]!, SystemName: name }];
      },
    };
  }

  it('answers from the inventory and the user’s requestable systems, showing a system newer than the inventory by its account’s name', async () => {
    const fake = fakeClient();
    const systems = new PasswordSafeSystems({ inventoryTtlMs: 60_000, entitlementTtlMs: 30_000 });
    const answer = await systems.search('ps', 'https://ps/', 'alice', fake.client, session, 'SRV', 10);
    expect(answer).toEqual({
      truncated: false,
      systems: [
        { vault: 'ps', ref: { systemId: 1 }, name: 'srv-app01', hostname: 'srv-app01.corp.example', ip: '10.0.0.11', jumpMethod: 'rdp', comments: 'App', networkId: 'BeyondTrust Workgroup' },
        { vault: 'ps', ref: { systemId: 2 }, name: 'srv-new02', hostname: 'srv-new02', ip: null, jumpMethod: 'rdp', comments: '', networkId: null },
      ],
    });
  });

  it('reuses the inventory within its time, then serves it stale while a refresh loads, and keeps it when a refresh fails', async () => {
    let now = 1_000_000;
    const fake = fakeClient();
    const systems = new PasswordSafeSystems({ inventoryTtlMs: 60_000, entitlementTtlMs: 30_000, now: () => now });
    await systems.search('ps', 'u', 'alice', fake.client, session, 'srv', 10);
    await systems.search('ps', 'u', 'bob', fake.client, session, 'app', 10);
    expect(fake.calls).toEqual({ systems: 1, accounts: 4 });
    await systems.search('ps', 'u', 'alice', fake.client, session, '10.0', 10);
    expect(fake.calls.accounts).toBe(4);

    now += 61_000;
    fake.rename('srv-renamed');
    fake.failNext();
    const stale = await systems.search('ps', 'u', 'alice', fake.client, session, 'srv-app', 10);
    expect(stale.systems.map((s) => s.name)).toEqual(['srv-app01']);
    expect(fake.calls.systems).toBe(2);
    fake.heal();
    // the refresh that failed is tried again (in the background), and its answer is used from then on
    const names = async () => (await systems.search('ps', 'u', 'alice', fake.client, session, 'srv', 10)).systems.map((s) => s.name);
    await waitFor(async () => (await names()).includes('srv-renamed'), { what: 'the refreshed inventory' });
    expect(await names()).toEqual(['srv-new02', 'srv-renamed']);
    expect(fake.calls.systems).toBe(3);
  });

  it('forgets a connection, and never takes an inventory for another URL of the same name', async () => {
    const fake = fakeClient();
    const systems = new PasswordSafeSystems({ inventoryTtlMs: 60_000, entitlementTtlMs: 30_000 });
    await systems.search('ps', 'https://one/', 'alice', fake.client, session, 'srv', 10);
    await systems.search('ps', 'https://two/', 'alice', fake.client, session, 'srv', 10);
    expect(fake.calls.systems).toBe(2);
    systems.forget('ps');
    await systems.search('ps', 'https://one/', 'alice', fake.client, session, 'srv', 10);
    expect(fake.calls).toEqual({ systems: 3, accounts: 6 });
  });
});
