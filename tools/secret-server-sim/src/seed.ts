import { join } from 'node:path';
import { z } from 'zod';
import { seedChecks, seedFiles } from '@openecm/sim-kit';

export const DEMO_SEED_PATH = join(__dirname, '..', 'seed', 'demo.json');

export const TRUST_STATES = ['pending', 'approved', 'denied', 'revoked'] as const;
export type TrustState = (typeof TRUST_STATES)[number];

const fieldSchema = z.object({
  id: z.number().int().positive(),
  /** The display name, which SOAP reports as both FieldName and FieldDisplayName. */
  name: z.string().min(1),
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'slugs are lower-case words joined by "-"'),
  isPassword: z.boolean().default(false),
  isNotes: z.boolean().default(false),
  isFile: z.boolean().default(false),
});

const templateSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  fields: z.array(fieldSchema).min(1),
});

/**
 * The vendor's stock templates, with the ids a fresh Secret Server gives them. Seeds may replace or extend
 * them; a seed that leaves `templates` out gets exactly these.
 */
export const BUILTIN_TEMPLATES = z.array(templateSchema).parse([
  {
    id: 6001,
    name: 'Active Directory Account',
    fields: [
      { id: 87, name: 'Domain', slug: 'domain' },
      { id: 88, name: 'Username', slug: 'username' },
      { id: 89, name: 'Password', slug: 'password', isPassword: true },
      { id: 90, name: 'Notes', slug: 'notes', isNotes: true },
    ],
  },
  {
    id: 6003,
    name: 'Windows Account',
    fields: [
      { id: 108, name: 'Machine', slug: 'machine' },
      { id: 111, name: 'Username', slug: 'username' },
      { id: 110, name: 'Password', slug: 'password', isPassword: true },
      { id: 109, name: 'Notes', slug: 'notes', isNotes: true },
    ],
  },
  {
    id: 6007,
    name: 'Unix Account (SSH)',
    fields: [
      { id: 155, name: 'Machine', slug: 'machine' },
      { id: 156, name: 'Username', slug: 'username' },
      { id: 157, name: 'Password', slug: 'password', isPassword: true },
      { id: 158, name: 'Private Key', slug: 'private-key', isFile: true },
    ],
  },
]);

const principalsSchema = z
  .object({
    /** `DOMAIN\user` for directory users, the bare name for local ones. */
    users: z.array(z.string().min(1)).default([]),
    groups: z.array(z.string().min(1)).default([]),
  })
  .default({ users: [], groups: [] });

const domainSchema = z.object({
  id: z.number().int().positive(),
  /** NetBIOS name, as in `CORP\alice`. */
  name: z.string().regex(/^[^\\@\s]+$/, 'a domain name holds no "\\", "@" or spaces'),
  fqdn: z.string().min(1).optional(),
});

const userSchema = z.object({
  id: z.number().int().positive(),
  username: z.string().regex(/^[^\\@\s]+$/, 'put the domain in "domain", not in the user name'),
  /** NetBIOS name of a seeded domain; absent or null for a local Secret Server user. */
  domain: z.string().nullable().default(null),
  password: z.string().min(1).optional(),
  displayName: z.string().min(1).optional(),
  email: z.string().nullable().default(null),
  groups: z.array(z.string().min(1)).default([]),
  /** The role permission "Web Services Impersonate", which ImpersonateUser requires of the caller. */
  webServicesImpersonate: z.boolean().default(false),
});

const folderSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  parentId: z.number().int().positive().nullable().default(null),
  inheritPermissions: z.boolean().default(true),
  permissions: principalsSchema,
});

const secretSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  /** Template name or id. */
  template: z.union([z.string().min(1), z.number().int().positive()]),
  folderId: z.number().int().positive().nullable().default(null),
  /** Field values by slug; fields left out are empty. */
  fields: z.record(z.string(), z.string()).default({}),
  active: z.boolean().default(true),
  inheritPermissions: z.boolean().default(true),
  permissions: principalsSchema,
  checkOutEnabled: z.boolean().default(false),
  checkOutIntervalMinutes: z.number().int().positive().default(30),
  checkOutChangePasswordEnabled: z.boolean().default(false),
  requiresComment: z.boolean().default(false),
  requiresApprovalForAccess: z.boolean().default(false),
});

const trustSchema = z.object({
  /** The API account that asked to impersonate. */
  apiUser: z.string().min(1),
  /** The end user who approves, denies or revokes. */
  user: z.string().min(1),
  state: z.enum(TRUST_STATES),
  requestId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional(),
});

