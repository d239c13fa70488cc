import { z } from 'zod';
import { caBundle, defineVaultType, vaultAddress } from '@openecm/vault-type-kit';

/** A Vault mount or path segment: what may sit between slashes of `/v1/<mount>/...`, nothing that climbs out of it. */
const segment = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'letters, digits, `_.-` and `/` between segments').refine((s) => !s.split('/').some((p) => p === '..' || p === '.'), 'no `.` or `..` segments').max(256);
/** The endpoints a source's accounts log on to: host names, DNS names or IP addresses; `*.corp.example` matches every name below it. */
const endpoints = z.array(z.string().trim().min(1).max(253)).min(1).max(1024);
const users = z.array(z.string().trim().min(1).max(256)).max(1024).optional();
/** How the appliance reaches a source's systems as external jump items: RDP (when absent) or a shell over SSH. */
const jumpMethod = z.enum(['rdp', 'shell']).optional();

const AppRoleAuth = z.strictObject({
  method: z.literal('approle'),
  /** Where the AppRole auth method is mounted (`/v1/auth/<mount>/login`). */
  mount: segment.default('approle'),
  roleId: z.string().min(1).max(256),
  secretId: z.string().min(1).max(1024),
});
const TokenAuth = z.strictObject({
  method: z.literal('token'),
  token: z.string().min(1).max(1024),
});

const LibrarySource = z.strictObject({
  /** The LDAP secrets engine's service-account library: a check-out lends one account of the set, a check-in makes Vault rotate it. */
  kind: z.literal('library'),
  mount: segment.default('ldap'),
  set: segment,
  endpoints,
  /** The directory domain of the set's accounts (`CORP`), shown as `CORP\\account`. */
  domain: z.string().max(256).optional(),
  /** Who may be offered the set; everyone the broker's policy lets through when absent. */
  users,
  jumpMethod,
});
const StaticRoleSource = z.strictObject({
  /** A static role of the LDAP (or database) secrets engine: the current password read, rotated on release. */
  kind: z.literal('static-role'),
  mount: segment.default('ldap'),
  role: segment,
  endpoints,
  domain: z.string().max(256).optional(),
  users,
  jumpMethod,
});
const KvSource = z.strictObject({
  /** KV version 2 secrets for systems Vault does not manage: each secret's custom_metadata names its machine and account. */
  kind: z.literal('kv'),
  mount: segment.default('secret'),
  /** The folder listed, recursively ('' for the whole mount). */
  path: z.union([z.literal(''), segment]).default(''),
  machineKey: z.string().min(1).max(128).default('machine'),
  accountKey: z.string().min(1).max(128).default('account'),
  domainKey: z.string().min(1).max(128).default('domain'),
  /** The custom_metadata key naming, comma-separated, the users a secret is offered to; every user when the secret has none. */
  usersKey: z.string().min(1).max(128).default('users'),
  /** The key of the secret's data that holds the password. */
  passwordKey: z.string().min(1).max(128).default('password'),
  /** How the source's machines are reached when a secret does not say (RDP when absent). */
  jumpMethod,
  /** The custom_metadata key saying how a secret's machine is reached: `rdp`, `shell` (or `ssh`); any other value makes it no jump item. */
  jumpMethodKey: z.string().min(1).max(128).default('jump_method'),
});

/** How a remote-access user is matched against the `users` lists: as given, or without a `DOMAIN\\` prefix or `@domain` suffix. */
const UserMapping = z.strictObject({
  match: z.enum(['exact', 'account-name']).default('account-name'),
});

/** HashiCorp Vault or OpenBao: AppRole or a token, an optional namespace, and where the credentials come from. */
export const HashicorpVaultSettings = z.strictObject({
  /** The Vault address, e.g. `https://vault.corp.example:8200`. */
  address: vaultAddress(),
  /** Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`. */
  namespace: z.string().max(256).optional(),
  auth: z.discriminatedUnion('method', [AppRoleAuth, TokenAuth]),
  sources: z.array(z.discriminatedUnion('kind', [LibrarySource, StaticRoleSource, KvSource])).min(1).max(256),
  userMapping: UserMapping.default({ match: 'account-name' }),
  releaseDurationMinutes: z.number().int().min(1).max(525_600).default(120),
  /** Static roles are rotated after release; library accounts are rotated by Vault at every check-in. */
  rotateAfterRelease: z.boolean().default(true),
  caBundle: caBundle(),
  /** How long a list may wait for this vault before the others answer without it. */
  timeoutSeconds: z.number().int().min(1).max(120).default(10),
  /** Lets `address` be plain `http://` (a lab or a simulator); every production vault speaks HTTPS. */
  allowInsecureHttp: z.boolean().default(false),
});
export type HashicorpVaultSettings = z.infer<typeof HashicorpVaultSettings>;
export type HashicorpVaultSource = HashicorpVaultSettings['sources'][number];

export const hashicorpVaultType = defineVaultType({
  type: 'hashicorp-vault',
  title: 'HashiCorp Vault',
  settings: HashicorpVaultSettings,
  urlField: 'address',
  secretFields: ['auth.secretId', 'auth.token'],
});
