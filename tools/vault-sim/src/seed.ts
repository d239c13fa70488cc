import { join } from 'node:path';
import { z } from 'zod';
import { seedChecks, seedFiles } from '@openecm/sim-kit';

export const DEMO_SEED_PATH = join(__dirname, '..', 'seed', 'demo.json');

const name = z.string().min(1).max(256);
/** A mount path as Vault takes it: segments without leading or trailing `/`. */
const mount = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/);

const appRoleSchema = z.object({
  /** The auth mount (`/v1/auth/<mount>/login`). */
  mount: mount.default('approle'),
  roleName: name,
  roleId: name,
  secretId: name,
  tokenTtlSeconds: z.number().int().positive().default(3600),
});

const tokenSchema = z.object({
  token: name,
  /** 0: the token never expires (a root-like token). */
  ttlSeconds: z.number().int().min(0).default(0),
  entityId: name.optional(),
});

const librarySetSchema = z.object({
  set: name,
  serviceAccounts: z.array(z.object({ name, password: name })).min(1),
  ttlSeconds: z.number().int().positive().default(3600),
  maxTtlSeconds: z.number().int().positive().default(86_400),
  disableCheckInEnforcement: z.boolean().default(false),
});

const staticRoleSchema = z.object({
  role: name,
  username: name,
  password: name,
  rotationPeriodSeconds: z.number().int().positive().default(86_400),
});

const ldapMountSchema = z.object({
  mount: mount.default('ldap'),
  library: z.array(librarySetSchema).default([]),
  staticRoles: z.array(staticRoleSchema).default([]),
});

const kvSecretSchema = z.object({
  path: mount,
  data: z.record(z.string(), z.string()),
  customMetadata: z.record(z.string(), z.string()).default({}),
});

const kvMountSchema = z.object({
  mount: mount.default('secret'),
  secrets: z.array(kvSecretSchema).default([]),
});

export const simSeedSchema = z
  .object({
    /** When set, every call but `sys/health` must name this namespace in `X-Vault-Namespace`. */
    namespace: z.string().min(1).optional(),
    appRoles: z.array(appRoleSchema).default([]),
    tokens: z.array(tokenSchema).default([]),
    ldap: z.array(ldapMountSchema).default([]),
    kv: z.array(kvMountSchema).default([]),
  })
  .superRefine(
    seedChecks((seed, { unique }) => {
      unique(seed.appRoles.map((r) => r.roleId), 'appRoles roleId values');
      unique([...seed.ldap.map((m) => m.mount), ...seed.kv.map((m) => m.mount)], 'mounts');
      for (const m of seed.ldap) {
        unique(m.library.map((s) => s.set), `library sets of ${m.mount}`);
        unique(m.staticRoles.map((r) => r.role), `static roles of ${m.mount}`);
        unique(m.library.flatMap((s) => s.serviceAccounts.map((a) => a.name)), `service accounts of ${m.mount}`);
      }
      for (const m of seed.kv) unique(m.secrets.map((s) => s.path), `secret paths of ${m.mount}`);
    }),
  );

export type SimSeed = z.input<typeof simSeedSchema>;
export type ParsedSeed = z.output<typeof simSeedSchema>;

export const EMPTY_SEED: SimSeed = {};

export const { parseSeed, loadSeedFile, loadDemoSeed } = seedFiles<SimSeed, ParsedSeed>(simSeedSchema, 'Vault simulator', DEMO_SEED_PATH);
