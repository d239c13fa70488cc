import { defineVaultAdapter } from '@openecm/vault-sdk';
import { secretServerType } from '@openecm/vault-type/secret-server';
import { SecretServerAdapter } from './secret-server.adapter';

/** This folder's registration (apps/vault-adapters/src/registered.ts): its vault type and its adapter. */
export const secretServer = defineVaultAdapter({ vaultType: secretServerType, adapter: SecretServerAdapter });
