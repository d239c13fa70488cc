import type { Type } from '@nestjs/common';
import type { VaultKind } from '@openecm/contracts';
import type { VaultAdapter } from '@openecm/vault-sdk';
import { HashicorpVaultAdapter } from './hashicorp-vault/hashicorp-vault.adapter';
import { PasswordSafeAdapter } from './password-safe/password-safe.adapter';
import { SecretServerAdapter } from './secret-server/secret-server.adapter';

/**
 * The adapter of every vault type the contracts register (libs/contracts/src/vault-types): the compiler refuses a
 * registered type without its adapter here.
 */
const BY_TYPE = {
  'password-safe': PasswordSafeAdapter,
  'secret-server': SecretServerAdapter,
  'hashicorp-vault': HashicorpVaultAdapter,
} satisfies Record<VaultKind, Type<VaultAdapter>>;

export const ADAPTERS: Array<Type<VaultAdapter>> = Object.values(BY_TYPE);
