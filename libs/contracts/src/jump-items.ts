import { z } from 'zod';
import { PendingVault, UserName, VaultName, VaultRef } from './model';

/**
 * External jump items: the vault-managed RDP and shell systems a user may reach, found by a search typed in the
 * appliance's access console, and the items that user started sessions on lately. Nothing of a vault's
 * inventory is stored by the broker; a search asks the vaults (its answer kept briefly in Redis).
 */

export const JumpMethod = z.enum(['rdp', 'shell']).meta({ description: 'How the appliance reaches the system: RDP, or a shell over SSH.' });
export type JumpMethod = z.infer<typeof JumpMethod>;

/**
 * The part of a name, host name, DNS name or IP address to look for, case-insensitive. Shorter than two
 * characters finds nothing, as the access console does.
 */
export const JumpItemSearch = z
  .string()
  .trim()
  .max(128)
  .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
  .meta({ description: 'Part of the name, host name, DNS name or IP address, case-insensitive; fewer than 2 characters find nothing.', examples: ['srv-'] });

/** A system as a vault adapter finds it: where it is and how to reach it, never a credential. */
export const VaultSystem = z.strictObject({
  vault: VaultName,
  /** Where the system lives in its vault; opaque to everyone but the vault's adapter. */
  ref: VaultRef,
  name: z.string(),
  hostname: z.string(),
  ip: z.string().nullable(),
  jumpMethod: JumpMethod,
  comments: z.string(),
  /** Password Safe: the system's workgroup, which the appliance maps to a Jumpoint. */
  networkId: z.string().nullable(),
});
export type VaultSystem = z.infer<typeof VaultSystem>;

/** At most this many systems of one vault answer one search; typing more of the name narrows it. */
export const MAX_SYSTEMS_PER_VAULT = 500;

export const SystemSearchRequest = z.strictObject({
  user: UserName,
  search: JumpItemSearch.pipe(z.string().min(2)),
  limit: z.number().int().min(1).max(MAX_SYSTEMS_PER_VAULT),
  /** Vaults whose answer the caller still holds: not asked again. */
  skip: z.array(VaultName).max(64).default([]),
});

export const VaultSystemsAnswer = z.strictObject({
  vault: VaultName,
  /** Sorted by name. */
  systems: z.array(VaultSystem),
  /** More systems matched than `limit`. */
  truncated: z.boolean(),
});
export type VaultSystemsAnswer = z.infer<typeof VaultSystemsAnswer>;

export const SystemSearchReply = z.strictObject({
  /** One entry per vault that answered. */
  vaults: z.array(VaultSystemsAnswer),
  /** Vaults that failed, were slower than their timeout, or wait for the user's approval. */
  pending: z.array(PendingVault),
  /** Every connected vault, skipped ones included: an answer held for a vault no longer connected is dropped. */
  connected: z.array(VaultName),
});
