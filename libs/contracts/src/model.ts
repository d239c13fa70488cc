import { z } from 'zod';

/**
 * A user name as every entry point takes it. Only names that Unicode normalisation (NFKC) leaves as they are:
 * a compatibility character such as the Kelvin sign U+212A reads as `K` to people and to some directories but
 * not to others, so `\u212Aate` and `Kate` would be one user here and two at a vault (or the other way round).
 */
export const UserName = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
  .refine((v) => !/\p{Cs}/u.test(v), 'must be well-formed Unicode (no lone surrogate)')
  .refine((v) => v.normalize('NFKC') === v, 'must be in Unicode normal form NFKC (no compatibility character such as the Kelvin sign U+212A for K)')
  .meta({ description: 'The remote-access user as the appliance sends it: `user`, `DOMAIN\\user` or `user@domain`, in Unicode normal form NFKC.', examples: ['CORP\\alice'] });

/**
 * What caches and memberships compare user names by: case-insensitive, as directories compare them, and never
 * merging two names a vault tells apart. Only a character that NFKC leaves alone and whose lower case is one
 * character is lower-cased; any other (the Kelvin sign, `İ` whose lower case is `i` plus a combining dot) is
 * kept as it is, so its name stays a key of its own.
 */
export function userKey(user: string): string {
  let key = '';
  for (const ch of user.trim()) {
    const lower = ch.toLowerCase();
    key += ch.normalize('NFKC') === ch && [...lower].length === 1 ? lower : ch;
  }
  return key;
}

export const Endpoint = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'host name, DNS name or IP address')
  .meta({ description: 'Host name, DNS name or IP address of the endpoint the session is on.', examples: ['srv-app01'] });

export const Protocol = z.enum(['rdp', 'ssh']).meta({ description: 'The protocol of the session.' });
export const CredentialScope = z.enum(['machine', 'domain']);
export const VaultName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes')
  .meta({ description: 'The name of a vault connection.', examples: ['password-safe'] });

/** Where a credential lives in its vault; opaque to everyone but the vault's adapter. */
export const VaultRef = z.record(z.string(), z.union([z.string(), z.number()]));
export type VaultRef = z.infer<typeof VaultRef>;

/** A credential as a vault adapter lists it: names and locators only, never a secret. */
export const VaultCredential = z.strictObject({
  vault: VaultName,
  ref: VaultRef,
  name: z.string(),
  username: z.string(),
  domain: z.string().nullable(),
  scope: CredentialScope,
  releaseDurationMinutes: z.number().int().positive(),
  rotateAfterRelease: z.boolean(),
});
export type VaultCredential = z.infer<typeof VaultCredential>;

/** A credential as the appliance sees it in a list: an opaque id the broker issued for this user and endpoint. */
export const OfferedCredential = z.strictObject({
  id: z.string().uuid(),
  name: z.string(),
  username: z.string(),
  domain: z.string().nullable(),
  scope: CredentialScope,
  vault: VaultName,
  /** Whether an injection is granted at once or waits for approvers (202 with an approval id). */
  approval: z.enum(['auto', 'manual']),
  /** The access policy that decided: the most permissive of those that apply now. */
  policy: z.string(),
});
export type OfferedCredential = z.infer<typeof OfferedCredential>;

export const PendingVault = z.strictObject({
  vault: VaultName,
  reason: z.string(),
  approveUrl: z.string().url().optional(),
});

export const Secret = z.strictObject({ type: z.enum(['password', 'ssh-key']), value: z.string() });
export type Secret = z.infer<typeof Secret>;

export const LeaseState = z.enum(['active', 'released', 'rotated', 'checked-in', 'failed']);
export type LeaseState = z.infer<typeof LeaseState>;
export const RotationStatus = z.enum(['pending', 'scheduled', 'retrying', 'done', 'not-required', 'failed']);

export const LeaseView = z.strictObject({
  leaseId: z.string().uuid(),
  state: LeaseState,
  user: z.string(),
  endpoint: z.string(),
  sessionId: z.string(),
  vault: VaultName,
  credentialName: z.string(),
  username: z.string(),
  domain: z.string().nullable(),
  openedAt: z.string(),
  releaseAt: z.string(),
  releasedAt: z.string().nullable(),
  releasedBy: z.enum(['appliance', 'expiry', 'revocation']).nullable(),
  rotation: RotationStatus,
  rotatedAt: z.string().nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  /** The access policy that granted the lease (null for leases opened before policies were kept). */
  policy: z.string().nullable(),
  approvalId: z.string().uuid().nullable(),
  emergency: z.boolean(),
  reason: z.string().nullable(),
  revokedReason: z.string().nullable(),
});
export type LeaseView = z.infer<typeof LeaseView>;

export const ApiPermission = z.enum(['credentials', 'reporting', 'admin', 'approvals']);
export type ApiPermission = z.infer<typeof ApiPermission>;
