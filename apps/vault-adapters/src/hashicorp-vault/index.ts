import { defineVaultAdapter } from '@openecm/vault-sdk';
import { hashicorpVaultType } from '@openecm/vault-type/hashicorp-vault';
import { HashicorpVaultAdapter } from './hashicorp-vault.adapter';

/** This folder's registration (apps/vault-adapters/src/registered.ts): its vault type and its adapter. */
export const hashicorpVault = defineVaultAdapter({ vaultType: hashicorpVaultType, adapter: HashicorpVaultAdapter });
