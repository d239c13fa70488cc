import { Injectable } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { Bus } from '@openecm/messaging';

/**
 * Per (vault connection, identity) vault sessions, kept by token-cache (encrypted in Redis) so every
 * instance reuses them. Concurrent requests for one cold identity in this instance share one sign-in.
 */
@Injectable()
export class VaultSessionCache {
  private readonly ttlSeconds = loadConfig(vaultAdaptersConfig).VAULT_SESSION_TTL_SECONDS;
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly bus: Bus) {}

  async get(vault: string, identity: string, signIn: () => Promise<string>): Promise<string> {
    const cached = await this.bus.request('token.cache.get.v1', { vault, user: identity, slideTtlSeconds: this.ttlSeconds });
    if (cached.value) return cached.value;
    return this.signInOnce(vault, identity, signIn);
  }

  /** After the vault said the session is dead: sign in anew (once, shared) and store the new session. */
  renew(vault: string, identity: string, signIn: () => Promise<string>): Promise<string> {
    return this.signInOnce(vault, identity, signIn);
  }

  async forget(vault?: string): Promise<void> {
    await this.bus.request('token.cache.delete.v1', vault ? { vault } : {});
  }

  private signInOnce(vault: string, identity: string, signIn: () => Promise<string>): Promise<string> {
    const key = `${vault}\u0000${identity.toLowerCase()}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = (async () => {
        const session = await signIn();
        await this.bus.request('token.cache.put.v1', { vault, user: identity, value: session, ttlSeconds: this.ttlSeconds });
        return session;
      })().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}
