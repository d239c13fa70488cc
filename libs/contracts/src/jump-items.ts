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

// ---- what the appliance sees ----

export const DEFAULT_JUMP_ITEM_GROUP = 'External Jump Items';
/** The comment of every item while no Jumpoint is set: the appliance shows it, and the item cannot be started. */
export const NO_JUMPOINT_COMMENT = 'Jumpoint for External Jump Items not configured';
export const RECENT_JUMP_ITEMS = 20;

export const JumpItem = z.strictObject({
  id: z.string().meta({ description: 'Opaque, stable for this user and system, and meaningless for any other user.' }),
  name: z.string(),
  hostname: z.string(),
  ip: z.string().nullable(),
  jumpMethod: JumpMethod,
  comments: z.string(),
  vault: VaultName,
  networkId: z.string().nullable().meta({ description: "Password Safe: the system's workgroup, for the appliance to pick the Jumpoint by." }),
  startable: z.boolean().meta({ description: 'False while no Jumpoint for external jump items is set.' }),
});
export type JumpItem = z.infer<typeof JumpItem>;

export const JumpItemsQuery = z.strictObject({
  user: UserName,
  search: JumpItemSearch.default(''),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional().meta({ description: "The previous page's `nextCursor`." }),
});

export const JumpItemList = z.strictObject({
  /** The group the appliance shows the items in. */
  group: z.string(),
  /** Sorted by name (then vault), across every vault. */
  items: z.array(JumpItem),
  nextCursor: z.string().nullable(),
  pending: z.array(PendingVault),
});
export type JumpItemList = z.infer<typeof JumpItemList>;

export const RecentJumpItemsQuery = z.strictObject({ user: UserName });
export const RecentJumpItems = z.strictObject({
  group: z.string(),
  /** The user's last 20, newest first. */
  items: z.array(JumpItem.extend({ lastUsedAt: z.string() })),
});
export type RecentJumpItems = z.infer<typeof RecentJumpItems>;

/** The appliance-side settings of external jump items, kept by the broker. */
export const JumpItemSettings = z.strictObject({
  enabled: z.boolean().meta({ description: 'Allow Search for External Jump Items: when false, searches answer 404 JUMP_ITEMS_DISABLED.' }),
  jumpointId: z.string().trim().min(1).max(128).nullable().meta({ description: 'The Jumpoint sessions from these items go through; null: items cannot be started.' }),
  groupName: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
    .default(DEFAULT_JUMP_ITEM_GROUP),
});
export type JumpItemSettings = z.infer<typeof JumpItemSettings>;
export const JumpItemSettingsView = z.strictObject({ enabled: z.boolean(), jumpointId: z.string().nullable(), groupName: z.string(), updatedAt: z.string() });
