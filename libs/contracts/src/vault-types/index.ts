import { hashicorpVaultType } from './hashicorp-vault';
import { passwordSafeType } from './password-safe';
import { secretServerType } from './secret-server';

/**
 * Every vault type the broker speaks to: the one registration line of an adapter's settings. The vault type
 * enum, the connection settings union, masking and the URL rules are derived from this list.
 */
export const VAULT_TYPES = [passwordSafeType, secretServerType, hashicorpVaultType] as const;

export * from './define';
export * from './password-safe';
export * from './secret-server';
export * from './hashicorp-vault';
