import { join } from 'node:path';
import { z } from 'zod';
import { seedChecks, seedFiles } from '@openecm/sim-kit';

export const DEMO_SEED_PATH = join(__dirname, '..', 'seed', 'demo.json');

const requesters = z.union([z.literal('all'), z.array(z.string().min(1))]);

const apiRegistrationSchema = z.object({
  key: z.string().min(1),
  name: z.string().default('API registration'),
  requirePassword: z.boolean().default(false),
  // Some registrations re-check the PS-Auth header on every call, which is why clients resend it.
  checkHeaderEveryCall: z.boolean().default(false),
});

const oauthClientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  userId: z.number().int().positive(),
  name: z.string().default('OAuth application'),
});

const userSchema = z.object({
  userId: z.number().int().positive(),
  userName: z.string().min(1),
  password: z.string().optional(),
  name: z.string().optional(),
  email: z.string().nullable().default(null),
  sid: z.string().optional(),
  /** Password Safe user groups; an account's requesterGroups name them. */
  groups: z.array(z.string().min(1)).default([]),
});

const workgroupSchema = z.object({ WorkgroupID: z.number().int().positive(), Name: z.string().min(1) });

const platformSchema = z.object({
  PlatformID: z.number().int().positive(),
  Name: z.string().min(1),
  ShortName: z.string().min(1),
  PortFlag: z.boolean().default(false),
  DefaultPort: z.number().int().nullable().default(null),
  /** How the vendor's own remote access reaches a system of this platform; null for databases, directories, web. */
  DefaultSessionType: z.enum(['RDP', 'SSH']).nullable().default(null),
});

/**
 * The platforms `GET Platforms` answers. Windows (1) and Linux (2) carry the ids the demo seed uses; the others'
 * ids are this simulator's own. Clients should go by DefaultSessionType, never by an id.
 */
export const BUILTIN_PLATFORMS = z.array(platformSchema).parse([
  { PlatformID: 1, Name: 'Windows', ShortName: 'Windows', DefaultSessionType: 'RDP' },
  { PlatformID: 2, Name: 'Linux', ShortName: 'Linux', PortFlag: true, DefaultPort: 22, DefaultSessionType: 'SSH' },
  { PlatformID: 3, Name: 'AIX', ShortName: 'AIX', PortFlag: true, DefaultPort: 22, DefaultSessionType: 'SSH' },
  { PlatformID: 4, Name: 'HP-UX', ShortName: 'HP-UX', PortFlag: true, DefaultPort: 22, DefaultSessionType: 'SSH' },
  { PlatformID: 5, Name: 'Solaris', ShortName: 'Solaris', PortFlag: true, DefaultPort: 22, DefaultSessionType: 'SSH' },
  { PlatformID: 8, Name: 'MS SQL Server', ShortName: 'MSSQL', PortFlag: true, DefaultPort: 1433 },
  { PlatformID: 9, Name: 'Oracle', ShortName: 'Oracle', PortFlag: true, DefaultPort: 1521 },
  { PlatformID: 25, Name: 'Active Directory', ShortName: 'AD' },
  { PlatformID: 38, Name: 'Website', ShortName: 'Web' },
  { PlatformID: 47, Name: 'Cisco', ShortName: 'Cisco', PortFlag: true, DefaultPort: 22, DefaultSessionType: 'SSH' },
]);

const managedSystemSchema = z.object({
  ManagedSystemID: z.number().int().positive(),
  AssetID: z.number().int().nullable().default(null),
  WorkgroupID: z.number().int().positive(),
  HostName: z.string(),
  DnsName: z.string().nullable().default(null),
  IPAddress: z.string().nullable().default(null),
  SystemName: z.string().min(1),
  PlatformID: z.number().int(),
  Port: z.number().int().nullable().default(null),
  ReleaseDuration: z.number().int().positive().default(120),
  MaxReleaseDuration: z.number().int().positive().default(525600),
  ChangePasswordAfterAnyReleaseFlag: z.boolean().default(false),
  RemoteClientType: z.string().default('None'),
  Description: z.string().nullable().default(null),
});