export const simSeedSchema = z
  .object({
    version: z.string().min(1).default('11.7.000005'),
    /** Organization code of a multi-tenant install; when set, every sign-in must name it. */
    organization: z.string().min(1).nullable().default(null),
    templates: z.array(templateSchema).default(() => BUILTIN_TEMPLATES),
    domains: z.array(domainSchema).default([]),
    users: z.array(userSchema).default([]),
    folders: z.array(folderSchema).default([]),
    secrets: z.array(secretSchema).default([]),
    trust: z.array(trustSchema).default([]),
  })
  .superRefine(seedChecks((seed, { report, unique }) => {
    unique(seed.templates.map((t) => t.id), 'template ids');
    unique(seed.templates.map((t) => t.name.toLowerCase()), 'template names (case-insensitive)');
    for (const template of seed.templates) {
      unique(template.fields.map((f) => f.slug), `field slugs of template "${template.name}"`);
    }
    unique(seed.domains.map((d) => d.name.toLowerCase()), 'domain names (case-insensitive)');
    unique(seed.users.map((u) => u.id), 'user ids');
    unique(seed.users.map((u) => userKey(u).toLowerCase()), 'user names (case-insensitive, per domain)');
    unique(seed.folders.map((f) => f.id), 'folder ids');
    unique(seed.secrets.map((s) => s.id), 'secret ids');

    const domains = new Set(seed.domains.map((d) => d.name.toLowerCase()));
    for (const user of seed.users) {
      if (user.domain !== null && !domains.has(user.domain.toLowerCase())) {
        report(`user ${user.username} names unknown domain ${user.domain}`);
      }
    }
    const users = new Set(seed.users.map((u) => userKey(u).toLowerCase()));
    const checkPrincipals = (owner: string, principals: { users: string[] }): void => {
      for (const name of principals.users) {
        if (!users.has(name.toLowerCase())) report(`${owner} grants access to unknown user ${name}`);
      }
    };

    const folderIds = new Set(seed.folders.map((f) => f.id));
    for (const folder of seed.folders) {
      if (folder.parentId !== null && !folderIds.has(folder.parentId)) {
        report(`folder ${folder.id} names unknown parent ${folder.parentId}`);
      }
      checkPrincipals(`folder ${folder.id}`, folder.permissions);
    }
    for (const folder of seed.folders) {
      const seen = new Set<number>();
      let current: number | null = folder.id;
      while (current !== null && !seen.has(current)) {
        seen.add(current);
        current = seed.folders.find((f) => f.id === current)?.parentId ?? null;
      }
      if (current !== null) report(`folder ${folder.id} is its own ancestor`);
    }

    for (const secret of seed.secrets) {
      const template = findTemplate(seed.templates, secret.template);
      if (!template) {
        report(`secret ${secret.id} names unknown template ${secret.template}`);
        continue;
      }
      for (const slug of Object.keys(secret.fields)) {
        if (!template.fields.some((f) => f.slug === slug)) report(`secret ${secret.id} sets unknown field "${slug}" of "${template.name}"`);
      }
      if (secret.folderId !== null && !folderIds.has(secret.folderId)) report(`secret ${secret.id} names unknown folder ${secret.folderId}`);
      checkPrincipals(`secret ${secret.id}`, secret.permissions);
    }

    const pairs = seed.trust.map((t) => `${t.apiUser.toLowerCase()}|${t.user.toLowerCase()}`);
    unique(pairs, 'trust entries per (apiUser, user)');
    unique(seed.trust.flatMap((t) => (t.requestId ? [t.requestId] : [])), 'trust request ids');
    for (const entry of seed.trust) {
      if (!users.has(entry.apiUser.toLowerCase())) report(`trust entry names unknown API user ${entry.apiUser}`);
      if (!users.has(entry.user.toLowerCase())) report(`trust entry names unknown user ${entry.user}`);
    }
  }));

/** What a seed author writes (defaults may be left out). */
export type SimSeed = z.input<typeof simSeedSchema>;
/** A seed after validation, with every default filled in. */
export type ParsedSeed = z.output<typeof simSeedSchema>;
export type SeedTemplate = ParsedSeed['templates'][number];
export type SeedField = SeedTemplate['fields'][number];
export type SeedUser = ParsedSeed['users'][number];
export type SeedFolder = ParsedSeed['folders'][number];
export type SeedSecret = ParsedSeed['secrets'][number];
export type SeedTrust = ParsedSeed['trust'][number];

export const EMPTY_SEED: SimSeed = {};

/** `DOMAIN\user` for a directory user, the bare name for a local one: how permissions and trust name users. */
export function userKey(user: { username: string; domain: string | null }): string {
  return user.domain === null ? user.username : `${user.domain}\\${user.username}`;
}

export function findTemplate(templates: SeedTemplate[], ref: string | number): SeedTemplate | undefined {
  return typeof ref === 'number' ? templates.find((t) => t.id === ref) : templates.find((t) => t.name.toLowerCase() === ref.toLowerCase());
}

export const { parseSeed, loadSeedFile, loadDemoSeed } = seedFiles<SimSeed, ParsedSeed>(simSeedSchema, 'Secret Server simulator', DEMO_SEED_PATH);
