import { z } from 'zod';

export const MASK = '********';

/** An http(s) URL, as every vault's address setting is entered. */
export const vaultAddress = () =>
  z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

/** A PEM bundle trusted in addition to the system roots, for a vault behind a private CA. */
export const caBundle = () => z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'PEM certificate(s)' }).optional();

/** The settings every vault type's schema has: what the broker's transport and the URL rules read. */
export interface CommonVaultSettings {
  caBundle?: string | undefined;
  allowInsecureHttp: boolean;
  timeoutSeconds?: number | undefined;
}

/**
 * One vault type as the contracts know it: its settings schema, which setting holds the vault's URL, and which
 * settings are secret (masked whenever a connection is shown; the whole settings travel sealed to vault-adapters).
 * Pure data and zod: the adapter that speaks to the vault lives in vault-adapters.
 */
export interface VaultTypeDefinition<T extends string = string, S extends z.ZodObject = z.ZodObject> {
  type: T;
  /** The vendor's name as messages show it, e.g. `Password Safe`. */
  title: string;
  settings: S;
  /** The top-level setting that holds the vault's URL. */
  urlField: keyof z.output<S> & string;
  /** Dotted paths of the secret settings, e.g. `auth.secretId`: each is replaced by the mask when shown. */
  secretFields: readonly string[];
  /** The settings as shown; by default every secret field replaced by the mask. */
  mask?(settings: z.output<S>): Record<string, unknown>;
}

export function defineVaultType<const T extends string, S extends z.ZodObject>(definition: VaultTypeDefinition<T, S>): VaultTypeDefinition<T, S> {
  return definition;
}

/** A copy of `settings` with every path of `secretFields` that is present replaced by the mask. */
export function maskFields(settings: Record<string, unknown>, secretFields: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone(settings);
  for (const path of secretFields) {
    const keys = path.split('.');
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    const last = keys[keys.length - 1] as string;
    if (typeof node === 'object' && node !== null && last in node) (node as Record<string, unknown>)[last] = MASK;
  }
  return copy;
}
