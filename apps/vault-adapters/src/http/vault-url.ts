import { OpenEcmError, vaultUrlField, vaultUrlProblem, type VaultConnectionInput } from '@openecm/contracts';

/**
 * The URL rules again before a client is built: a connection saved before them (plain http without
 * `allowInsecureHttp`) is refused with the reason and the setting to change, not called.
 */
export function assertVaultUrl(connection: VaultConnectionInput): void {
  const { field, url } = vaultUrlField(connection);
  const problem = vaultUrlProblem(url, connection.settings.allowInsecureHttp);
  if (problem) throw new OpenEcmError('VAULT_ADDRESS_REFUSED', `${field} ${problem}`);
}
