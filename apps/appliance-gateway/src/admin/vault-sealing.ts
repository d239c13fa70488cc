import { OpenEcmError, type SealedBox } from '@openecm/contracts';
import { sealTo, type SealContext } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';

/**
 * Sends connection settings sealed to vault-adapters' public key, asked for each time (an admin call, not a
 * hot path). While VAULT_SETTINGS_KEYS change, instances may hold different keys: an instance that does not
 * hold the one sealed to refuses the field, and the settings are sealed once more to the key it names.
 */
export async function withSealedSettings<T>(bus: Bus, settings: unknown, context: SealContext, field: string, send: (sealed: SealedBox) => Promise<T>): Promise<T> {
  const attempt = async () => send(await sealTo(await bus.request('vault.sealing-key.get.v1', {}), settings, context));
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof OpenEcmError && error.code === 'VALIDATION_FAILED' && error.fields?.some((f) => f.field === field))) throw error;
    return attempt();
  }
}
