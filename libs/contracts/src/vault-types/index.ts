// Written by `npm run vault-types` from apps/vault-adapters/src/registered.ts, the adapters' registration: do
// not edit (a unit test fails while it differs). Each vault type's settings live in its adapter's folder.
import { hashicorpVaultType } from '@openecm/vault-type/hashicorp-vault';
import { passwordSafeType } from '@openecm/vault-type/password-safe';
import { secretServerType } from '@openecm/vault-type/secret-server';

export * from '@openecm/vault-type-kit';
export * from '@openecm/vault-type/hashicorp-vault';
export * from '@openecm/vault-type/password-safe';
export * from '@openecm/vault-type/secret-server';

/** Every registered vault type: the type enum, the connection settings union, masking and the URL rules derive from it. */
export const VAULT_TYPES = [hashicorpVaultType, passwordSafeType, secretServerType] as const;
