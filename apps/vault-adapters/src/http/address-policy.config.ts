import { loadConfig, natsConfig, postgresConfig, redisConfig, vaultAdaptersConfig } from '@openecm/config';
import { VaultAddressPolicy } from '@openecm/vault-sdk';

/**
 * The policy of this deployment: VAULT_ALLOWED_ADDRESSES, and the broker's own NATS, PostgreSQL and Redis
 * endpoints, which no vault URL may name.
 */
export function vaultAddressPolicyFromConfig(): VaultAddressPolicy {
  const env = { ...loadConfig(vaultAdaptersConfig), ...loadConfig(natsConfig), ...loadConfig(postgresConfig), ...loadConfig(redisConfig) };
  return new VaultAddressPolicy({
    allowed: env.VAULT_ALLOWED_ADDRESSES,
    infrastructure: [env.NATS_URL, env.DATABASE_URL, env.REDIS_URL],
  });
}