const accountCommon = {
  AccountId: z.number().int().positive(),
  AccountName: z.string().min(1),
  UserPrincipalName: z.string().nullable().default(null),
  AccountDescription: z.string().nullable().default(null),
  password: z.string().min(1),
  apiEnabled: z.boolean().default(true),
  requiresApproval: z.boolean().default(false),
  requesters: requesters.default('all'),
  /** With a list of requesters: members of these user groups may request the account too. */
  requesterGroups: z.array(z.string().min(1)).default([]),
  DefaultReleaseDuration: z.number().int().positive().default(120),
  MaximumReleaseDuration: z.number().int().positive().default(525600),
};

const managedAccountSchema = z.object({
  ...accountCommon,
  SystemId: z.number().int().positive(),
  DomainName: z.string().nullable().default(null),
});

const domainLinkedAccountSchema = z.object({
  ...accountCommon,
  DomainName: z.string().min(1),
  linkedSystemIds: z.array(z.number().int().positive()).min(1),
});

export const simSeedSchema = z
  .object({
    apiRegistrations: z.array(apiRegistrationSchema).default([]),
    oauthClients: z.array(oauthClientSchema).default([]),
    users: z.array(userSchema).default([]),
    workgroups: z.array(workgroupSchema).default([]),
    platforms: z.array(platformSchema).default(() => BUILTIN_PLATFORMS),
    managedSystems: z.array(managedSystemSchema).default([]),
    managedAccounts: z.array(managedAccountSchema).default([]),
    domainLinkedAccounts: z.array(domainLinkedAccountSchema).default([]),
  })
  .superRefine(seedChecks((seed, { report, unique }) => {
    const systemIds = new Set(seed.managedSystems.map((s) => s.ManagedSystemID));
    unique(seed.managedSystems.map((s) => s.ManagedSystemID), 'ManagedSystemID values');
    // Requests name an account by AccountID alone, so local and directory accounts share one id space.
    unique([...seed.managedAccounts, ...seed.domainLinkedAccounts].map((a) => a.AccountId), 'AccountId values');
    const userNames = seed.users.map((u) => u.userName.toLowerCase());
    if (new Set(userNames).size !== userNames.length) report('user names must be unique (case-insensitive)');
    const workgroupIds = new Set(seed.workgroups.map((w) => w.WorkgroupID));
    unique(seed.platforms.map((p) => p.PlatformID), 'PlatformID values');
    const platformIds = new Set(seed.platforms.map((p) => p.PlatformID));
    for (const system of seed.managedSystems) {
      if (seed.workgroups.length > 0 && !workgroupIds.has(system.WorkgroupID)) {
        report(`system ${system.ManagedSystemID} names unknown workgroup ${system.WorkgroupID}`);
      }
      if (!platformIds.has(system.PlatformID)) report(`system ${system.ManagedSystemID} names unknown platform ${system.PlatformID}`);
    }
    for (const account of seed.managedAccounts) {
      if (!systemIds.has(account.SystemId)) report(`account ${account.AccountId} names unknown system ${account.SystemId}`);
    }
    for (const account of seed.domainLinkedAccounts) {
      for (const id of account.linkedSystemIds) {
        if (!systemIds.has(id)) report(`domain account ${account.AccountId} is linked to unknown system ${id}`);
      }
    }
  }));

/** What a seed author writes (defaults may be left out). */
export type SimSeed = z.input<typeof simSeedSchema>;
/** A seed after validation, with every default filled in. */
export type ParsedSeed = z.output<typeof simSeedSchema>;
export type SeedManagedSystem = ParsedSeed['managedSystems'][number];
export type SeedManagedAccount = ParsedSeed['managedAccounts'][number];
export type SeedDomainLinkedAccount = ParsedSeed['domainLinkedAccounts'][number];
export type SeedUser = ParsedSeed['users'][number];
export type SeedPlatform = ParsedSeed['platforms'][number];

export const EMPTY_SEED: SimSeed = {};

export const { parseSeed, loadSeedFile, loadDemoSeed } = seedFiles<SimSeed, ParsedSeed>(simSeedSchema, 'Password Safe simulator', DEMO_SEED_PATH);
