import { z } from 'zod';

/**
 * What a secret looks like on the bus: sealed by its sender to its final receiver, so a service on the way
 * (and anyone reading NATS) passes it on without being able to read it. See docs/adr/0010.
 */

/** RFC 9180 base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM. */
export const SEALED_BOX_ALG = 'hpke-x25519-sha256-aes128gcm';

const KeyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - or _');
/** An X25519 public key or encapsulated key: 32 bytes, base64url without padding. */
const X25519Key = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url');

/** A public key to seal to. `kid` names one of the receiver's keys when it keeps more than one. */
export const SealingPublicKey = z.strictObject({
  alg: z.literal(SEALED_BOX_ALG),
  kid: KeyId.optional(),
  publicKey: X25519Key,
});
export type SealingPublicKey = z.infer<typeof SealingPublicKey>;

/** An HPKE-sealed JSON value: `enc` the encapsulated key, `ct` the ciphertext (padded to 64-byte blocks). */
export const SealedBox = z.strictObject({
  alg: z.literal(SEALED_BOX_ALG),
  kid: KeyId.optional(),
  enc: X25519Key,
  ct: z
    .string()
    .max(1_500_000)
    .regex(/^[A-Za-z0-9_-]+$/, 'base64url'),
});
export type SealedBox = z.infer<typeof SealedBox>;

/**
 * A value sealed with AES-256-GCM by a keyring (`v1.<keyId>.<iv>.<tag>.<ciphertext>`, base64url): what
 * vault-adapters hands token-cache to keep, and token-cache can neither read nor forge.
 */
export const KeyringEnvelope = z
  .string()
  .max(1_000_000)
  .regex(/^v1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/, 'a sealed envelope');

/**
 * What each sealed value is bound to (HPKE `info` names its kind, the associated data its place), so a box
 * sealed for one purpose or one lease does not open as another.
 */
export const SEAL_CONTEXTS = {
  /** The checked-out secret, from vault-adapters to the gateway that asked, through policy-approval. */
  checkoutSecret: (leaseId: string) => ({ info: 'openecm checkout secret v1', aad: `lease:${leaseId}` }),
  /** A vault connection's settings as entered, from the gateway to vault-adapters. */
  vaultConnection: (name: string) => ({ info: 'openecm vault connection v1', aad: `vault-connection:${name}` }),
  /** Settings as entered for Test Settings, not saved. */
  vaultTest: () => ({ info: 'openecm vault connection v1', aad: 'vault-test' }),
} as const;
