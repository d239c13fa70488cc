// The adapter interface is the SDK's (libs/vault-sdk); vault-adapters collects its adapters under this token.
export type { HeldCheckout, HeldSecret, VaultAdapter } from '@openecm/vault-sdk';

export const VAULT_ADAPTERS = Symbol('VAULT_ADAPTERS');
