import type { ReplyOf } from '@openecm/contracts';
import { VaultHttp, VaultTransportError } from '../http/vault-http';
import type { VaultConnection } from '../connections/connections.service';

const VENDOR: Record<VaultConnection['type'], string> = { 'password-safe': 'Password Safe', 'secret-server': 'Secret Server' };

/** Where a connection's vault answers: the URL its adapter starts from. */
export function vaultUrl(connection: VaultConnection): string {
  return connection.type === 'password-safe' ? connection.settings.baseUrl : connection.settings.endpointUrl;
}

/**
 * The vault's clock against ours, from the `Date` header of any answer to one plain GET (whatever its
 * status). Our time is the middle of the round trip; the header's one-second resolution bounds the precision.
 */
export function skewFrom(dateHeader: string | undefined, sentAt: number, receivedAt: number): { vaultTime: string | null; skewSeconds: number | null } {
  const vaultMs = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  if (Number.isNaN(vaultMs)) return { vaultTime: null, skewSeconds: null };
  const localMs = (sentAt + receivedAt) / 2;
  return { vaultTime: new Date(vaultMs).toISOString(), skewSeconds: Math.round((vaultMs - localMs) / 100) / 10 };
}

export async function readVaultClock(connection: VaultConnection, timeoutMs: number): Promise<ReplyOf<'vault.clock.check.v1'>> {
  const http = new VaultHttp({
    vault: VENDOR[connection.type],
    caBundle: connection.settings.caBundle,
    timeoutMs,
    retry: { attempts: 1 },
    maxBodyBytes: 64 * 1024,
  });
  const sentAt = Date.now();
  try {
    const answer = await http.send({ op: 'GET (clock)', method: 'GET', url: vaultUrl(connection) });
    const receivedAt = Date.now();
    const date = answer.headers['date'];
    return {
      vault: connection.name,
      ...skewFrom(Array.isArray(date) ? date[0] : date, sentAt, receivedAt),
      localTime: new Date(receivedAt).toISOString(),
      failure: null,
    };
  } catch (error) {
    const failure = error instanceof VaultTransportError ? error.message : 'the vault gave no answer';
    return { vault: connection.name, vaultTime: null, skewSeconds: null, localTime: new Date().toISOString(), failure };
  } finally {
    await http.close();
  }
}
