import { vaultTypeOf, vaultUrlField, type ReplyOf } from '@openecm/contracts';
import { VaultHttp, VaultTransportError } from '@openecm/vault-sdk';
import type { VaultConnection } from '../connections/connections.service';

/** Where a connection's vault answers: the URL its adapter starts from. */
export function vaultUrl(connection: VaultConnection): string {
  return vaultUrlField(connection).url;
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
    vault: vaultTypeOf(connection.type).title,
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
