import { z } from 'zod';
import { padNumber, pickOne, pickWeighted, seededRandom } from '@openecm/sim-kit';
import { loadDemoSeed, type SimSeed } from './seed';

export const generateOptionsSchema = z.strictObject({
  /** Managed systems in all, the demo seed's included. */
  systems: z.number().int().min(1).max(200_000),
  /** Generated run-as users (`user0001`...), besides the demo seed's. */
  users: z.number().int().min(1).max(20_000).default(1000),
  /** The same numbers give the same inventory, so a test or a bench run can be repeated. */
  seed: z.number().int().default(1),
});
export type GenerateOptions = z.input<typeof generateOptionsSchema>;

/** Users per team: a team's members may request its systems' accounts (through the team's user group). */
const TEAM_SIZE = 20;
const FIRST_SYSTEM_ID = 10_001;
const FIRST_ACCOUNT_ID = 100_001;

const SITES = [
  { code: 'ams', workgroup: 2, name: 'Amsterdam DC', city: 'Amsterdam' },
  { code: 'fra', workgroup: 3, name: 'Frankfurt DC', city: 'Frankfurt' },
  { code: 'nyc', workgroup: 4, name: 'New York DC', city: 'New York' },
  { code: 'sgp', workgroup: 5, name: 'Singapore DC', city: 'Singapore' },
  { code: 'lon', workgroup: 6, name: 'London DMZ', city: 'London' },
] as const;

interface Kind {
  platform: number;
  weight: number;
  roles: readonly [string, ...string[]];
  what: string;
  accounts: readonly [string, string];
  port: number | null;
}

/** Mostly Windows and Linux, as real estates are; databases, directories, web sites and network gear besides. */
const KINDS: readonly [Kind, ...Kind[]] = [
  { platform: 1, weight: 50, roles: ['app', 'web', 'file', 'rds', 'adm'], what: 'Windows server', accounts: ['Administrator', 'svc-backup'], port: null },
  { platform: 2, weight: 30, roles: ['web', 'db', 'k8s', 'mq', 'bastion'], what: 'Linux server', accounts: ['root', 'deploy'], port: 22 },
  { platform: 3, weight: 2, roles: ['erp'], what: 'AIX host', accounts: ['root', 'erpadm'], port: 22 },
  { platform: 4, weight: 1, roles: ['bill'], what: 'HP-UX host', accounts: ['root', 'billadm'], port: 22 },
  { platform: 5, weight: 2, roles: ['sun'], what: 'Solaris host', accounts: ['root', 'oper'], port: 22 },
  { platform: 47, weight: 2, roles: ['rtr', 'sw'], what: 'Cisco device', accounts: ['admin', 'netops'], port: 22 },
  { platform: 8, weight: 6, roles: ['sql'], what: 'SQL Server instance', accounts: ['sa', 'svc-sql'], port: 1433 },
  { platform: 9, weight: 3, roles: ['ora'], what: 'Oracle database', accounts: ['SYSTEM', 'app_owner'], port: 1521 },
  { platform: 25, weight: 2, roles: ['dir'], what: 'directory', accounts: ['svc-ad-sync', 'svc-ldap'], port: null },
  { platform: 38, weight: 2, roles: ['portal'], what: 'web site', accounts: ['webadmin', 'cms-editor'], port: null },
];

/**
 * A realistic inventory for jump-item searches and load: the demo seed (its users, keys, systems and accounts)
 * plus generated managed systems across five sites (one workgroup each), mostly Windows and Linux with databases,
 * directories, web sites and network devices among them. Each system belongs to a team and its accounts may be
 * requested by that team's user group; one in ten systems has no API-enabled account and so is never requestable;
 * each team has a directory account linked to a few of its Windows systems. Generated users are `user0001`...,
 * in one team each (one in five in a second); alice is in team 1 and bob in team 2.
 */
