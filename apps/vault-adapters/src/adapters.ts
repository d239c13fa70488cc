import type { VaultKind } from '@openecm/contracts';
import type { VaultAdapterClass, VaultAdapterRegistration } from '@openecm/vault-sdk';
import * as registered from './registered';

type Registered = (typeof registered)[keyof typeof registered];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The registered adapters, by type (the same order whichever loader built the module namespace). */
export const REGISTERED_ADAPTERS: readonly VaultAdapterRegistration[] = Object.values(registered as Record<string, VaultAdapterRegistration>).sort((a, b) =>
  a.vaultType.type.localeCompare(b.vaultType.type),
);

/**
 * True only while the contracts' vault types are the registered ones: after an adapter is registered or removed,
 * the type check fails here until `npm run vault-types` has written the contracts again.
 */
export const CONTRACTS_MATCH_REGISTRATION: Same<Registered['vaultType']['type'], VaultKind> = true;

export const ADAPTERS: VaultAdapterClass[] = REGISTERED_ADAPTERS.map((registration) => registration.adapter);
