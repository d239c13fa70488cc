import type { Logger } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import type { CommonVaultSettings } from '@openecm/contracts';
import type { VaultAddressPolicy, VaultHttpLogger, VaultTransportOptions } from '@openecm/vault-sdk';

/**
 * The transport every adapter's client gets for a connection: its CA bundle, the address policy, the service's
 * timeout (or the connection's own, when shorter), retries and answer size, and log lines naming the vault.
 */
export function vaultTransportOptions(
  vault: string,
  settings: CommonVaultSettings,
  addresses: VaultAddressPolicy,
  logger: Logger,
): VaultTransportOptions & { logger: VaultHttpLogger } {
  const config = loadConfig(vaultAdaptersConfig);
  return {
    caBundle: settings.caBundle,
    addressPolicy: addresses,
    timeoutMs: settings.timeoutSeconds === undefined ? config.VAULT_HTTP_TIMEOUT_MS : Math.min(config.VAULT_HTTP_TIMEOUT_MS, settings.timeoutSeconds * 1000),
    retry: { attempts: config.VAULT_RETRY_ATTEMPTS, baseDelayMs: config.VAULT_RETRY_BASE_DELAY_MS },
    maxBodyBytes: config.VAULT_MAX_RESPONSE_BYTES,
    logger: {
      warn: (obj, msg) => logger.warn({ vault, ...obj, msg }),
      debug: (obj, msg) => logger.debug({ vault, ...obj, msg }),
    },
  };
}