export function generateSeed(input: GenerateOptions): SimSeed {
  const options = generateOptionsSchema.parse(input);
  const rand = seededRandom(options.seed);
  const demo = loadDemoSeed();
  const teams = Math.max(1, Math.ceil(options.users / TEAM_SIZE));
  const team = (n: number): string => `team-${padNumber(n + 1, 3)}`;

  const demoUsers = (demo.users ?? []).map((u) => {
    const name = u.userName.toLowerCase();
    return { ...u, groups: name === 'alice' ? [team(0)] : name === 'bob' ? [team(1 % teams)] : (u.groups ?? []) };
  });
  const users = Array.from({ length: options.users }, (_, i) => {
    const first = i % teams;
    const groups = rand() < 0.2 && teams > 1 ? [team(first), team((first + 1 + Math.floor(rand() * (teams - 1))) % teams)] : [team(first)];
    const id = i + 1;
    return { userId: 1000 + id, userName: `user${padNumber(id, 4)}`, name: `Generated User ${id}`, email: `user${padNumber(id, 4)}@corp.example`, groups };
  });

  const managedSystems = [...(demo.managedSystems ?? [])];
  const managedAccounts = [...(demo.managedAccounts ?? [])];
  const domainLinkedAccounts = [...(demo.domainLinkedAccounts ?? [])];
  const windowsByTeam = new Map<number, number[]>();
  let accountId = FIRST_ACCOUNT_ID;
  const count = Math.max(0, options.systems - managedSystems.length);
  for (let i = 0; i < count; i++) {
    const id = FIRST_SYSTEM_ID + i;
    const kind = pickWeighted(rand, KINDS);
    const site = pickOne(rand, SITES);
    const name = `${site.code}-${pickOne(rand, kind.roles)}-${padNumber(i + 1, 6)}`;
    const owner = i % teams;
    managedSystems.push({
      ManagedSystemID: id,
      AssetID: 200_000 + i,
      WorkgroupID: site.workgroup,
      HostName: name,
      DnsName: rand() < 0.95 ? `${name}.${site.code}.corp.example` : null,
      IPAddress: rand() < 0.97 ? `10.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` : null,
      SystemName: name,
      PlatformID: kind.platform,
      Port: kind.port,
      ReleaseDuration: 120,
      MaxReleaseDuration: 10_080,
      ChangePasswordAfterAnyReleaseFlag: rand() < 0.5,
      Description: rand() < 0.8 ? `${kind.what}, ${site.city}, ${team(owner)}` : null,
    });
    const apiEnabled = rand() >= 0.1;
    const accounts = rand() < 0.3 ? kind.accounts : kind.accounts.slice(0, 1);
    for (const accountName of accounts) {
      const aid = accountId++;
      managedAccounts.push({
        AccountId: aid,
        SystemId: id,
        AccountName: accountName,
        password: `Gen-${aid}-${Math.floor(rand() * 1e9).toString(36)}!`,
        apiEnabled,
        requesters: [],
        requesterGroups: [team(owner)],
        DefaultReleaseDuration: 60,
        MaximumReleaseDuration: 480,
      });
    }
    if (kind.platform === 1) {
      const list = windowsByTeam.get(owner) ?? [];
      if (list.length < 25) list.push(id);
      windowsByTeam.set(owner, list);
    }
  }
  for (const [owner, systemIds] of windowsByTeam) {
    const aid = accountId++;
    domainLinkedAccounts.push({
      AccountId: aid,
      AccountName: `pra-${team(owner)}`,
      DomainName: 'CORP',
      UserPrincipalName: `pra-${team(owner)}@corp.example`,
      password: `Gen-${aid}-${Math.floor(rand() * 1e9).toString(36)}!`,
      linkedSystemIds: systemIds,
      requesters: [],
      requesterGroups: [team(owner)],
      AccountDescription: `Directory account of ${team(owner)} for remote access`,
    });
  }

  return {
    ...demo,
    users: [...demoUsers, ...users],
    workgroups: [...(demo.workgroups ?? []), ...SITES.map((s) => ({ WorkgroupID: s.workgroup, Name: s.name }))],
    managedSystems,
    managedAccounts,
    domainLinkedAccounts,
  };
}

export function summariseSeed(seed: SimSeed): Record<string, number> {
  return {
    managedSystems: seed.managedSystems?.length ?? 0,
    managedAccounts: seed.managedAccounts?.length ?? 0,
    domainLinkedAccounts: seed.domainLinkedAccounts?.length ?? 0,
    users: seed.users?.length ?? 0,
    workgroups: seed.workgroups?.length ?? 0,
  };
}
