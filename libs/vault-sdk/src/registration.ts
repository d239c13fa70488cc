import type { VaultTypeDefinition } from '@openecm/vault-type-kit';
import type { VaultAdapter } from './adapter';

/** A class the broker constructs (with dependency injection) for one vault type. */
export type VaultAdapterClass<T extends string = string> = new (...dependencies: never[]) => VaultAdapter & { readonly type: T };

/**
 * What an adapter's folder exports for its one registration line: its vault type (settings, URL field, secret
 * fields; from the folder's `settings/`) and the adapter class that speaks to the vault.
 */
export interface VaultAdapterRegistration<T extends string = string> {
  vaultType: VaultTypeDefinition<T>;
  adapter: VaultAdapterClass<T>;
}

export function defineVaultAdapter<const T extends string>(registration: VaultAdapterRegistration<T>): VaultAdapterRegistration<T> {
  return registration;
}
