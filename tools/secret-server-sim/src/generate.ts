import { z } from 'zod';
import { padNumber, pickOne, pickWeighted, seededRandom } from '@openecm/sim-kit';
import { BUILTIN_TEMPLATES, loadDemoSeed, type SimSeed } from './seed';

export const generateOptionsSchema = z.strictObject({
  /** Generated secrets, besides the demo seed's: machine secrets mostly, a few web and database ones. */
  secrets: z.number().int().min(1).max(200_000),
  /** Generated directory users (`CORP\user0001`...), each with delegated trust approved for the API account. */
  users: z.number().int().min(1).max(20_000).default(1000),
  /** The same numbers give the same inventory. */
  seed: z.number().int().default(1),
});
export type GenerateOptions = z.input<typeof generateOptionsSchema>;

const TEAM_SIZE = 20;
const FIRST_SECRET_ID = 100_001;
const FIRST_USER_ID = 1001;
const FIRST_TEAM_FOLDER_ID = 1001;
/** The demo seed's API account, which impersonates every user. */
const API_USER = 'openecm-api';

/**
 * Templates a real installation has besides the stock three: an SSH key rotation template (a machine secret),
 * and web and database templates that name no machine, so they never make a jump item.
 */
export const EXTRA_TEMPLATES = z
  .array(z.object({ id: z.number(), name: z.string(), fields: z.array(z.object({ id: z.number(), name: z.string(), slug: z.string(), isPassword: z.boolean().optional(), isNotes: z.boolean().optional(), isFile: z.boolean().optional() })) }))
  .parse([
    {
      id: 6010,
      name: 'Web Password',
      fields: [
        { id: 301, name: 'URL', slug: 'url' },
        { id: 302, name: 'Username', slug: 'username' },
        { id: 303, name: 'Password', slug: 'password', isPassword: true },
        { id: 304, name: 'Notes', slug: 'notes', isNotes: true },
      ],
    },
    {
      id: 6011,
      name: 'SQL Server Account',
      fields: [
        { id: 311, name: 'Server', slug: 'server' },
        { id: 312, name: 'Username', slug: 'username' },
        { id: 313, name: 'Password', slug: 'password', isPassword: true },
        { id: 314, name: 'Database', slug: 'database' },
      ],
    },
    {
      id: 6012,
      name: 'Unix Account (SSH Key Rotation)',
      fields: [
        { id: 321, name: 'Machine', slug: 'machine' },
        { id: 322, name: 'Username', slug: 'username' },
        { id: 323, name: 'Password', slug: 'password', isPassword: true },
        { id: 324, name: 'Private Key', slug: 'private-key', isFile: true },
      ],
    },
  ]);

const SITES = ['ams', 'fra', 'nyc', 'sgp', 'lon'] as const;

interface Kind {
  template: string;
  weight: number;
  roles: readonly [string, ...string[]];
  username: string;
  /** The field that names where the secret is used; only `machine` makes a system. */
  place: 'machine' | 'url' | 'server';
}

const KINDS: readonly [Kind, ...Kind[]] = [
  { template: 'Windows Account', weight: 55, roles: ['app', 'web', 'file', 'rds', 'adm'], username: 'Administrator', place: 'machine' },
  { template: 'Unix Account (SSH)', weight: 30, roles: ['web', 'db', 'k8s', 'mq', 'bastion'], username: 'root', place: 'machine' },
  { template: 'Unix Account (SSH Key Rotation)', weight: 5, roles: ['git', 'ci'], username: 'deploy', place: 'machine' },
  { template: 'SQL Server Account', weight: 5, roles: ['sql'], username: 'sa', place: 'server' },
  { template: 'Web Password', weight: 5, roles: ['portal'], username: 'webadmin', place: 'url' },
];

/**
 * A realistic vault for jump-item searches and load: the demo seed plus generated secrets in one folder per team
 * (only that team's user group and the API accounts may see it). Machine secrets name a host name, a DNS name or
 * an IP address in their Machine field; one in five shares its machine with the secret before it (a second
 * account on the same system); one in twenty is check-out restricted. Web and SQL Server secrets name no machine.
 * Generated users are `CORP\user0001`..., in one team each, their delegated trust approved; alice is in team 1.
 */
export function generateSeed(input: GenerateOptions): SimSeed {
  const options = generateOptionsSchema.parse(input);
  const rand = seededRandom(options.seed);
  const demo = loadDemoSeed();
  const teams = Math.max(1, Math.ceil(options.users / TEAM_SIZE));
  const team = (n: number): string => `team-${padNumber(n + 1, 3)}`;

  const demoUsers = (demo.users ?? []).map((u) =>
    u.username === 'alice' && u.domain === 'CORP' ? { ...u, groups: [...(u.groups ?? []), team(0)] } : u,
  );
  const users = Array.from({ length: options.users }, (_, i) => ({
    id: FIRST_USER_ID + i,
    username: `user${padNumber(i + 1, 4)}`,
    domain: 'CORP',
    password: `user${padNumber(i + 1, 4)}-generated-pass`,
    displayName: `Generated User ${i + 1}`,
    groups: [team(i % teams)],
  }));
  const folders = Array.from({ length: teams }, (_, t) => ({
    id: FIRST_TEAM_FOLDER_ID + t,
    name: team(t),
    parentId: 1,
    inheritPermissions: false,
    permissions: { users: [], groups: [team(t), 'API Accounts'] },
  }));

  const secrets = [...(demo.secrets ?? [])];
  let previous: { machine: string; kind: Kind; folderId: number } | undefined;
  for (let i = 0; i < options.secrets; i++) {
    const id = FIRST_SECRET_ID + i;
    const roll = rand();
    // a second account on the machine before: same template, same team folder
    const reused = previous && roll < 0.2 ? previous : undefined;
    const kind = reused?.kind ?? pickWeighted(rand, KINDS);
    const folderId = reused?.folderId ?? FIRST_TEAM_FOLDER_ID + (i % teams);
    const site = pickOne(rand, SITES);
    const host = `${site}-${pickOne(rand, kind.roles)}-${padNumber(i + 1, 6)}`;
    const place =
      reused?.machine ??
      (kind.place === 'url'
        ? `https://${host}.corp.example/`
        : kind.place === 'server'
          ? `${host}.corp.example\\SQLPROD`
          : roll < 0.3
            ? `${host}.${site}.corp.example`
            : roll < 0.33
              ? `10.${48 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`
              : host);
    previous = kind.place === 'machine' ? { machine: place, kind, folderId } : undefined;
    const username = reused ? 'svc-backup' : kind.username;
    secrets.push({
      id,
      name: `${place} ${username}`,
      template: kind.template,
      folderId,
      fields: { [kind.place]: place, username, password: `Gen-${id}-${Math.floor(rand() * 1e9).toString(36)}!` },
      ...(rand() < 0.05 ? { checkOutEnabled: true, checkOutIntervalMinutes: 30 } : {}),
    });
  }

  return {
    ...demo,
    templates: [...BUILTIN_TEMPLATES, ...EXTRA_TEMPLATES],
    users: [...demoUsers, ...users],
    folders: [...(demo.folders ?? []), ...folders],
    secrets,
    trust: [...(demo.trust ?? []), ...users.map((u) => ({ apiUser: API_USER, user: `CORP\\${u.username}`, state: 'approved' as const }))],
  };
}

export function summariseSeed(seed: SimSeed): Record<string, number> {
  return {
    secrets: seed.secrets?.length ?? 0,
    users: seed.users?.length ?? 0,
    folders: seed.folders?.length ?? 0,
    trust: seed.trust?.length ?? 0,
  };
}
