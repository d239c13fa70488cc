import { defineVaultAdapter } from '@openecm/vault-sdk';
import { passwordSafeType } from '@openecm/vault-type/password-safe';
import { PasswordSafeAdapter } from './password-safe.adapter';

/** This folder's registration (apps/vault-adapters/src/registered.ts): its vault type and its adapter. */
export const passwordSafe = defineVaultAdapter({ vaultType: passwordSafeType, adapter: PasswordSafeAdapter });
